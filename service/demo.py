"""The demo of `touchpoint run --demo`: a sample user whose calendar makes everything happen now.

The calendar is made relative to "now": a coffee within the hour (in the daytime of a working day;
started at night or on a weekend, at 09:00 the next working morning), whose prep note is sent at
once,
lunch on the next working day, a weekly 1:1 with the manager, a project review, and a mentoring
chat 70 days ago, so a career conversation is due and a proposal goes out. Notes and the proposal
go through the same code as the workers; emails land in the local outbox.

Loading twice adds nothing: the user and their calendar are reused, a note is sent once per
meeting, and a second proposal waits until the first is answered.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.account.login import create_login_token
from service.adapters import mail
from service.adapters.db import Database
from service.adapters.secrets import SecretBox
from service.calendars.zones import resolve_zone
from service.config import Settings
from service.engine.people import display_name
from service.models import Connection, PlannedNote, User
from service.notes import plan as notes_plan
from service.proposals import propose as proposing
from service.sources.connect import connect_ics_upload
from service.sources.sync import sync_connection

DOMAIN = "touchpoint.local"
DEMO_EMAIL = f"demo@{DOMAIN}"
MANAGER, CAROL, DAN, FRANK, GRACE = (
    f"{n}@{DOMAIN}" for n in ("bob", "carol", "dan", "frank", "grace")
)
CALENDAR_NAME = "demo-calendar.ics"
DEFAULT_ZONE = "Europe/Berlin"
GOAL = "Lead a project end to end within a year"
UTC_NAMES = frozenset({"UTC", "GMT", "Universal", "Zulu", "UCT", "Greenwich"})
# The coffee is within the hour only in the daytime; started at night, it is the next morning.
COFFEE_FROM, COFFEE_UNTIL, COFFEE = time(8), time(18), timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class Demo:
    """What loading the demo did, and the link that signs in as the demo user (works once)."""

    user_id: int
    created: bool
    notes_sent: int
    proposal: str  # proposing.SENT, or why there is none (ALREADY_OPEN on a second run)
    sign_in_link: str

    def summary(self) -> str:
        """Say in one line what the demo user got now."""
        made = "created" if self.created else "already there"
        notes = "1 prep note" if self.notes_sent == 1 else f"{self.notes_sent} prep notes"
        proposal = "a proposal" if self.proposal == proposing.SENT else "no new proposal"
        return f"{DEMO_EMAIL} {made}; {notes} and {proposal} sent to the outbox"


def load_demo(database: Database, settings: Settings, now: datetime) -> Demo:
    """Create (or reuse) the demo user and calendar, send what is due, and make a sign-in link."""
    with database.unit() as session:
        user, created = _demo_user(session, now)
        _demo_calendar(session, settings, user, now)
    with database.unit() as session:
        user = session.get_one(User, user.id)
        notes_plan.plan_notes(session, settings, user, now)
        _first_note_now(session, user, now)
        notes = notes_plan.send_due_notes(session, settings, user, now)
    with database.unit() as session:
        attempt = proposing.attempt(session, settings, session.get_one(User, user.id), now)
    proposals = [attempt.email.id] if attempt.email is not None else []
    for outbox_id in [*notes, *proposals]:
        mail.send_now(database, settings, outbox_id)
    return Demo(
        user.id, created, len(notes), attempt.reason, _sign_in_link(database, settings, now)
    )


def _first_note_now(session: Session, user: User, now: datetime) -> None:
    """Make the demo's first note due now, so one is in the outbox at once even at night."""
    query = select(PlannedNote).where(PlannedNote.user_id == user.id, PlannedNote.start > now)
    first = session.scalars(query.order_by(PlannedNote.start, PlannedNote.id).limit(1)).first()
    if first is not None and first.status == notes_plan.PLANNED:
        first.due_at = min(first.due_at, now)


def _demo_user(session: Session, now: datetime) -> tuple[User, bool]:
    found = session.scalars(select(User).where(User.email == DEMO_EMAIL)).first()
    if found is not None:
        return found, False
    user = User(
        email=DEMO_EMAIL,
        created_at=now,
        tz=machine_zone().key,
        stage="growth",
        goal=GOAL,
        manager_email=MANAGER,
    )
    session.add(user)
    session.flush()
    return user, True


def _demo_calendar(session: Session, settings: Settings, user: User, now: datetime) -> None:
    """Upload the demo calendar the first time; later, only refresh its recurring meetings."""
    query = select(Connection).where(
        Connection.user_id == user.id, Connection.label == CALENDAR_NAME
    )
    connection = session.scalars(query).first()
    if connection is None:
        data = demo_calendar(now, resolve_zone(user.tz) or ZoneInfo(DEFAULT_ZONE))
        connect_ics_upload(session, settings, user, CALENDAR_NAME, data, now)
    else:
        sync_connection(session, settings, SecretBox(settings.encryption_keys), connection, now)


