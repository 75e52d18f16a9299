"""Prep notes planned for upcoming touchpoints: when each is due, and what became of it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, utcnow


class PlannedNote(Base):
    """One prep note for one occurrence: planned, sent, or cancelled when the meeting went away.

    A moved meeting keeps its row (same uid, the nearest start within 7 days) with a new start
    and due time; the sender claims the row before sending, like the outbox.
    """

    __tablename__ = "planned_notes"
    __table_args__ = (
        UniqueConstraint("user_id", "uid", "start", name="uq_planned_notes_instance"),
        # The notes dispatcher, every minute: planned rows by when they are due (sent and
        # cancelled ones, nearly every row in time, are not in it).
        Index(
            "ix_planned_notes_planned_due",
            "due_at",
            postgresql_where=text("status = 'planned'"),
            sqlite_where=text("status = 'planned'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    uid: Mapped[str] = mapped_column(String(255))
    start: Mapped[datetime]  # the meeting's current start: a moved meeting moves it
    title: Mapped[str] = mapped_column(String(255), default="")
    kind: Mapped[str] = mapped_column(String(16), default="")
    due_at: Mapped[datetime] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(16), default="planned")  # planned|sent|cancelled
    subject: Mapped[str] = mapped_column(String(300), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    # Whom the note is about and the question bank's keys it used (comma separated), so the
    # next notes about that person ask something else for a month.
    person: Mapped[str] = mapped_column(String(254), default="", server_default="")
    prompts: Mapped[str] = mapped_column(String(200), default="", server_default="")
    outbox_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox.id", ondelete="SET NULL"), default=None
    )
    # The note's event in the calendar Touchpoint created for itself (Google), if injected.
    calendar_event_id: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
