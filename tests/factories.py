"""Fixed personas and builders for tests: alice is the user, bob her manager, carol a peer.

Builders of values first (profiles, meetings, event bodies), then of rows in a test's database
(users with a calendar, proposals, connections, queued emails) and the few readers tests share.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from service.adapters import google, mail
from service.adapters.db import Database
from service.adapters.google import CALENDAR_SCOPES, SIGN_IN_SCOPES
from service.adapters.mail_delivery import deliver
from service.adapters.secrets import SecretBox
from service.config import Settings
from service.engine.model import Attendee, Occurrence, Profile
from service.models import (
    Connection,
    Mark,
    OutboxEmail,
    PlannedNote,
    Proposal,
    StoredOccurrence,
    User,
)
from service.notes.plan import PlanChange, plan_notes
from service.proposals.book import BookingResult, book
from service.sources.calendar import store_occurrences, sync_span
from service.sources.connect import masked_label
from service.sources.google import save_connection
from tests.google_server import CALENDAR_SCOPES as FAKE_GOOGLE_SCOPES
from tests.google_server import FakeGoogle

T = TypeVar("T")

BERLIN = ZoneInfo("Europe/Berlin")
ALICE = "alice@example.com"
BOB = "bob@example.com"  # alice's manager
CAROL = "carol@example.com"  # a peer on alice's team
DAN = "dan@example.com"  # another colleague, cross-team
ERIN = "erin@partner.org"  # someone outside the company

# Frozen "now": Monday 2026-03-02 08:00 in Berlin.
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=BERLIN)


def alice(**changes: object) -> Profile:
    """Return alice's profile, with any field changed."""
    fields: dict[str, object] = {"me": ALICE, "tz": BERLIN, "manager": BOB}
    fields.update(changes)
    return Profile(**fields)  # type: ignore[arg-type]


def person(email: str, status: str = "accepted", cutype: str = "individual") -> Attendee:
    return Attendee(email=email, name=email.split("@")[0].title(), status=status, cutype=cutype)


def meeting(
    title: str,
    start: datetime | date,
    minutes: int = 30,
    with_: tuple[str, ...] = (BOB,),
    *,
    uid: str | None = None,
    organizer: str = ALICE,
    my_response: str | None = "accepted",
    **changes: object,
) -> Occurrence:
    """Return an occurrence alice attends with the given people (she is always listed)."""
    if isinstance(start, datetime):
        end: datetime | date = start + timedelta(minutes=minutes)
        all_day = False
    else:
        end, all_day = start + timedelta(days=1), True
    attendees = (person(ALICE, my_response or "needs-action"), *(person(e) for e in with_))
    fields: dict[str, object] = {
        "uid": uid or f"{title}-{start.isoformat()}@test",
        "start": start,
        "end": end,
        "title": title,
        "all_day": all_day,
        "organizer": organizer,
        "attendees": attendees,
        "my_response": my_response,
    }
    fields.update(changes)
    return Occurrence(**fields)  # type: ignore[arg-type]


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    """Return a Berlin time in 2026 (March by default)."""
    return datetime(2026, month, day, hour, minute, tzinfo=BERLIN)


def lunch_with_carol(start: datetime) -> Occurrence:
    """An hour's lunch with carol, under one UID wherever it moves."""
    return meeting("Lunch with Carol", start, 60, with_=(CAROL,), uid="lunch-carol@test")


def google_lunch(title: str = "Lunch with Bob", day: int = 3, **fields: Any) -> dict[str, Any]:
    """An event body in the Calendar API's format: an hour at noon in March, with bob."""
    start = at(day, 12)
    return {
        "summary": title,
        "start": {"dateTime": start.isoformat(), "timeZone": "Europe/Berlin"},
        "end": {"dateTime": (start + timedelta(hours=1)).isoformat()},
        "attendees": [{"email": ALICE, "self": True}, {"email": BOB}],
        **fields,
    }


