"""Read iCalendar data into occurrences: lenient about broken events, exact about time."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import icalendar

from service.calendars import guard, lenient, raw, rules, simple
from service.calendars.budget import DEFAULT, Budget, Deadline, too_frequent
from service.calendars.expand import BROKEN, Tally, expand, label
from service.calendars.reader import Reader
from service.calendars.zones import resolve_zone
from service.engine.model import Occurrence, to_datetime

_TIME_PROPERTIES = ("DTEND", "DUE", "DURATION", "EXDATE", "RDATE")


class CalendarError(ValueError):
    """The calendar cannot be read at all; the message says why in one sentence."""


@dataclass
class IcsCalendar:
    """An iCalendar source cut into components, parsed only as far as a window needs."""

    calendars: list[raw.RawCalendar]
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def from_bytes(cls, data: bytes) -> IcsCalendar:
        """Cut the data into components, or raise CalendarError when it is no calendar at all."""
        text = raw.decode(data)
        if not text.strip():
            raise CalendarError("the calendar is empty")
        try:
            calendars = raw.split_calendars(text)
        except raw.NotICalendar as exc:
            raise CalendarError(str(exc)) from None
        found = cls(calendars)
        if not any(c.complete for c in calendars):
            if not any(c.blocks for c in calendars):
                raise CalendarError("the calendar is truncated before its first event ends")
            found.warnings.append("the calendar ends early (truncated?): read what was complete")
        return found

    @property
    def name(self) -> str:
        return next((c.properties.get("X-WR-CALNAME", "") for c in self.calendars), "")

    def zone(self) -> ZoneInfo | None:
        """Return the calendar's own zone: X-WR-TIMEZONE, else its only TZID."""
        for calendar in self.calendars:
            if name := calendar.properties.get("X-WR-TIMEZONE"):
                return resolve_zone(name)
        tzids = raw.used_tzids(self.calendars)
        return resolve_zone(tzids.pop()) if len(tzids) == 1 else None

    def owner(self) -> str:
        """Return whose calendar this is: its name when that is an address, else the top organiser.

        Google and most exports name a person's calendar by their address, which beats counting.
        """
        name = self.name.strip().lower()
        if "@" in name and " " not in name:
            return name
        counts = raw.organizers(self.calendars)
        return counts.most_common(1)[0][0] if counts else ""

    def occurrences(
        self,
        start: datetime,
        end: datetime,
        tz: ZoneInfo,
        me: str,
        budget: Budget = DEFAULT,
        focus: datetime | None = None,
        keep_past: Callable[[Occurrence], bool] | None = None,
    ) -> list[Occurrence]:
        """Expand every component into the occurrences overlapping [start, end), sorted.

        keep_past: given a component's occurrence (times aside), whether its instances before
        focus are wanted; a series none of whose components is wanted is read from focus on.

        The budget bounds the work whatever the data asks for; what it leaves out is warned.
        From focus on is what matters most (the days ahead): it is expanded first, so a series
        over its budget keeps its instances there rather than in the look-back.
        """
        return unpack(pack(self._found(start, end, tz, me, budget, focus, keep_past)))

    def _found(
        self,
        start: datetime,
        end: datetime,
        tz: ZoneInfo,
        me: str,
        budget: Budget,
        focus: datetime | None,
        keep_past: Callable[[Occurrence], bool] | None,
    ) -> list[Timed]:
        """Return occurrences() as (component's occurrence, start, end): nothing per instance
        is built before it crosses to the caller (see pack)."""
        first, last = (start - timedelta(days=2)).date(), (end + timedelta(days=2)).date()
        deadline = budget.clock()
        found: list[Timed] = []
        tally = Tally()
        for calendar in self.calendars:
            cancelled = calendar.properties.get("METHOD", "").upper() == "CANCEL"
            reader = Reader(tz, me, cancelled, {b.uid for b in calendar.blocks if b.recurs})
            parsed, plain, plainly = self._parse(calendar, first, last, deadline, reader)
            wanted = reader.wanted(keep_past) if keep_past else None
            taken = expand(
                parsed, start, end, budget, deadline, self.warnings, tally, focus, wanted, plainly
            )
            new = (reader.timed(instance) for instance in taken)
            found += [t for t in new if t is not None and _overlaps(t, start, end, tz)]
            within = self._within(plain, start, end, tz, budget, tally, focus)
            found += [(o, o.start, o.end) for o in within]
        found.sort(key=lambda t: (to_datetime(t[1], tz), t[0].uid))
        found = self._per_day(found, tz, budget.per_day)
        self.warnings[:] = dict.fromkeys(self.warnings)
        return found

    def _per_day(self, found: list[T], tz: ZoneInfo, limit: int) -> list[T]:
        """Keep the first `limit` occurrences of each day (in order); name the days over it."""
        days = Counter(_start(o, tz).date() for o in found)
        crowded = {day: n for day, n in days.items() if n > limit}
        if not crowded:
            return found
        for day, n in sorted(crowded.items()):
            self.warnings.append(
                f"{day:%a} {day.day} {day:%b %Y} holds {n} events, more than anyone attends in "
                f"a day: kept the first {limit}"
            )
        taken: Counter[date] = Counter()
        kept = []
        for occ in found:
            day = _start(occ, tz).date()
            taken[day] += 1
            if taken[day] <= limit:
                kept.append(occ)
        return kept

    def read(
        self,
        start: datetime,
        end: datetime,
        tz: ZoneInfo,
        me: str,
        budget: Budget = DEFAULT,
        focus: datetime | None = None,
        keep_past: Callable[[Occurrence], bool] | None = None,
    ) -> list[Occurrence]:
        """Return occurrences() read in a guarded child: raise guard.Tripped past its ceiling."""
        ceiling = guard.Ceiling(max(budget.hard_seconds, budget.seconds), budget.megabytes)

        def work() -> tuple[Packed, list[str]]:
            found = self._found(start, end, tz, me, budget, focus, keep_past)
            return pack(found), self.warnings

        packed, self.warnings[:] = guard.guarded(work, ceiling)
        return unpack(packed)

    def _within(
        self,
        plain: list[Occurrence],
        start: datetime,
        end: datetime,
        tz: ZoneInfo,
        budget: Budget,
        tally: Tally,
        focus: datetime | None,
    ) -> list[Occurrence]:
        """Keep the plain events in the window, the days ahead first, within the read's limit."""
        inside = [o for o in plain if _overlaps(o, start, end, tz)]
        inside.sort(key=lambda o: (o.starts_at(tz), o.uid))
        inside = self._per_day(inside, tz, budget.per_day)  # before the total: the true count
        room = max(budget.occurrences - tally.total, 0)
        if len(inside) > room:
            ahead = focus or start
            inside.sort(key=lambda o: (o.ends_at(tz) <= ahead, o.starts_at(tz)))
            inside = inside[:room]
            self.warnings.append(
                f"kept the first {budget.occurrences} events: the rest is left out"
            )
        tally.total += len(inside)
        return inside

    def _parse(
        self,
        calendar: raw.RawCalendar,
        first: date,
        last: date,
        deadline: Deadline,
        reader: Reader,
    ) -> tuple[icalendar.Calendar, list[Occurrence], rules.Plainly]:
        """Read the blocks that can matter for the window: plain events at once, plain series
        from their lines (rules.py), the rest into one icalendar Calendar to expand."""
        result = icalendar.Calendar()
        plain: list[Occurrence] = []
        if zone := calendar.properties.get("X-WR-TIMEZONE"):
            result.add("X-WR-TIMEZONE", zone)
        repeated = raw.repeated_uids(calendar)
        plainly = self._plain_series(calendar, first, last, repeated, deadline)
        # Time zones first: icalendar resolves TZIDs against the VTIMEZONEs it has already seen.
        blocks = sorted(calendar.blocks, key=lambda b: b.name != "VTIMEZONE")
        for block in blocks:
            if deadline.passed():
                self.warnings.append("stopped reading after the time allowed: the rest is left out")
                break
            if id(block) in plainly.blocks or raw.outside(block, first, last, repeated):
                continue
            quick = None if block.uid in repeated else reader.plain(block)
            if quick is not None:
                plain.append(quick)
                continue
            parts = simple.series_parts(block) if block.name != "VTIMEZONE" else None
            # A series: icalendar reads only the lines its recurrence needs, we read the rest.
            lines = [*parts[0][:-1], reader.refer(parts[1]), parts[0][-1]] if parts else block.lines
            if block.recurs:
                lines = raw.dates_near(lines, first, last)
            if (component := self._parse_block(block, lines)) is not None:
                result.add_component(component)
        return result, plain, plainly

    def _plain_series(
        self,
        calendar: raw.RawCalendar,
        first: date,
        last: date,
        repeated: set[str],
        deadline: Deadline,
    ) -> rules.Plainly:
        """Read the plain recurring series from their lines, to expand with dateutil."""
        found = rules.Plainly()
        zone = rules.calendar_zone(calendar.properties)
        if zone is False:
            return found
        groups: dict[str, list[raw.Block]] = {}
        for position, block in enumerate(calendar.blocks):
            found.positions.setdefault(block.uid, position)
            if block.uid and (block.recurs or block.uid in repeated):
                groups.setdefault(block.uid, []).append(block)
        for blocks in groups.values():
            if deadline.passed():
                break
            if not any(b.recurs for b in blocks):
                continue
            series = rules.read(blocks, first, last, zone if isinstance(zone, ZoneInfo) else None)
            if series is not None:
                found.series.append(series)
                found.blocks.update(id(b) for b in blocks)
        return found

    def _parse_block(self, block: raw.Block, lines: list[str]) -> icalendar.cal.Component | None:
        component, dropped = lenient.parse(lines)
        if component is None:
            self._skip(block, "it is not valid iCalendar")
            return None
        if block.name == "VTIMEZONE":
            return component
        problem = _unusable(component) or _too_frequent(component)
        if problem:
            self._skip(block, problem)
            return None
        if any(name is None for name, _ in component.errors):
            what = label(block.name, block.summary, block.uid)
            self.warnings.append(
                f"{what} at line {block.line_no}: ignored lines that are not iCalendar"
            )
        dropped += _drop_broken_times(component) + lenient.drop_broken(component)
        if dropped:
            what = label(block.name, block.summary, block.uid)
            self.warnings.append(
                f"{what} at line {block.line_no}: ignored its unreadable {', '.join(dropped)}"
            )
        return component

    def _skip(self, block: raw.Block, why: str) -> None:
        what = label(block.name, block.summary, block.uid)
        self.warnings.append(f"skipped {what} at line {block.line_no}: {why}")


