"""The prep note and morning digest emails, and the signed links they carry.

Every such email has a one-click unsubscribe (prep notes only: email_notes off) and a snooze link
(a week's pause); both are signed links that work without signing in.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from service.adapters import mail
from service.adapters.links import Purpose, stamp, user_token
from service.config import Settings
from service.engine import dates
from service.engine.i18n import language
from service.models import OutboxEmail, PlannedNote, User

SNOOZE = timedelta(days=7)
# A link of one kind never works as another; neither expires (they act on the account as it is).
UNSUBSCRIBE_LINK = Purpose("notes-unsubscribe")
SNOOZE_LINK = Purpose("notes-snooze")


# The emails ------------------------------------------------------------------------------------


def queue_prep_note(
    session: Session, settings: Settings, user: User, row: PlannedNote
) -> OutboxEmail:
    """Queue one note's email, under a Message-ID that exists once per note."""
    zone = user.zone
    with language(user.language):
        context = {**_item(row, zone), "tz": zone.key, **links(settings, user)}
        return _queue(session, settings, user, "prep_note", context, f"{row.id}-{_stamp(row)}")


def queue_digest(
    session: Session, settings: Settings, user: User, rows: Sequence[PlannedNote], day: date
) -> OutboxEmail:
    """Queue the morning digest listing the day's touchpoints with their notes."""
    zone, key = user.zone, f"{stamp(user.created_at)}.{day.isoformat()}"
    with language(user.language):
        context = {"day": dates.short_date(day), "items": [_item(r, zone) for r in rows]}
        context |= {"tz": zone.key, **links(settings, user)}
        return _queue(session, settings, user, "digest", context, key)


def _queue(
    session: Session, settings: Settings, user: User, kind: str, context: dict[str, Any], key: str
) -> OutboxEmail:
    return mail.queue_to(
        session,
        settings,
        user,
        kind,
        context,
        unsubscribe=context["unsubscribe_url"],
        message_id=f"<{kind}.{user.id}.{key}@{mail.domain(settings)}>",
    )


def _item(row: PlannedNote, zone: ZoneInfo) -> dict[str, Any]:
    local = row.start.astimezone(zone)
    return {
        "subject": row.subject,
        "title": row.title,
        "when": dates.moment(local),
        "time": f"{local:%H:%M}",
        "lines": [line for line in row.text.splitlines() if line.strip()],
    }


def _stamp(row: PlannedNote) -> int:
    # Ids can come back after a deletion (SQLite): the creation time keeps the key unique.
    return stamp(row.created_at)


# Links: unsubscribe from prep notes, snooze a week ----------------------------------------------


def links(settings: Settings, user: User) -> dict[str, str]:
    """Return the signed unsubscribe and snooze links every note email carries."""
    base, key = settings.base_url, settings.secret_key
    return {
        "unsubscribe_url": f"{base}/notes/unsubscribe/{token(key, user, UNSUBSCRIBE_LINK)}",
        "snooze_url": f"{base}/notes/snooze/{token(key, user, SNOOZE_LINK)}",
        "dashboard_url": f"{base}/",
    }


def token(secret_key: str, user: User, purpose: Purpose) -> str:
    """Return the signed token that lets this user's link do one thing."""
    return user_token(purpose, secret_key, user)


def unsubscribe(user: User) -> None:
    """Stop prep note emails (proposals are not affected); the caller commits."""
    user.email_notes = False


def snooze(user: User, now: datetime) -> datetime:
    """Pause notes and proposals for a week (a longer pause stays); the caller commits."""
    if user.paused_until is None or user.paused_until < now + SNOOZE:
        user.paused_until = now + SNOOZE
    return user.paused_until
