"""Connected calendars and the occurrences synced from them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.models.base import Base, utcnow

if TYPE_CHECKING:
    from service.models.users import User

KINDS = ("google", "ics_url", "ics_upload")


class Connection(Base):
    """One calendar source of one user. Its secret (refresh token or feed URL) is encrypted."""

    __tablename__ = "connections"
    __table_args__ = (
        # The dispatcher's scan: only working connections, by when they are due (NULL: at once).
        Index(
            "ix_connections_due",
            "next_sync_at",
            "id",
            postgresql_where=text("status IN ('ok', 'failing')"),
            sqlite_where=text("status IN ('ok', 'failing')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(200), default="")
    secret: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    scopes: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="ok")  # ok | failing | broken
    last_error: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    synced_at: Mapped[datetime | None] = mapped_column(default=None)
    sync_token: Mapped[str] = mapped_column(Text, default="")
    etag: Mapped[str] = mapped_column(String(200), default="")
    last_modified: Mapped[str] = mapped_column(String(100), default="")
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    # The calendar as last read, so its recurring events can be expanded again as days pass
    # without downloading it: an upload as it was sent, a feed or Google's events zlib-compressed
    # (service.sources.kept).
    content: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    # The end of the span the stored occurrences cover; a sync expands the kept calendar again
    # (no download) once fewer than HORIZON_DAYS + 1 days are left ahead of it.
    expanded_until: Mapped[datetime | None] = mapped_column(default=None)
    # Scheduling: never before next_sync_at; at least refresh_minutes apart (REFRESH-INTERVAL).
    next_sync_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    refresh_minutes: Mapped[int] = mapped_column(default=15, server_default="15")
    # Google push channel (events.watch), renewed before it expires; polling is the fallback.
    channel_id: Mapped[str] = mapped_column(String(64), default="", server_default="")
    channel_resource_id: Mapped[str] = mapped_column(String(255), default="", server_default="")
    channel_token: Mapped[str] = mapped_column(String(64), default="", server_default="")
    channel_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    # Google's last access token (sealed) and when it expires: reused by the next sync, so a
    # sync costs no token refresh while it lasts (an hour).
    access_token: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    access_token_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    # The calendar Touchpoint created for its prep notes (Google), when the user wants them there.
    app_calendar_id: Mapped[str] = mapped_column(String(255), default="", server_default="")
    # What the last read left out (events repeating every minute, a calendar over the budget),
    # one plain sentence a line, shown on /connect; "" when it read everything.
    read_notes: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Set when the user was emailed that this connection broke, so they are told once.
    broken_notified_at: Mapped[datetime | None] = mapped_column(default=None)

    user: Mapped[User] = relationship(back_populates="connections")


class StoredOccurrence(Base):
    """One occurrence as last synced, with what the engine concluded about it."""

    __tablename__ = "occurrences"
    __table_args__ = (
        UniqueConstraint("connection_id", "uid", "start", name="uq_occurrences_instance"),
        Index("ix_occurrences_user_start", "user_id", "start"),
        # The reflection dispatcher: timed meetings that ended lately, across every user.
        Index(
            "ix_occurrences_timed_end",
            "end",
            postgresql_where=text("NOT all_day"),
            sqlite_where=text("NOT all_day"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"))
    uid: Mapped[str] = mapped_column(String(255))
    start: Mapped[datetime]
    end: Mapped[datetime]
    all_day: Mapped[bool] = mapped_column(default=False)
    title: Mapped[str] = mapped_column(String(255), default="")
    location: Mapped[str] = mapped_column(String(255), default="")
    organizer: Mapped[str] = mapped_column(String(254), default="")
    attendees: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(16), default="confirmed")
    transparent: Mapped[bool] = mapped_column(default=False)
    my_response: Mapped[str | None] = mapped_column(String(16), default=None)
    recurring: Mapped[bool] = mapped_column(default=False)


class Mark(Base):
    """What the user said about one event: a kind, or "not a touchpoint" (kind None)."""

    __tablename__ = "marks"
    __table_args__ = (UniqueConstraint("user_id", "uid", name="uq_marks_user_uid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    uid: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str | None] = mapped_column(String(16), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
