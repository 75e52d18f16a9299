"""The purge: what is past its retention window goes, everything else stays."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from service.account.retention import purge
from service.adapters.db import Database
from service.models import (
    Connection,
    LoginToken,
    OAuthState,
    OutboxEmail,
    PlannedNote,
    SignInSession,
    StoredOccurrence,
    User,
)
from tests.factories import ALICE, NOW

MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)


def occurrence(connection: Connection, label: str, end: datetime) -> StoredOccurrence:
    start = end - timedelta(hours=1)
    return StoredOccurrence(
        user_id=connection.user_id, connection_id=connection.id, uid=label, start=start, end=end
    )


def note(user: User, label: str, start: datetime, outbox_id: int | None = None) -> PlannedNote:
    return PlannedNote(user_id=user.id, uid=label, start=start, due_at=start, outbox_id=outbox_id)


def email(label: str, created: datetime, sent: datetime | None = None) -> OutboxEmail:
    return OutboxEmail(
        kind="prep_note",
        to=ALICE,
        subject=label,
        text=label,
        message_id=f"<{label}@localhost>",
        created_at=created,
        sent_at=sent,
    )


def token(label: str, expires: datetime, used: datetime | None = None) -> LoginToken:
    return LoginToken(email=ALICE, secret_hash=label, expires_at=expires, used_at=used)


def state(label: str, created: datetime) -> OAuthState:
    return OAuthState(state=label, purpose="signin", code_verifier="v", created_at=created)


def signed_in(user: User, label: str, expires: datetime) -> SignInSession:
    return SignInSession(user_id=user.id, secret_hash=label, created_at=NOW, expires_at=expires)


def store(database: Database) -> None:
    """Store one row just past and one just inside each retention window, named by fate."""
    with database.unit() as session:
        user = User(email=ALICE)
        session.add(user)
        session.flush()
        calendar = Connection(user_id=user.id, kind="ics_upload")
        session.add(calendar)
        session.flush()
        kept_email = email("kept-sent-89-days-ago", NOW - 89 * DAY, sent=NOW - 89 * DAY)
        gone_email = email("gone-sent-91-days-ago", NOW - 91 * DAY, sent=NOW - 91 * DAY)
        rows: list[Any] = [
            occurrence(calendar, "gone-ended-400-days-ago", NOW - 400 * DAY - MINUTE),
            occurrence(calendar, "kept-ended-399-days-ago", NOW - 400 * DAY + MINUTE),
            note(user, "gone-started-30-days-ago", NOW - 30 * DAY - MINUTE),
            note(user, "kept-started-29-days-ago", NOW - 30 * DAY + MINUTE),
            token("gone-used", NOW + 10 * MINUTE, used=NOW - MINUTE),
            token("gone-expired", NOW - MINUTE),
            token("kept-unused-and-valid", NOW + MINUTE),
            state("gone-61-minutes-old", NOW - 61 * MINUTE),
            state("kept-59-minutes-old", NOW - 59 * MINUTE),
            kept_email,
            gone_email,
            email("gone-never-sent-91-days-ago", NOW - 91 * DAY),
            email("kept-not-sent-yet", NOW - DAY),
            signed_in(user, "gone-expired-a-minute-ago", NOW - MINUTE),
            signed_in(user, "kept-valid-another-minute", NOW + MINUTE),
        ]
        session.add_all(rows)
        session.flush()
        session.add(note(user, "kept-pointing-to-a-gone-email", NOW, gone_email.id))


def labels(database: Database, column: Any) -> set[str]:
    with database.unit() as session:
        return set(session.scalars(select(column)))


def test_the_purge_deletes_exactly_what_is_past_retention(database: Database) -> None:
    store(database)

    with database.unit() as session:
        counts = purge(session, NOW)

    assert counts == {
        "occurrences": 1,
        "planned_notes": 1,
        "login_tokens": 2,
        "oauth_states": 1,
        "sessions": 1,
        "emails": 2,
    }
    kept = {
        *labels(database, StoredOccurrence.uid),
        *labels(database, PlannedNote.uid),
        *labels(database, LoginToken.secret_hash),
        *labels(database, OAuthState.state),
        *labels(database, OutboxEmail.subject),
        *labels(database, SignInSession.secret_hash),
    }
    assert kept == {
        "kept-ended-399-days-ago",
        "kept-started-29-days-ago",
        "kept-unused-and-valid",
        "kept-59-minutes-old",
        "kept-sent-89-days-ago",
        "kept-not-sent-yet",
        "kept-pointing-to-a-gone-email",
        "kept-valid-another-minute",
    }


def test_a_note_whose_email_was_purged_is_kept_without_it(database: Database) -> None:
    store(database)

    with database.unit() as session:
        purge(session, NOW)

    with database.unit() as session:
        query = select(PlannedNote.outbox_id).where(PlannedNote.uid.startswith("kept-pointing"))
        assert session.scalars(query).one() is None


def test_purging_twice_deletes_nothing_more(database: Database) -> None:
    store(database)

    with database.unit() as session:
        purge(session, NOW)
    with database.unit() as session:
        assert set(purge(session, NOW).values()) == {0}
