"""Find free slots for a short career chat inside the user's working hours."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from service.engine.model import Slot, WorkingHours

GRID = timedelta(minutes=15)  # candidates start on :00 :15 :30 :45, local wall-clock
ROUND = timedelta(minutes=5)  # a start right after a touchpoint is rounded up to this
BUFFER = timedelta(minutes=5)  # the default gap kept around busy times
DAY = timedelta(days=1)
# Whatever the working hours say, nobody is asked for a chat at night.
MORNING, EVENING = time(7, 0), time(21, 0)


def find_slots(
    busy: Sequence[tuple[datetime, datetime]],
    start: datetime,
    end: datetime,
    hours: WorkingHours,
    tz: ZoneInfo,
    *,
    minutes: int = 15,
    buffer: int = BUFFER.seconds // 60,
    limit: int = 3,
    prefer: Sequence[datetime] = (),
) -> list[Slot]:
    """Return up to `limit` free slots: right after preferred moments first, then the others
    in time order, one per day before a second on any day. Never at night (before 07:00 or
    after 21:00 local), never on a day outside the working days."""
    if minutes <= 0 or limit <= 0:
        return []
    pad = timedelta(minutes=max(buffer, 0))
    length, (lows, highs) = timedelta(minutes=minutes), _merged(busy, pad, tz)
    search = _Search(hours, tz, length, _utc(start, tz), _utc(end, tz), lows, highs)
    chosen: list[datetime] = []
    for moment in _preferred(prefer, pad, search):
        _take(chosen, moment, search.length, limit)
    preferred = list(chosen)
    days = _spread(chosen, search, limit)
    _fill(chosen, days, search, limit)
    # The preferred starts lead, so the reason that names them describes the first slot.
    ordered = preferred + sorted(s for s in chosen if s not in preferred)
    return [Slot(s.astimezone(tz), (s + search.length).astimezone(tz)) for s in ordered]


@dataclass(frozen=True)
class _Search:
    """Everything a candidate start is checked against, all instants in UTC."""

    hours: WorkingHours
    tz: ZoneInfo
    length: timedelta
    start: datetime
    end: datetime
    busy_starts: list[datetime]
    busy_ends: list[datetime]

    def is_free(self, start: datetime) -> bool:
        # Merged spans are disjoint, so their ends are sorted too: the first one ending after
        # `start` is the only one that can overlap.
        i = bisect_right(self.busy_ends, start)
        return i == len(self.busy_ends) or self.busy_starts[i] >= start + self.length

    def fits(self, start: datetime) -> bool:
        """Say whether a slot starting here is free, in the window and in working hours."""
        day = start.astimezone(self.tz).date()
        if day.weekday() not in self.hours.days:
            return False
        opening, closing = self.bounds(day)
        finish = start + self.length
        awake = _wall(day, MORNING, self.tz) <= start and finish <= _wall(day, EVENING, self.tz)
        in_hours = opening <= start and finish <= closing and awake
        return in_hours and self.start <= start and finish <= self.end and self.is_free(start)

    def bounds(self, day: date) -> tuple[datetime, datetime]:
        """Return the day's working hours from its own wall clock, exact across DST."""
        return _wall(day, self.hours.start, self.tz), _wall(day, self.hours.end, self.tz)

    def days(self) -> Iterator[date]:
        day, last = self.start.astimezone(self.tz).date(), self.end.astimezone(self.tz).date()
        while day <= last:
            if day.weekday() in self.hours.days:
                yield day
            day += DAY

    def day_starts(self, day: date) -> list[datetime]:
        """Return the day's free grid starts, the first quarter hour of the day last."""
        opening, closing = self.bounds(day)
        local = datetime.combine(day, self.hours.start)
        local += -(local - datetime.combine(day, time())) % GRID
        starts: list[datetime] = []
        while local.date() == day:
            moment = _existing(local, self.tz)
            if moment is not None and moment + self.length > closing:
                break
            if moment is not None and self.fits(moment):
                starts.append(moment)
            local += GRID
        return sorted(starts, key=lambda s: (s < opening + GRID, s))


def _preferred(prefer: Sequence[datetime], pad: timedelta, search: _Search) -> list[datetime]:
    """Return the free starts just after each preferred moment, buffer kept, earliest first."""
    starts = {_round_up(_utc(p, search.tz) + pad, search.tz) for p in prefer}
    return [s for s in sorted(starts) if search.fits(s)]


def _spread(chosen: list[datetime], search: _Search, limit: int) -> list[list[datetime]]:
    """Add the best start of each day not yet used, earliest days first; return days seen."""
    used = {s.astimezone(search.tz).date() for s in chosen}
    seen: list[list[datetime]] = []
    for day in search.days():
        if len(chosen) >= limit:
            break
        starts = search.day_starts(day)
        seen.append(starts)
        if day not in used and any(_take(chosen, s, search.length, limit) for s in starts):
            used.add(day)
    return seen


def _fill(chosen: list[datetime], days: list[list[datetime]], search: _Search, limit: int) -> None:
    """Top up with more starts per day when there are fewer free days than slots wanted."""
    for starts in days:
        for moment in starts:
            _take(chosen, moment, search.length, limit)


def _take(chosen: list[datetime], moment: datetime, length: timedelta, limit: int) -> bool:
    """Add a start unless the list is full or it overlaps one already chosen."""
    if len(chosen) >= limit or any(abs(moment - s) < length for s in chosen):
        return False
    chosen.append(moment)
    return True


def _merged(
    busy: Sequence[tuple[datetime, datetime]], pad: timedelta, tz: ZoneInfo
) -> tuple[list[datetime], list[datetime]]:
    """Widen busy intervals by the buffer, sort and merge them; return starts and ends."""
    starts: list[datetime] = []
    ends: list[datetime] = []
    for lo, hi in sorted(_widened(busy, pad, tz)):
        if ends and lo <= ends[-1]:
            ends[-1] = max(ends[-1], hi)
        else:
            starts.append(lo)
            ends.append(hi)
    return starts, ends


def _widened(
    busy: Sequence[tuple[datetime, datetime]], pad: timedelta, tz: ZoneInfo
) -> Iterator[tuple[datetime, datetime]]:
    for start, end in busy:
        lo, hi = _utc(start, tz), _utc(end, tz)
        yield lo - pad, max(lo, hi) + pad


def _utc(moment: datetime, tz: ZoneInfo) -> datetime:
    # Arithmetic on two datetimes sharing a ZoneInfo ignores DST, so everything runs in UTC.
    return (moment if moment.tzinfo else moment.replace(tzinfo=tz)).astimezone(UTC)


def _wall(day: date, at: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def _existing(local: datetime, tz: ZoneInfo) -> datetime | None:
    """Return a naive wall-clock time as UTC, or None when DST skips it."""
    moment = local.replace(tzinfo=tz).astimezone(UTC)
    return moment if moment.astimezone(tz).replace(tzinfo=None) == local else None


def _round_up(moment: datetime, tz: ZoneInfo) -> datetime:
    local = moment.astimezone(tz)
    over = (local - datetime.combine(local.date(), time(), tzinfo=tz)) % ROUND
    return moment + (ROUND - over if over else timedelta())