def calendar_client(fake: FakeGoogle, email: str = ALICE, scopes: Any = FAKE_GOOGLE_SCOPES) -> Any:
    """Return a Calendar client for someone who connected earlier (a stored refresh token)."""
    credentials = google.credentials_from_refresh_token(
        fake.grant(email, scopes),
        client_id=fake.client_id,
        client_secret=fake.client_secret,
        token_uri=fake.token_uri,
        scopes=scopes,
    )
    return google.build_calendar_service(credentials, endpoint=fake.api_endpoint)


# Rows in the database ------------------------------------------------------------------------

# 4 March 2037 is a Wednesday; Berlin is on winter time (UTC+1).
CHAT_START = datetime(2037, 3, 4, 13, 5, tzinfo=BERLIN)
REASON = "Carol works on another team and can show you where you could move."
ACCEPTED = {
    "partner": CAROL,
    "reason": REASON,
    "slots": [
        [s.isoformat(), (s + timedelta(minutes=15)).isoformat()]
        for s in (CHAT_START, CHAT_START + timedelta(days=1))
    ],
    "status": "accepted",
    "chosen_start": CHAT_START,
    "expires_at": CHAT_START,
}
GOOGLE_GRANT = {*SIGN_IN_SCOPES, *CALENDAR_SCOPES}


def accepted_chat(user_id: int, start: datetime, **changes: Any) -> Proposal:
    """A chat with carol the user accepted for start (15 minutes): a row to add to a session."""
    end = start + timedelta(minutes=15)
    fields: dict[str, Any] = {
        "user_id": user_id,
        "partner": CAROL,
        "slots": [[start.astimezone(UTC).isoformat(), end.astimezone(UTC).isoformat()]],
        "status": "accepted",
        "chosen_start": start,
        "expires_at": start,
    }
    return Proposal(**(fields | changes))


def add_user(
    database: Database,
    occurrences: Sequence[Occurrence] = (),
    *,
    email: str = ALICE,
    synced: datetime = NOW,
    google: tuple[SecretBox, str] | None = None,
    scopes: set[str] = GOOGLE_GRANT,
    meals: bool = False,
    **changes: Any,
) -> int:
    """Store a user in Berlin (manager bob) whose calendar holds these occurrences; its id.

    The calendar is an uploaded file, or a Google Calendar when google=(box, refresh token)
    (granted these scopes);
    it was synced at `synced`. meals=True marks each occurrence a meal, as she could.
    """
    with database.unit() as session:
        user = User(**({"email": email, "tz": "Europe/Berlin", "manager_email": BOB} | changes))
        session.add(user)
        session.flush()
        if google:
            box, token = google
            connection = save_connection(session, box, user, email, token, scopes)
        else:
            connection = Connection(user_id=user.id, kind="ics_upload", label="work.ics")
            session.add(connection)
            session.flush()
        store_occurrences(session, connection, list(occurrences), *sync_span(synced))
        if meals:
            session.add_all(Mark(user_id=user.id, uid=o.uid, kind="meal") for o in occurrences)
        return user.id


def resync(
    database: Database, user_id: int, occurrences: Sequence[Occurrence], synced: datetime = NOW
) -> None:
    """Replace what the user's calendar holds, as a sync does."""
    with database.unit() as session:
        connection = session.scalars(select(Connection).where(Connection.user_id == user_id)).one()
        store_occurrences(session, connection, list(occurrences), *sync_span(synced))


def plan(database: Database, settings: Settings, user_id: int, now: datetime = NOW) -> PlanChange:
    """Plan the user's prep notes as the notes job does, committing at the end."""
    with database.unit() as session:
        return plan_notes(session, settings, session.get_one(User, user_id), now)


def note_statuses(database: Database) -> list[str]:
    with database.unit() as session:
        return list(session.scalars(select(PlannedNote.status).order_by(PlannedNote.id)))


def add_accepted_proposal(database: Database, **changes: Any) -> int:
    """Store alice (Berlin) with a proposal she accepted for its first time; return its id."""
    with database.unit() as session:
        user = User(email=ALICE, tz="Europe/Berlin")
        session.add(user)
        session.flush()
        answered = {"user_id": user.id, "answered_at": datetime.now(UTC)}
        proposal = Proposal(**(ACCEPTED | answered | changes))
        session.add(proposal)
        session.flush()
        return proposal.id


