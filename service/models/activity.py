"""Proposals, reflections and the outbox of emails."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, utcnow


class Proposal(Base):
    """A suggested 15-minute career chat with up to three slots."""

    __tablename__ = "proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    partner: Mapped[str | None] = mapped_column(String(254), default=None)
    reason: Mapped[str] = mapped_column(String(500), default="")
    slots: Mapped[list[Any]] = mapped_column(default=list)  # [[start ISO, end ISO], ...]
    status: Mapped[str] = mapped_column(String(16), default="proposed")
    chosen_start: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    answered_at: Mapped[datetime | None] = mapped_column(default=None)
    # Booking an accepted proposal (service.proposals.book): set once, by whoever claims it first.
    booked_at: Mapped[datetime | None] = mapped_column(default=None)
    calendar_event_id: Mapped[str] = mapped_column(String(255), default="", server_default="")
    # The iTIP SEQUENCE of the emailed invite; any later change (a CANCEL) must bump it.
    invite_sequence: Mapped[int] = mapped_column(default=0, server_default="0")
    # Why the chat could not go into the user's Google Calendar (it was emailed instead).
    booking_error: Mapped[str] = mapped_column(String(500), default="", server_default="")


class Reflection(Base):
    """A short entry in the user's reflection log."""

    __tablename__ = "reflections"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    person: Mapped[str] = mapped_column(String(254), default="")
    going_well: Mapped[str] = mapped_column(Text, default="")
    missing: Mapped[str] = mapped_column(Text, default="")
    opportunity: Mapped[str] = mapped_column(Text, default="")
    # The one-minute reflection after a chat: what was learned, followed up, offered.
    learned: Mapped[str] = mapped_column(Text, default="", server_default="")
    follow_up: Mapped[str] = mapped_column(Text, default="", server_default="")
    offered: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Where it came from: "" (the log form) or "chat:<uid>@<start>" (a reflection email).
    source: Mapped[str] = mapped_column(String(300), default="", server_default="")


class OutboxEmail(Base):
    """An email waiting to be sent; a sender claims the row before sending it."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), default=None, index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    to: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text, default="")
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    headers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # An iCalendar invite (METHOD:REQUEST or CANCEL) sent as a text/calendar part and invite.ics.
    calendar: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(default=None)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(String(500), default="")