Packed = tuple[list[Occurrence], list[tuple[int, date, date]]]
# One instance: the occurrence of its component (times aside) and its own start and end.
Timed = tuple[Occurrence, date, date]
T = TypeVar("T", Occurrence, Timed)


def pack(found: list[Timed]) -> Packed:
    """Return occurrences as what crosses the pipe cheaply: each component's occurrence once,
    and per instance its index with its times (pickling 85,000 dataclasses costs seconds)."""
    templates: list[Occurrence] = []
    index: dict[int, int] = {}
    instances = []
    for template, start, end in found:
        number = index.get(id(template))
        if number is None:
            number = index[id(template)] = len(templates)
            templates.append(template)
        instances.append((number, start, end))
    return templates, instances


def unpack(packed: Packed) -> list[Occurrence]:
    templates, instances = packed
    return [_with_times(templates[i], start, end) for i, start, end in instances]


def _with_times(t: Occurrence, start: date, end: date) -> Occurrence:
    if start == t.start and end == t.end:
        return t
    return Occurrence(
        t.uid, start, end, t.title, t.all_day, t.location, t.description, t.organizer,
        t.attendees, t.status, t.transparent, t.component, t.recurring, t.my_response,
    )  # fmt: skip


def _too_frequent(component: Any) -> str:
    every = too_frequent(component)
    return f"it repeats {every}, more often than anyone meets" if every else ""