def _sign_in_link(database: Database, settings: Settings, now: datetime) -> str:
    with database.unit() as session:
        token, secret = create_login_token(session, DEMO_EMAIL, "/", now)
    return f"{settings.base_url}/signin/{token.id}.{secret}"


def machine_zone(localtime: Path = Path("/etc/localtime")) -> ZoneInfo:
    """Return this machine's named time zone, or Europe/Berlin when it has none (UTC, unknown)."""
    name = ""
    try:
        name = os.readlink(localtime).partition("zoneinfo/")[2]
    except OSError:  # not a link: some systems copy the zone file and name it here
        timezone = localtime.parent / "timezone"
        name = timezone.read_text().strip() if timezone.is_file() else ""
    zone = resolve_zone(name) if name else None
    if zone is None or zone.key.startswith("Etc/") or zone.key in UTC_NAMES:
        return ZoneInfo(DEFAULT_ZONE)
    return zone


# The calendar --------------------------------------------------------------------------------


def demo_calendar(now: datetime, zone: ZoneInfo) -> bytes:
    """Return an iCalendar file whose meetings sit around now, in the given zone."""
    local = now.astimezone(zone)
    lunch_day = next_working_day(local.date())
    one_on_one_day = next_working_day(lunch_day)
    review_day = next_working_day(one_on_one_day)
    coffee = coffee_time(local)
    events = [
        _event("coffee", "Coffee with Dan", coffee, COFFEE.seconds // 60, [DAN]),
        _event("lunch", "Lunch with Carol", _at(lunch_day, 12, zone), 60, [CAROL]),
        _event(
            "one-on-one",
            "1:1 Demo / Bob",
            _at(one_on_one_day - timedelta(weeks=8), 10, zone),
            30,
            [MANAGER],
            organizer=MANAGER,
            weekly=True,
        ),
        _event(
            "review", "Atlas project review", _at(review_day, 15, zone), 45, [CAROL, DAN, FRANK]
        ),
        _event(
            "mentoring",
            "Mentoring with Grace",
            _at(local.date() - timedelta(days=70), 16, zone),
            30,
            [GRACE],
            organizer=GRACE,
        ),
    ]
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Touchpoint//Demo calendar//EN"]
    lines += [f"X-WR-CALNAME:{DEMO_EMAIL}", f"X-WR-TIMEZONE:{zone.key}"]
    lines += [line for event in events for line in event] + ["END:VCALENDAR"]
    return ("\r\n".join(lines) + "\r\n").encode()


def coffee_time(local: datetime) -> datetime:
    """Return when the demo's coffee starts: within the hour in the daytime of a working day,
    else at 09:00 on the next working morning, never at night or on a weekend."""
    soon = _ceil_to_five_minutes(local + timedelta(minutes=40))
    closing = datetime.combine(soon.date(), COFFEE_UNTIL, local.tzinfo)
    if soon.weekday() < 5 and soon.time() >= COFFEE_FROM and soon + COFFEE <= closing:
        return soon
    day = local.date()
    if day.weekday() >= 5 or local.time() >= COFFEE_FROM:
        day = next_working_day(day)
    return datetime.combine(day, time(9), local.tzinfo)


def next_working_day(day: date) -> date:
    """Return the first Monday-to-Friday day after day."""
    following = day + timedelta(days=1)
    while following.weekday() >= 5:
        following += timedelta(days=1)
    return following


def _event(
    name: str,
    title: str,
    start: datetime,
    minutes: int,
    others: list[str],
    *,
    organizer: str = DEMO_EMAIL,
    weekly: bool = False,
) -> list[str]:
    zone = str(start.tzinfo)
    end = start + timedelta(minutes=minutes)
    people = [DEMO_EMAIL, *others]
    return [
        "BEGIN:VEVENT",
        f"UID:demo-{name}@{DOMAIN}",
        f"DTSTAMP:{datetime(2026, 1, 1, tzinfo=UTC):%Y%m%dT%H%M%SZ}",
        f"DTSTART;TZID={zone}:{start:%Y%m%dT%H%M%S}",
        f"DTEND;TZID={zone}:{end:%Y%m%dT%H%M%S}",
        f"SUMMARY:{title}",
        f"ORGANIZER;CN={display_name(organizer)}:mailto:{organizer}",
        *(f"ATTENDEE;CN={display_name(p)};PARTSTAT=ACCEPTED:mailto:{p}" for p in people),
        *(["RRULE:FREQ=WEEKLY"] if weekly else []),
        "END:VEVENT",
    ]


def _at(day: date, hour: int, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(hour), zone)


def _ceil_to_five_minutes(moment: datetime) -> datetime:
    rounded = moment.replace(second=0, microsecond=0)
    return rounded + timedelta(minutes=-rounded.minute % 5)
