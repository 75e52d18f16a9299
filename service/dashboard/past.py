"""The dashboard's past year, kept per day by the jobs so a request reads it instead of a year.

The people mix, the people cards, the cadence clock and the year strip add up a year of
touchpoints. Classifying a stored year takes seconds on a heavy calendar, so the sync and
planning jobs keep one small row a day (models.DashboardDay: an insights.Tally as JSON) and the
request adds up at most 366 of them. Rules that keep it exact:

- A day row is a function of that day's stored occurrences and the user's settings and marks
  (its classification reads nothing else: no calendar context, no clock). Storing occurrences
  records the UTC days it touched (models.DashboardDirty, sources.calendar.touched) and a
  changed mark names its event's days; refresh() computes those days again, and another
  fingerprint of the settings computes every day again.
- A request never writes them: a day that is dirty, or not kept yet, is computed from its
  occurrences in the request, like the partial days at both ends of the year (the day a year
  ago, and the last RECENT_DAYS, which the page lists anyway).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from service.adapters.db import hold
from service.dashboard.insights import YEAR_DAYS, Tally, between, touchpoints_of
from service.dashboard.marks import marks_of
from service.engine.model import Occurrence, PrepNote, Profile, Touchpoint
from service.models import (
    DashboardDay,
    DashboardDirty,
    DashboardSummary,
    PlannedNote,
    StoredOccurrence,
    User,
)
from service.sources.calendar import load_occurrences, profile_of, to_engine

VERSION = 2  # of what a day row holds: another value computes every day again
KEEP_DAYS = YEAR_DAYS + 2  # day rows older than this many days are dropped
DAY_READ = 40  # events a day the dashboard reads for the days it shows (a busy day has ~20)
DAY_SHOWN = 12  # touchpoints a day the timeline and the list show, then "and N more"


@dataclass(frozen=True, slots=True)
class Past:
    """The year before now as the dashboard shows it."""

    year: Tally  # every touchpoint of the year before now, added up
    recent: list[Touchpoint]  # the touchpoints of the last `recent` days, in order


def fingerprint(profile: Profile) -> str:
    """Return what the day rows depend on besides the occurrences and marks: settings, VERSION."""
    hours = profile.hours
    facts = [
        VERSION, profile.me.lower(), profile.tz.key, profile.manager, profile.stage, profile.goal,
        hours.start.isoformat(), hours.end.isoformat(), sorted(hours.days), profile.ideal_days,
        profile.max_days, sorted(profile.never_suggest),
    ]  # fmt: skip
    return hashlib.sha256(json.dumps(facts, default=str).encode()).hexdigest()


def day_tallies(occurrences: Sequence[Occurrence], profile: Profile) -> dict[date, Tally]:
    """Return a tally per local day of these occurrences (in order), days without events left
    out."""
    days: dict[date, list[Occurrence]] = {}
    for occ in occurrences:
        days.setdefault(_local(occ, profile.tz).date(), []).append(occ)
    tallies = {}
    for day, found in days.items():
        tallies[day] = Tally.of(touchpoints_of(found, profile), found, profile)
    return tallies


# The jobs: keep the day rows current ------------------------------------------------------------


def refresh(session: Session, user: User, now: datetime, *, planned: bool = False) -> int:
    """Bring the user's day rows up to date with their stored occurrences; return the days
    computed. The sync job calls it after a sync that changed events, the planning job after
    planning (planned=True: from then on the dashboard shows the stored prep notes). The caller
    commits.
    """
    hold(session, User, user.id)  # one refresh of a user at a time
    session.refresh(user)  # the settings as they are now, not as the job first read them
    profile = profile_of(user, marks_of(session, user.id))
    tz = profile.tz
    first = now.astimezone(tz).date() - timedelta(days=KEEP_DAYS)
    summary = session.get(DashboardSummary, user.id)
    dirty = session.execute(
        select(DashboardDirty.id, DashboardDirty.day).where(DashboardDirty.user_id == user.id)
    ).all()
    key = fingerprint(profile)
    if summary is None or summary.fingerprint != key or summary.first_day > first:
        computed = _rebuild(session, user.id, profile, first)
        if summary is None:
            summary = DashboardSummary(user_id=user.id, first_day=first)
            session.add(summary)
        summary.fingerprint, summary.first_day = key, first
    else:
        days = _around({d for _, d in dirty}) | _marked(session, user.id, summary.marks, profile)
        computed = _recompute(session, user.id, profile, days)
    summary.marks = _marks(profile)
    if dirty:
        session.execute(delete(DashboardDirty).where(DashboardDirty.id.in_([i for i, _ in dirty])))
    session.execute(
        delete(DashboardDay).where(DashboardDay.user_id == user.id, DashboardDay.day < first)
    )
    session.flush()
    _sum(session, summary, profile, now)
    summary.refreshed_at = now
    if planned:
        summary.planned_at = now
    session.flush()
    return computed


def _rebuild(session: Session, user_id: int, profile: Profile, first: date) -> int:
    session.execute(delete(DashboardDay).where(DashboardDay.user_id == user_id))
    start = _midnight(first, profile.tz) - timedelta(days=1)
    tallies = day_tallies(_read(session, user_id, profile.tz, start, None), profile)
    _write(session, user_id, {d: t for d, t in tallies.items() if d >= first})
    return len(tallies)


def _recompute(session: Session, user_id: int, profile: Profile, days: set[date]) -> int:
    if not days:
        return 0
    tallies = _compute(session, user_id, profile, days)
    session.execute(
        delete(DashboardDay).where(DashboardDay.user_id == user_id, DashboardDay.day.in_(days))
    )
    _write(session, user_id, tallies)
    return len(days)


def _write(session: Session, user_id: int, tallies: dict[date, Tally]) -> None:
    rows = [{"user_id": user_id, "day": d, "facts": t.to_json()} for d, t in tallies.items()]
    if rows:
        session.execute(insert(DashboardDay), rows)


def _marks(profile: Profile) -> dict[str, Any]:
    return dict(profile.overrides)


def _marked(session: Session, user_id: int, before: dict[str, Any], profile: Profile) -> set[date]:
    """Return the local days of the events whose mark changed since the day rows were computed."""
    now = _marks(profile)
    missing = object()  # "not a touchpoint" is a mark too: its kind is None
    changed = [
        u for u in before.keys() | now.keys() if before.get(u, missing) != now.get(u, missing)
    ]
    if not changed:
        return set()
    query = select(StoredOccurrence.start).where(
        StoredOccurrence.user_id == user_id, StoredOccurrence.uid.in_(changed)
    )
    return _around(start.astimezone(UTC).date() for start in session.scalars(query))


def _around(utc_days: Iterable[date]) -> set[date]:
    """Return the local days a UTC day may fall on, in any zone."""
    return {d + timedelta(days=n) for d in utc_days for n in (-1, 0, 1)}


# The request: read the year --------------------------------------------------------------------


def past(session: Session, user_id: int, profile: Profile, now: datetime, recent: int) -> Past:
    """Return the year before now, read from the day rows where they are current.

    Today until now and the day a year ago (part of each is in the year) are read from their
    occurrences, and so is any day the rows do not hold current. The touchpoints of the last
    `recent` days (listed on the page) are read too. Those reads stop at DAY_READ events a day.
    """
    tz = profile.tz
    cutoff, recent_from = now - timedelta(days=YEAR_DAYS), now - timedelta(days=recent)
    first, today = _local(cutoff, tz).date() + timedelta(days=1), _local(now, tz).date()
    edge = _read(session, user_id, tz, cutoff, _midnight(first, tz), per_day=DAY_READ)
    parts = [_tally(edge, profile).to_json()]
    summed = _summed(session, user_id, profile, first, today)
    if summed is not None:  # the job added up these very days: one row, not 365
        parts.append(summed)
    else:
        kept = _kept(session, user_id, profile, first, today)
        missing = {first + timedelta(days=n) for n in range((today - first).days)} - kept.keys()
        computed = _compute(session, user_id, profile, missing) if missing else {}
        for day in sorted({*kept, *computed}):
            part = kept[day] if day in kept else computed[day].to_json()
            if part is not None:
                parts.append(part)
    midnight = _midnight(today, tz)
    latest = _read(session, user_id, tz, min(recent_from, midnight), now, per_day=DAY_READ)
    touchpoints = touchpoints_of(latest, profile)
    today_part = [t for t in touchpoints if _local(t.occurrence, tz) >= midnight]
    parts.append(
        Tally.of(today_part, [o for o in latest if _local(o, tz) >= midnight], profile).to_json()
    )
    return Past(Tally.total(parts, tz), between(touchpoints, profile, recent_from, now))


def _kept(
    session: Session, user_id: int, profile: Profile, first: date, end: date
) -> dict[date, dict[str, Any] | None]:
    """Return the current day rows from first to end, as Tally.to_json data (None for a day
    without events)."""
    summary = session.get(DashboardSummary, user_id)
    if summary is None or summary.fingerprint != fingerprint(profile) or summary.first_day > first:
        return {}
    dirty = _around(
        session.scalars(select(DashboardDirty.day).where(DashboardDirty.user_id == user_id))
    ) | _marked(session, user_id, summary.marks, profile)
    query = select(DashboardDay.day, DashboardDay.facts).where(
        DashboardDay.user_id == user_id, DashboardDay.day >= first, DashboardDay.day < end
    )
    rows: dict[date, dict[str, Any]] = {row.day: row.facts for row in session.execute(query)}
    span = (first + timedelta(days=n) for n in range((end - first).days))
    return {day: rows.get(day) for day in span if day not in dirty}


def _summed(
    session: Session, user_id: int, profile: Profile, first: date, end: date
) -> dict[str, Any] | None:
    """Return the day rows from first to end added up by the last refresh, as Tally.to_json
    data, if it added up these very days and every one of them is still current; else None."""
    summary = session.get(DashboardSummary, user_id)
    if (
        summary is None
        or summary.year is None
        or (summary.year_first, summary.year_end) != (first, end)
        or summary.fingerprint != fingerprint(profile)
        or summary.first_day > first
    ):
        return None
    dirty = session.scalar(
        select(DashboardDirty.id).where(DashboardDirty.user_id == user_id).limit(1)
    )
    if dirty is not None or _marked(session, user_id, summary.marks, profile):
        return None
    return summary.year


def _sum(session: Session, summary: DashboardSummary, profile: Profile, now: datetime) -> None:
    """Add up the day rows of the year a request at now reads (past()), for it to read once."""
    tz = profile.tz
    first = _local(now - timedelta(days=YEAR_DAYS), tz).date() + timedelta(days=1)
    end = _local(now, tz).date()
    query = select(DashboardDay.facts).where(
        DashboardDay.user_id == summary.user_id, DashboardDay.day >= first, DashboardDay.day < end
    )
    parts = list(session.scalars(query.order_by(DashboardDay.day)))
    summary.year = Tally.total(parts, tz).to_json()
    summary.year_first, summary.year_end = first, end


def _compute(
    session: Session, user_id: int, profile: Profile, days: set[date]
) -> dict[date, Tally]:
    """Return the tally of each of these local days, computed from their occurrences."""
    tz, found = profile.tz, {}
    for start, end in _runs(days):
        occurrences = _read(session, user_id, tz, _midnight(start, tz), _midnight(end, tz))
        for day, tally in day_tallies(occurrences, profile).items():
            if start <= day < end:
                found[day] = tally
    return found


def _runs(days: Iterable[date]) -> list[tuple[date, date]]:
    """Return the days as [start, end) runs of consecutive days."""
    runs: list[tuple[date, date]] = []
    for day in sorted(days):
        if runs and runs[-1][1] == day:
            runs[-1] = (runs[-1][0], day + timedelta(days=1))
        else:
            runs.append((day, day + timedelta(days=1)))
    return runs


def _read(
    session: Session,
    user_id: int,
    tz: ZoneInfo,
    start: datetime,
    end: datetime | None,
    *,
    per_day: int | None = None,
) -> list[Occurrence]:
    """Return the user's occurrences starting in [start, end) in their zone, in order (at most
    per_day a UTC day, the earliest).

    All-day events are stored at UTC midnight: a day on each side is read, then filtered.
    """
    if end is not None and per_day is not None:
        rows: Iterable[StoredOccurrence] = load_occurrences(
            session, user_id, start - timedelta(days=1), end + timedelta(days=1), per_day=per_day
        )
    else:
        query = select(StoredOccurrence).where(
            StoredOccurrence.user_id == user_id, StoredOccurrence.start >= start - timedelta(days=1)
        )
        if end is not None:
            query = query.where(StoredOccurrence.start < end + timedelta(days=1))
        rows = session.scalars(query.order_by(StoredOccurrence.start, StoredOccurrence.id))
    occurrences = (to_engine(row, tz) for row in rows)
    return [
        o for o in occurrences if start <= _local(o, tz) and (end is None or _local(o, tz) < end)
    ]


def _tally(occurrences: Sequence[Occurrence], profile: Profile) -> Tally:
    return Tally.of(touchpoints_of(occurrences, profile), occurrences, profile)


def _local(moment: Occurrence | datetime, tz: ZoneInfo) -> datetime:
    if isinstance(moment, Occurrence):
        return moment.starts_at(tz).astimezone(tz)
    return moment.astimezone(tz)


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tz)


# The days ahead: stored notes, a bounded page ---------------------------------------------------


def notes_stored(session: Session, user_id: int) -> bool:
    """Say whether a planning job has stored this user's prep notes (then the page shows them)."""
    summary = session.get(DashboardSummary, user_id)
    return summary is not None and summary.planned_at is not None


