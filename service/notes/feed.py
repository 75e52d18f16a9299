"""Prep notes on the user's calendar: Touchpoint's own Google calendar, or a secret .ics feed.

Google: only in a calendar the app creates for itself (calendar.app.created), never the user's
own events. Each note is one event there, under an id derived from the note, so a retry after a
crash finds the event instead of making a second one. What was last written is recorded on the
row as "<event id>#<version>" (a hash of the event), so a run with nothing changed costs no call.

ICS: a feed any calendar app can subscribe to, at a secret address (a signed user id and feed
version: bumping the version retires the old address). Both show a note as a zero-length event
at the time to read it (lead minutes before the meeting), its title the note's subject.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import icalendar
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.adapters.google import (
    APP_CALENDARS,
    NotFound,
    delete_event,
    ensure_app_calendar,
    event_id_for,
    insert_event,
    patch_event,
)
from service.adapters.google.client import Event, Service
from service.adapters.links import LinkInvalid, Purpose, read_user_token, stamp, user_token
from service.adapters.secrets import SecretBox
from service.config import Settings
from service.engine.i18n import N_, gettext, translations
from service.models import Connection, PlannedNote, Proposal, User
from service.models.proposals import ACCEPTED, chosen_slot
from service.notes.plan import CANCELLED
from service.proposals.book import Chat, description, google_connection, invite_uid
from service.sources.google import calendar_service

APP_CALENDAR_NAME = N_("Touchpoint prep notes")
FEED_LINK = Purpose("feed")  # no expiry: a calendar app polls it for as long as it is kept
FEED_NAME = N_("Touchpoint: prep notes and career chats")
FEED_PAST = timedelta(days=30)  # how far back the feed still lists notes and chats
PRODID = "-//Touchpoint//Prep notes//EN"
Body = dict[str, Any]  # a Google event resource


@dataclass(frozen=True, slots=True)
class CalendarChange:
    """What one run did to the notes on Google: events written (inserted or changed), removed."""

    written: int = 0
    removed: int = 0


def sync_calendar_notes(
    session: Session, settings: Settings, box: SecretBox, user: User, now: datetime
) -> CalendarChange:
    """Bring the notes in the app's Google calendar up to date; the caller commits.

    A newly made app calendar is committed at once, so a failure later in the run cannot leave
    it orphaned (the retry would make another). Google errors are raised; a retry is safe.
    """
    connection = google_connection(session, user)
    if connection is None or APP_CALENDARS not in connection.scopes.split():
        return CalendarChange()
    rows = _upcoming(session, user.id, now)
    work = _work(user, rows)
    if not work:
        return CalendarChange()
    service = calendar_service(settings, box, connection)
    writes = any(body is not None for _row, body in work)
    if writes and _new_app_calendar(session, service, connection, user, rows):
        work = _work(user, rows)
    for row, body in work:
        if body is None:
            _remove(service, connection.app_calendar_id, row)
        else:
            _write(service, connection.app_calendar_id, row, body)
    removed = sum(1 for _row, body in work if body is None)
    return CalendarChange(written=len(work) - removed, removed=removed)


def _work(user: User, rows: Sequence[PlannedNote]) -> list[tuple[PlannedNote, Body | None]]:
    """Return the notes whose event is not as it should be, each with the event it should be."""
    wanted = [(row, _body(user, row)) for row in rows]
    return [(row, body) for row, body in wanted if _recorded(row) != _expected(row, body)]


def _upcoming(session: Session, user_id: int, now: datetime) -> Sequence[PlannedNote]:
    query = select(PlannedNote).where(PlannedNote.user_id == user_id, PlannedNote.start >= now)
    return session.scalars(query.order_by(PlannedNote.start, PlannedNote.id)).all()


def _body(user: User, row: PlannedNote) -> Body | None:
    """Return the event a note should be, or None when it should not be on the calendar."""
    if not user.calendar_notes or row.status == CANCELLED:
        return None
    at = {"dateTime": read_at(user, row).isoformat(), "timeZone": user.zone.key}
    return {
        "summary": row.subject,
        "description": row.text,
        "start": at,
        "end": at,
        "transparency": "transparent",  # a note never makes the user look busy
        "reminders": {"useDefault": False, "overrides": [{"method": "popup", "minutes": 0}]},
    }


def read_at(user: User, row: PlannedNote) -> datetime:
    """Return when to read a note: the user's lead time before the meeting."""
    return row.start - timedelta(minutes=user.lead_minutes)


def _recorded(row: PlannedNote) -> tuple[str, str]:
    event_id, _, version = row.calendar_event_id.partition("#")
    return event_id, version


def _expected(row: PlannedNote, body: Body | None) -> tuple[str, str]:
    if body is None:
        return "", ""
    return note_event_id(row), _version(body)


def _version(body: Body) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]


def note_event_id(row: PlannedNote) -> str:
    """Return the Google event id of one note (the same on every try)."""
    return event_id_for(f"note:{row.id}:{stamp(row.created_at)}")


def _new_app_calendar(
    session: Session,
    service: Service,
    connection: Connection,
    user: User,
    rows: Sequence[PlannedNote],
) -> bool:
    """Make sure the app's calendar exists; True (committed) when it is a new one."""
    calendar_id = ensure_app_calendar(
        service,
        translations(user.language).gettext(APP_CALENDAR_NAME),
        known_id=connection.app_calendar_id or None,
        time_zone=user.zone.key,
    )
    if calendar_id == connection.app_calendar_id:
        return False
    connection.app_calendar_id = calendar_id
    for row in rows:  # events recorded elsewhere went with a calendar the user deleted
        row.calendar_event_id = ""
    session.commit()
    return True


