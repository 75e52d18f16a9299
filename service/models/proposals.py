"""Proposals: suggested 15-minute career chats, answered from a link and booked once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, utcnow

PROPOSED = "proposed"
ACCEPTED = "accepted"
DECLINED = "declined"
OTHER_TIMES = "other_times"  # declined these slots, wants new ones proposed
EXPIRED = "expired"

Slot = tuple[datetime, datetime]


class Proposal(Base):
    """A suggested 15-minute career chat with up to three slots."""

    __tablename__ = "proposals"
    __table_args__ = (
        # The reflection dispatcher (booked chats that ended) and the hourly expiry of open ones.
        Index(
            "ix_proposals_accepted_start",
            "chosen_start",
            postgresql_where=text("status = 'accepted'"),
            sqlite_where=text("status = 'accepted'"),
        ),
        Index(
            "ix_proposals_open_expiry",
            "expires_at",
            postgresql_where=text("status = 'proposed'"),
            sqlite_where=text("status = 'proposed'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    partner: Mapped[str | None] = mapped_column(String(254), default=None)
    reason: Mapped[str] = mapped_column(String(500), default="")
    # What the user and the partner share (a project), for the partner's line of the invite.
    topic: Mapped[str] = mapped_column(String(80), default="", server_default="")
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


def offered_slots(proposal: Proposal) -> list[Slot]:
    """Return the proposal's slots as aware UTC datetimes; malformed entries are skipped."""
    slots: list[Slot] = []
    for entry in proposal.slots or []:
        try:
            start, end = (as_utc(datetime.fromisoformat(value)) for value in entry)
        except (TypeError, ValueError):
            continue
        slots.append((start, end))
    return slots


def chosen_slot(proposal: Proposal) -> Slot | None:
    """Return the slot that was booked, if one was."""
    if proposal.chosen_start is None:
        return None
    for start, end in offered_slots(proposal):
        if start == proposal.chosen_start:
            return start, end
    return None


def as_utc(moment: datetime) -> datetime:
    """Return an aware moment in UTC; refuse a naive one."""
    if moment.tzinfo is None:
        raise ValueError("slot times must carry a time zone")
    return moment.astimezone(UTC)