def with_stored_notes(
    session: Session,
    user_id: int,
    touchpoints: Sequence[Touchpoint],
    start: datetime,
    end: datetime,
) -> list[Touchpoint]:
    """Give each touchpoint the prep note planned for it (its email's text), if any."""
    query = select(PlannedNote.uid, PlannedNote.start, PlannedNote.subject, PlannedNote.text)
    query = query.where(
        PlannedNote.user_id == user_id,
        PlannedNote.status != "cancelled",
        PlannedNote.start >= start,
        PlannedNote.start < end,
    )
    notes = {
        (uid, at): PrepNote(subject, text) for uid, at, subject, text in session.execute(query)
    }
    utc = ZoneInfo("UTC")
    return [
        _noted(t, notes.get((t.occurrence.uid[:255], t.occurrence.starts_at(utc))))
        for t in touchpoints
    ]


def _noted(touchpoint: Touchpoint, note: PrepNote | None) -> Touchpoint:
    if note is None:
        return touchpoint
    return Touchpoint(
        touchpoint.occurrence, touchpoint.kind, touchpoint.score, touchpoint.reasons,
        touchpoint.people, note,
    )  # fmt: skip


def unread(
    session: Session, user_id: int, occurrences: Sequence[Occurrence], tz: ZoneInfo
) -> Counter[date]:
    """Return, per local day, the events the page did not read (a day holding more than
    DAY_READ): counted by the database, never loaded."""
    utc = ZoneInfo("UTC")
    per_day = Counter(o.starts_at(utc).date() for o in occurrences)
    full = [day for day, n in per_day.items() if n >= DAY_READ]
    left: Counter[date] = Counter()
    for day in full:
        start = datetime.combine(day, time(), UTC)
        count = session.scalar(
            select(func.count()).where(
                StoredOccurrence.user_id == user_id,
                StoredOccurrence.start >= start,
                StoredOccurrence.start < start + timedelta(days=1),
            )
        )
        left[(start + timedelta(hours=12)).astimezone(tz).date()] += max(
            0, (count or 0) - per_day[day]
        )
    return left
