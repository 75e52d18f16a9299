"""People, their settings, and how they sign in."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.calendars.zones import resolve_zone
from service.models.base import Base, utcnow

if TYPE_CHECKING:
    from service.models.calendars import Connection


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Indexed: the hourly proposal dispatcher picks the zones where it is morning.
    tz: Mapped[str] = mapped_column(String(64), default="UTC", index=True)
    stage: Mapped[str] = mapped_column(String(32), default="growth")
    goal: Mapped[str] = mapped_column(String(500), default="")
    ideal_days: Mapped[int] = mapped_column(default=45)
    max_days: Mapped[int] = mapped_column(default=60)
    hours_start: Mapped[str] = mapped_column(String(5), default="09:00")
    hours_end: Mapped[str] = mapped_column(String(5), default="17:30")
    work_days: Mapped[str] = mapped_column(String(20), default="0,1,2,3,4")
    manager_email: Mapped[str] = mapped_column(String(254), default="")
    include_people: Mapped[str] = mapped_column(Text, default="")
    never_suggest: Mapped[str] = mapped_column(Text, default="")
    email_notes: Mapped[bool] = mapped_column(default=True)
    calendar_notes: Mapped[bool] = mapped_column(default=False)
    lead_minutes: Mapped[int] = mapped_column(default=60)
    digest: Mapped[bool] = mapped_column(default=False)
    weekly_nudges: Mapped[int] = mapped_column(default=1)
    paused_until: Mapped[datetime | None] = mapped_column(default=None)
    # Proposals answered by nobody in a row; three pause proposals (and the user is told).
    ignored_proposals: Mapped[int] = mapped_column(default=0, server_default="0")
    # Bumped to retire the secret address of the user's published prep-note feed.
    feed_version: Mapped[int] = mapped_column(default=1, server_default="1")
    # The local date the last morning digest went out, so a digest goes once a day.
    digest_sent_on: Mapped[date | None] = mapped_column(default=None)
    # What pages, emails and notes are written in (service.engine.i18n.LANGUAGES): chosen in
    # Settings, first taken from the browser at sign-up, so workers can write in it too.
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")

    connections: Mapped[list[Connection]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def zone(self) -> ZoneInfo:
        """The user's time zone (UTC until they set one Touchpoint knows)."""
        return resolve_zone(self.tz) or ZoneInfo("UTC")


class LoginToken(Base):
    """A magic link: single use, expiring; only a hash of its secret is stored."""

    __tablename__ = "login_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    next_url: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class OAuthState(Base):
    """An OAuth round trip in flight: the state and the PKCE verifier stay on the server."""

    __tablename__ = "oauth_states"

    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16))  # "signin" or "connect"
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), default=None
    )
    code_verifier: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SignInSession(Base):
    """One signed-in browser: the cookie carries a random id, the row only its hash.

    Rows go when their user signs out there, signs out everywhere, or is deleted; an id is never
    reused, so a cookie can never open another account.
    """

    __tablename__ = "sign_in_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
