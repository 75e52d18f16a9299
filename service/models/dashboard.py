"""What the dashboard needs from a user's past, kept per day as their calendar is synced.

The dashboard shows a year of history (the people mix, the cadence clock, the year strip) but
reads only these small rows for it: one per day with touchpoints, written by the sync and
planning jobs (service.dashboard.past), never by a request. Storing occurrences records the
days it touched as dirty; a request computes a dirty day from its occurrences until the next
job refreshes it, so what the page shows never waits for a worker.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, utcnow


class DashboardSummary(Base):
    """Whether a user's day rows are complete, for which settings and marks, and since when."""

    __tablename__ = "dashboard_summaries"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    # What the day rows were computed for (the user's settings): another value means every day
    # must be computed again. The marks they were computed with ({uid: kind}): a changed mark
    # computes again only the days of its event.
    fingerprint: Mapped[str] = mapped_column(String(64), default="")
    marks: Mapped[dict[str, Any]] = mapped_column(default=dict)
    first_day: Mapped[date]  # the day rows cover every day from this one (local days)
    refreshed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When a planning job last stored this user's prep notes: from then on the dashboard shows
    # the stored notes instead of writing them again in the request.
    planned_at: Mapped[datetime | None] = mapped_column(default=None)
    # The day rows from year_first to year_end (excluded) added up (insights.Tally.to_json), for
    # a request of a day whose year is those days (service.dashboard.past._summed).
    year: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    year_first: Mapped[date | None] = mapped_column(default=None)
    year_end: Mapped[date | None] = mapped_column(default=None)


class DashboardDay(Base):
    """One local day of a user's past as the dashboard counts it (people met, career talks)."""

    __tablename__ = "dashboard_days"
    __table_args__ = (UniqueConstraint("user_id", "day", name="uq_dashboard_days_user_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    day: Mapped[date]
    facts: Mapped[dict[str, Any]] = mapped_column(default=dict)


class DashboardDirty(Base):
    """A UTC day whose stored occurrences changed since the user's day rows were computed."""

    __tablename__ = "dashboard_dirty"
    __table_args__ = (Index("ix_dashboard_dirty_user", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    day: Mapped[date]


class DashboardPlan(Base):
    """The engine's verdicts on a user's coming days, as the planning job last computed them.

    For one local day (`day`): the touchpoints starting from that midnight for HORIZON_DAYS + 1
    days and the career conversations the plan read (service.dashboard.ahead). `key` names the
    settings, marks and booked chats it was computed for; a sync that changes an occurrence
    deletes the row. A request that finds no current row computes the same plan itself.
    """

    __tablename__ = "dashboard_plans"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date]
    key: Mapped[str] = mapped_column(String(64))
    facts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