def _write(service: Service, calendar_id: str, row: PlannedNote, body: Body) -> None:
    if calendar_id in ("", "primary"):  # the user's own calendar is never written to
        raise ValueError("prep notes go only in the calendar Touchpoint created")
    event_id, written_before = note_event_id(row), bool(_recorded(row)[0])
    row.calendar_event_id = f"{event_id}#{_version(body)}"  # rolled back if this raises
    if written_before:
        with suppress(NotFound):  # gone for good: made again below
            patch_event(service, calendar_id, event_id, body)
            return
    event = insert_event(service, calendar_id, event_id, body, send_updates="none")
    if _differs(event, body):  # made by a try that crashed before recording it
        patch_event(service, calendar_id, event_id, {**body, "status": "confirmed"})


def _differs(event: Event, body: Body) -> bool:
    fields = ("summary", "description")
    return event.get("status") == "cancelled" or any(event.get(f) != body[f] for f in fields)


def _remove(service: Service, calendar_id: str, row: PlannedNote) -> None:
    if calendar_id not in ("", "primary"):
        delete_event(service, calendar_id, _recorded(row)[0])
    row.calendar_event_id = ""


# The published feed ----------------------------------------------------------------------------


def feed_url(settings: Settings, user: User) -> str:
    """Return the secret address of the user's feed (give it to a calendar app)."""
    return f"{settings.base_url}/feed/{feed_token(settings.secret_key, user)}.ics"


def feed_token(secret_key: str, user: User) -> str:
    """Return the signed token of the user's current feed address."""
    return user_token(FEED_LINK, secret_key, user, v=user.feed_version)


def user_from_feed_token(session: Session, secret_key: str, token: str) -> User | None:
    """Return the user whose current feed this is, or None (forged, or a retired address)."""
    try:
        user, claims = read_user_token(FEED_LINK, session, secret_key, token)
    except LinkInvalid:
        return None
    return user if feed_on(user) and claims.get("v") == user.feed_version else None


def feed_on(user: User) -> bool:
    """Tell whether the user's feed answers (it is off once they turned it off)."""
    return user.feed_version > 0


def retire_feed(user: User) -> None:
    """Give the feed a new address, on; every earlier one stops working. The caller commits."""
    user.feed_version = abs(user.feed_version) + 1


def turn_off_feed(user: User) -> None:
    """Stop the feed answering at any address (a version never reused). The caller commits."""
    user.feed_version = -abs(user.feed_version)


def feed_ics(session: Session, settings: Settings, user: User, now: datetime) -> bytes:
    """Return the user's prep notes and booked chats as an iCalendar feed."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", gettext(FEED_NAME))
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("method", "PUBLISH")
    calendar.add("x-published-ttl", "PT1H")  # a plain value: an X- property has no known type
    for row in _feed_notes(session, user.id, now):
        calendar.add_component(_note_event(settings, user, row))
    for proposal in _booked(session, user.id, now):
        if (event := _chat_event(settings, user, proposal, now)) is not None:
            calendar.add_component(event)
    return bytes(calendar.to_ical())


def _feed_notes(session: Session, user_id: int, now: datetime) -> Sequence[PlannedNote]:
    query = select(PlannedNote).where(
        PlannedNote.user_id == user_id,
        PlannedNote.status != CANCELLED,
        PlannedNote.start >= now - FEED_PAST,
    )
    return session.scalars(query.order_by(PlannedNote.start, PlannedNote.id)).all()


def _note_event(settings: Settings, user: User, row: PlannedNote) -> icalendar.Event:
    domain = urlsplit(settings.base_url).hostname or "localhost"
    at = read_at(user, row).astimezone(UTC)
    event = icalendar.Event()
    event.add("uid", f"note-{note_event_id(row)}@{domain}")
    event.add("dtstamp", row.updated_at.astimezone(UTC))
    event.add("dtstart", at)
    event.add("dtend", at)
    event.add("summary", row.subject)  # icalendar escapes every text value
    event.add("description", row.text)
    event.add("transp", "TRANSPARENT")
    return event


def _booked(session: Session, user_id: int, now: datetime) -> Sequence[Proposal]:
    query = select(Proposal).where(
        Proposal.user_id == user_id,
        Proposal.status == ACCEPTED,
        Proposal.booked_at.is_not(None),
        Proposal.chosen_start >= now - FEED_PAST,
    )
    return session.scalars(query.order_by(Proposal.chosen_start, Proposal.id)).all()


def _chat_event(
    settings: Settings, user: User, proposal: Proposal, now: datetime
) -> icalendar.Event | None:
    slot = chosen_slot(proposal)
    if slot is None:
        return None
    chat = Chat(settings, proposal, user, slot, now)
    event = icalendar.Event()
    event.add("uid", invite_uid(settings, proposal))  # the same event as the emailed invite
    event.add("dtstamp", (proposal.booked_at or now).astimezone(UTC))
    event.add("dtstart", slot[0].astimezone(UTC))
    event.add("dtend", slot[1].astimezone(UTC))
    event.add("summary", chat.summary)
    event.add("description", description(chat, shared=False))
    event.add("transp", "OPAQUE")
    return event