def _unusable(component: Any) -> str:
    """Return why a component cannot give occurrences, or '' when it can."""
    if "DTSTART" not in component:
        if component.name == "VTODO" and "DUE" in component:
            return ""
        return "it has no start time"
    if not _readable(component, "DTSTART") or "DTSTART" in _names(component.errors):
        return "its start time is unreadable"
    if "RECURRENCE-ID" in component and not _readable(component, "RECURRENCE-ID"):
        return "its RECURRENCE-ID is unreadable"
    return ""


def _drop_broken_times(component: Any) -> list[str]:
    """Remove optional time properties that cannot be read; return their names."""
    dropped = [n for n in _TIME_PROPERTIES if n in component and not _readable(component, n)]
    for name in dropped:
        del component[name]
    return dropped


def _names(errors: list) -> set[str]:
    return {str(name).upper() for name, _ in errors if name}


def _readable(component: Any, name: str) -> bool:
    values = component[name]
    for value in values if isinstance(values, list) else [values]:
        try:
            times = value.dts if hasattr(value, "dts") else [value]
            for item in times:
                if not isinstance(item.dt, date | timedelta | tuple):
                    return False
        except (*BROKEN, icalendar.error.BrokenCalendarProperty):
            return False
    return True


def _start(found: Occurrence | Timed, tz: ZoneInfo) -> datetime:
    return found.starts_at(tz) if isinstance(found, Occurrence) else to_datetime(found[1], tz)


def _overlaps(occ: Occurrence | Timed, start: datetime, end: datetime, tz: ZoneInfo) -> bool:
    if isinstance(occ, Occurrence):
        begins, ends = occ.starts_at(tz), occ.ends_at(tz)
    else:
        begins, ends = to_datetime(occ[1], tz), to_datetime(occ[2], tz)
    if ends <= begins:
        return start <= begins < end
    return begins < end and ends > start
