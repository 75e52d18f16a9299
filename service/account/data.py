"""Own the data: export everything a user has here (JSON and iCalendar), or delete all of it."""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from icalendar import Calendar, Event
from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from service.engine.i18n import gettext as _
from service.engine.model import Touchpoint, Window
from service.engine.people import display_name
from service.engine.plan import plan
from service.models import (
    Connection,
    LoginToken,
    Mark,
    OutboxEmail,
    Proposal,
    Reflection,
    StoredOccurrence,
    User,
)
from service.models.proposals import ACCEPTED, chosen_slot
from service.sources.calendar import load_occurrences, profile_of, sync_span, to_engine

CHAT_MINUTES = 15

# What each export section holds. Connection secrets, sync tokens and errors stay out.
PROFILE = (
    *("email", "created_at", "tz", "stage", "goal", "ideal_days", "max_days"),
    *("hours_start", "hours_end", "work_days", "manager_email", "include_people"),
    *("never_suggest", "email_notes", "calendar_notes", "lead_minutes", "digest"),
    *("weekly_nudges", "paused_until"),
)
SECTIONS: dict[str, tuple[type[Any], tuple[str, ...]]] = {
    "connections": (Connection, ("label", "kind", "status", "created_at", "synced_at")),
    "occurrences": (
        StoredOccurrence,
        (
            *("uid", "start", "end", "all_day", "title", "location", "organizer"),
            *("attendees", "status", "transparent", "my_response", "recurring"),
        ),
    ),
    "marks": (Mark, ("uid", "kind", "created_at")),
    "proposals": (
        Proposal,
        (
            *("partner", "reason", "slots", "status", "chosen_start"),
            *("created_at", "expires_at", "answered_at"),
        ),
    ),
    "reflections": (
        Reflection,
        ("created_at", "person", "going_well", "missing", "opportunity"),
    ),
    "emails": (OutboxEmail, ("kind", "to", "subject", "text", "html", "created_at", "sent_at")),
}


def export_data(session: Session, user: User, now: datetime) -> dict[str, Any]:
    """Return everything stored about the user, as JSON-ready data."""
    data: dict[str, Any] = {"exported_at": now.isoformat(), "profile": _fields(user, PROFILE)}
    for name, (model, fields) in SECTIONS.items():
        rows = session.scalars(
            select(model).where(model.user_id == user.id).order_by(model.id)
        ).all()
        data[name] = [_fields(row, fields) for row in rows]
    return data


def _fields(row: Any, names: Sequence[str]) -> dict[str, Any]:
    values = {name: getattr(row, name) for name in names}
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in values.items()}


def export_calendar(session: Session, user: User, now: datetime) -> bytes:
    """Return the user's touchpoints and booked career chats as an iCalendar file."""
    calendar = Calendar()
    calendar.add("prodid", "-//Touchpoint//Export//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "Touchpoint")
    for touchpoint in stored_touchpoints(session, user, now):
        calendar.add_component(_touchpoint_event(touchpoint, now))
    for proposal in _booked(session, user):
        calendar.add_component(_chat_event(proposal, now))
    # Every TZID used needs its VTIMEZONE; only the synced span's transitions are worth carrying.
    start, end = sync_span(now)
    calendar.add_missing_timezones(start.date(), end.date())
    return bytes(calendar.to_ical())


def stored_touchpoints(session: Session, user: User, now: datetime) -> tuple[Touchpoint, ...]:
    """Return the touchpoints among everything synced for the user (a year back, two weeks on)."""
    start, end = sync_span(now)
    marks = session.scalars(select(Mark).where(Mark.user_id == user.id)).all()
    profile = profile_of(user, marks)
    rows = load_occurrences(session, user.id, start, end)
    occurrences = [to_engine(row, profile.tz) for row in rows]
    return plan(occurrences, profile, Window(start, end)).touchpoints


def _touchpoint_event(touchpoint: Touchpoint, now: datetime) -> Event:
    occ = touchpoint.occurrence
    lines = [touchpoint.note.text] if touchpoint.note else []
    lines += [_("Why: %(reasons)s", reasons=reason) for reason in touchpoint.reasons]
    event = Event()
    event.add("uid", _uid("touchpoint", occ.uid, occ.start.isoformat()))
    event.add("dtstamp", now)
    event.add("dtstart", occ.start)
    event.add("dtend", occ.end)
    event.add("summary", one_line(occ.title) or "(no title)")
    event.add("categories", [touchpoint.kind])
    event.add("description", "\n".join(lines))
    return event


def _booked(session: Session, user: User) -> Sequence[Proposal]:
    query = (
        select(Proposal)
        .where(Proposal.user_id == user.id, Proposal.status == ACCEPTED)
        .where(Proposal.chosen_start.is_not(None))
        .order_by(Proposal.chosen_start)
    )
    return session.scalars(query).all()


def _chat_event(proposal: Proposal, now: datetime) -> Event:
    assert proposal.chosen_start is not None
    start = proposal.chosen_start
    slot = chosen_slot(proposal)
    partner = display_name(proposal.partner)
    event = Event()
    event.add("uid", _uid("chat", str(proposal.id), start.isoformat()))
    event.add("dtstamp", now)
    event.add("dtstart", start)
    event.add("dtend", slot[1] if slot else start + timedelta(minutes=CHAT_MINUTES))
    summary = _("Career chat with %(name)s", name=partner) if partner else _("Career chat")
    event.add("summary", one_line(summary))
    event.add("description", proposal.reason)
    return event


def _uid(kind: str, *parts: str) -> str:
    # Event UIDs from calendars are attacker-controlled and repeat across recurrences: hash them.
    digest = hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:32]
    return f"{kind}-{digest}@touchpoint"


def one_line(text: str) -> str:
    """Return text as one line: line breaks and other control characters become spaces."""
    spaced = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text)
    return " ".join(spaced.split())


def message_ids_of(session: Session, user: User) -> list[str]:
    """Return the Message-IDs of every email kept for the user (by account or address)."""
    mine = or_(OutboxEmail.user_id == user.id, func.lower(OutboxEmail.to) == user.email.lower())
    return list(session.scalars(select(OutboxEmail.message_id).where(mine)))


def delete_account(session: Session, user: User) -> None:
    """Delete the user and everything of theirs; the caller commits.

    The database cascades from the user row; sign-in links and emails sent before the account
    existed are keyed by address, so they go explicitly.
    """
    email = user.email.lower()
    session.execute(delete(LoginToken).where(func.lower(LoginToken.email) == email))
    session.execute(
        delete(OutboxEmail)
        .where(OutboxEmail.user_id.is_(None))
        .where(func.lower(OutboxEmail.to) == email)
    )
    session.delete(user)
    session.flush()
