"""The reflection log: short entries typed on the dashboard or answered after a chat."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, utcnow


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
