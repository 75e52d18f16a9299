"""The outbox: every email waits here, and a sender claims its row before sending it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, utcnow


class OutboxEmail(Base):
    """An email waiting to be sent; a sender claims the row before sending it."""

    __tablename__ = "outbox"
    __table_args__ = (
        # The sweep, every minute: rows waiting for a sender, and claims that may have stopped.
        # Partial, so sent and refused emails (nearly every row) are not in them.
        Index(
            "ix_outbox_waiting",
            "created_at",
            postgresql_where=text("sent_at IS NULL AND claimed_at IS NULL"),
            sqlite_where=text("sent_at IS NULL AND claimed_at IS NULL"),
        ),
        Index(
            "ix_outbox_claimed",
            "claimed_at",
            postgresql_where=text(
                "sent_at IS NULL AND claimed_at IS NOT NULL AND refused_at IS NULL"
            ),
            sqlite_where=text("sent_at IS NULL AND claimed_at IS NOT NULL AND refused_at IS NULL"),
        ),
    )

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
    # True once this claim's sender began handing the message to the mail server: a sender that
    # stops after that may have delivered it. Reset by each claim.
    handed_over: Mapped[bool] = mapped_column(default=False, server_default=false())
    # How often a stopped send that may have been delivered was sent again (at most once).
    resends: Mapped[int] = mapped_column(default=0, server_default="0")
    # When the mail server refused it for good; the row keeps its claim and is never sent.
    refused_at: Mapped[datetime | None] = mapped_column(default=None)