def stored_proposal(database: Database, proposal_id: int) -> Proposal:
    with database.unit() as session:
        return session.get_one(Proposal, proposal_id)


def book_proposal(
    database: Database, settings: Settings, box: SecretBox, proposal_id: int
) -> BookingResult:
    """Book as the job does, committing at the end."""
    with database.unit() as session:
        proposal = session.get_one(Proposal, proposal_id)
        return book(session, settings, box, proposal, datetime.now(UTC))


def connect_google(
    database: Database, box: SecretBox, google_server: FakeGoogle, scopes: set[str] = GOOGLE_GRANT
) -> str:
    """Connect alice's Google Calendar; return the refresh token Google gave."""
    token = google_server.grant(ALICE, scopes)
    with database.unit() as session:
        user = session.scalars(select(User).where(User.email == ALICE)).one()
        save_connection(session, box, user, ALICE, token, scopes)
    return token


def add_feed(database: Database, box: SecretBox, user_id: int, url: str) -> int:
    """A calendar address the user connected, not synced by a worker yet; its connection's id."""
    with database.unit() as session:
        row = Connection(
            user_id=user_id, kind="ics_url", label=masked_label(url), secret=box.seal(url)
        )
        session.add(row)
        session.flush()
        return row.id


def stored_connection(database: Database, connection_id: int) -> Connection:
    with database.unit() as session:
        return session.get_one(Connection, connection_id)


def time_passes(database: Database, connection_id: int, **earlier: timedelta) -> None:
    """Make the next sync due now, and move the given times (e.g. synced_at) back."""
    with database.unit() as session:
        connection = session.get_one(Connection, connection_id)
        connection.next_sync_at = datetime.now(UTC) - timedelta(seconds=1)
        for name, ago in earlier.items():
            setattr(connection, name, getattr(connection, name) - ago)


def stored_occurrences(database: Database) -> list[tuple[int, str]]:
    """The id and title of each stored occurrence, oldest row first."""
    with database.unit() as session:
        query = select(StoredOccurrence.id, StoredOccurrence.title).order_by(StoredOccurrence.id)
        return [(row.id, row.title) for row in session.execute(query)]


def stored_event_times(database: Database) -> list[tuple[str, datetime]]:
    """The uid and start of each stored occurrence, by uid then start."""
    with database.unit() as session:
        query = select(StoredOccurrence).order_by(StoredOccurrence.uid, StoredOccurrence.start)
        return [(row.uid, row.start) for row in session.scalars(query)]


def queued_email(database: Database, settings: Settings, **changes: Any) -> int:
    """Queue a sign-in email to alice (with any column changed) and commit; return its id."""
    with database.unit() as session:
        row = mail.queue_magic_link(session, settings, ALICE, "http://localhost/signin/7.s3cret")
        for name, value in changes.items():
            setattr(row, name, value)
    return row.id


def stored_email(database: Database, outbox_id: int) -> OutboxEmail:
    with database.unit() as session:
        return session.get_one(OutboxEmail, outbox_id)


def send_outbox(database: Database, settings: Settings) -> None:
    """Deliver every email not sent yet, as the sender job would."""
    with database.unit() as session:
        ids = list(session.scalars(select(OutboxEmail.id).where(OutboxEmail.sent_at.is_(None))))
    for outbox_id in ids:
        deliver(database, outbox_id, settings, datetime.now(UTC))


def outbox_count(database: Database) -> int:
    with database.unit() as session:
        return session.scalar(select(func.count(OutboxEmail.id))) or 0


# Things at once ------------------------------------------------------------------------------


def race(action: Callable[[], T], runners: int = 2) -> list[T]:
    """Run action in this many threads released at the same moment; what each returned."""
    start = threading.Barrier(runners)
    results: list[T] = []

    def runner() -> None:
        start.wait()
        results.append(action())

    threads = [threading.Thread(target=runner) for _ in range(runners)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results
