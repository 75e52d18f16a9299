"""How long Touchpoint keeps what it stores, and the purge that deletes what is past it.

Calendar data is kept only as long as it serves the user: 400 days of occurrences (a year of
career conversations for the cadence, with room to spare), prep notes for a month after their
meeting, sign-in and OAuth secrets and signed-in sessions until they can no longer be used, sent
emails for 90 days.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Delete, and_, delete, or_
from sqlalchemy.orm import Session

from service.models import (
    LoginToken,
    OAuthState,
    OutboxEmail,
    PlannedNote,
    SignInSession,
    StoredOccurrence,
)

OCCURRENCES = timedelta(days=400)
PLANNED_NOTES = timedelta(days=30)  # after the meeting's start
OAUTH_STATES = timedelta(hours=1)  # a round trip to Google takes minutes
EMAILS = timedelta(days=90)  # after sending; unsent ones as long after they were queued


def purge(session: Session, now: datetime) -> dict[str, int]:
    """Delete every row past its retention window (the caller commits); return counts by kind."""
    return {kind: _delete(session, statement) for kind, statement in _expired(now).items()}


def _expired(now: datetime) -> dict[str, Delete]:
    # Planned notes go before the emails they point to (their outbox_id would be set NULL).
    return {
        "occurrences": delete(StoredOccurrence).where(StoredOccurrence.end < now - OCCURRENCES),
        "planned_notes": delete(PlannedNote).where(PlannedNote.start < now - PLANNED_NOTES),
        "login_tokens": delete(LoginToken).where(
            or_(LoginToken.used_at.is_not(None), LoginToken.expires_at < now)
        ),
        "oauth_states": delete(OAuthState).where(OAuthState.created_at < now - OAUTH_STATES),
        "sessions": delete(SignInSession).where(SignInSession.expires_at <= now),
        "emails": delete(OutboxEmail).where(
            or_(
                OutboxEmail.sent_at < now - EMAILS,
                # Never sent and long given up on (the sender stops after two days).
                and_(OutboxEmail.sent_at.is_(None), OutboxEmail.created_at < now - EMAILS),
            )
        ),
    }


def _delete(session: Session, statement: Delete) -> int:
    return session.connection().execute(statement).rowcount
