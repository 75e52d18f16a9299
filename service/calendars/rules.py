"""Expand a plain recurring series with dateutil directly, as recurring-ical-events would.

recurring-ical-events costs about 60 µs an instance (an occurrence object, comparable copies of
every time, a span check); dateutil's rrule, which it uses underneath, about 5 µs. Most series
are plain: one RRULE, a start in an IANA zone or UTC (or a date), an end or a duration, some
EXDATEs and RDATEs, some instances moved or cancelled through RECURRENCE-ID. Those are read
from their lines here and expanded the way recurring-ical-events 3.x does (DTSTART always the
first instance, EXDATE and RECURRENCE-ID matched by UTC time or by local wall time, a moved
instance shown where it moved to, once). Anything else (floating times, a TZID that is not an
IANA name, PERIOD values, RANGE=THISANDFUTURE, an EXRULE, several RRULEs or masters, a rule
dateutil rejects, a sub-hourly rule) returns None and goes the usual way, which also names
what it had to drop. tests/calendars/test_rules.py compares both on real shapes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr
from icalendar.parser.property import unescape_backslash

from service.calendars import raw, simple

UTC = ZoneInfo("UTC")
# What a rule may say (RFC 5545 3.3.10), upper case, each part once, never more often than
# hourly (the budget skips those, with a warning, the usual way); anything else goes the usual
# way, so dateutil only ever sees what recurring-ical-events would hand it.
_PART = re.compile(
    r"(FREQ=(YEARLY|MONTHLY|WEEKLY|DAILY|HOURLY)|INTERVAL=\d{1,4}|COUNT=\d{1,6}"
    r"|UNTIL=\d{8}(T\d{6}Z)?|WKST=(MO|TU|WE|TH|FR|SA|SU)"
    r"|BYDAY=[+-]?\d{0,2}(MO|TU|WE|TH|FR|SA|SU)(,[+-]?\d{0,2}(MO|TU|WE|TH|FR|SA|SU))*"
    r"|(BYMONTH|BYMONTHDAY|BYYEARDAY|BYWEEKNO|BYSETPOS|BYHOUR|BYMINUTE|BYSECOND)"
    r"=[+-]?\d{1,3}(,[+-]?\d{1,3})*)"
)
_TIMES = ("DTSTART", "DTEND", "DURATION", "RECURRENCE-ID")
_SERIES_ONLY = ("RRULE", "EXDATE", "RDATE")


@dataclass
class Plainly:
    """The series of one calendar read here, the blocks they took, and where each UID first
    appears, so that every series is expanded in the order of the file."""

    series: list[PlainSeries] = field(default_factory=list)
    blocks: set[int] = field(default_factory=set)
    positions: dict[str, int] = field(default_factory=dict)


class NotPlain(Exception):
    """The series needs recurring-ical-events."""


class Moved:
    """An instance moved or cancelled through RECURRENCE-ID: its own component and times."""

    __slots__ = ("details", "end", "ids", "start")

    def __init__(self, details: simple.Details, start: date, end: date, ids: tuple[Any, ...]):
        self.details, self.start, self.end, self.ids = details, start, end, ids


class Taken:
    """One instance: the component it comes from (its Details) and its own times."""

    __slots__ = ("component", "end", "start")

    def __init__(self, component: simple.Details, start: date, end: date) -> None:
        self.component, self.start, self.end = component, start, end

    def __lt__(self, other: Taken) -> bool:
        return self.start < other.start  # type: ignore[operator]  # one type in a series


class PlainSeries:
    """A series read from its lines and expanded with dateutil (see the module's notes)."""

    def __init__(
        self,
        uid: str,
        title: str,
        master: simple.Details,
        start: date,
        duration: timedelta,
        rule: rrule,
        extra: list[date],
        exdates: tuple[set[Any], set[date]],
        moved: list[Moved],
    ) -> None:
        self.uid, self.title, self.master = uid, title, master
        self.start, self.duration, self.rule, self.extra = start, duration, rule, extra
        self.all_day = not isinstance(start, datetime)
        self.exdate_ids, self.exdate_days = exdates
        self.moved = moved
        self.by_id: dict[Any, Moved] = {}
        for one in moved:
            for key in one.ids:
                self.by_id[key] = one
        # The days an EXDATE or a moved instance can be recognised on (a day either side for
        # UTC): only an instance on one of them is looked up by its UTC and wall times.
        keys = [*self.exdate_ids, *self.by_id]
        self.near = {(k + timedelta(days=d)).date() for k in keys for d in (-1, 0, 1)}
        self.step = _step(rule)

    @property
    def components(self) -> list[simple.Details]:
        return [self.master, *(m.details for m in self.moved)]

    def between(self, span_start: datetime, span_end: datetime) -> Iterator[Taken]:
        """Yield the instances overlapping [span_start, span_end), in no particular order."""
        low, high = span_start - self.duration, span_end
        if self.all_day:  # recurring-ical-events expands dates as naive midnights
            low, high = low.replace(tzinfo=None), high.replace(tzinfo=None)
        starts: set[Any] = set()
        shown: set[int] = set()
        excluded, days, by_id = self.exdate_ids, self.exdate_days, self.by_id
        extra = [s for s in self.extra if low <= s <= high]  # type: ignore[operator]
        near = self.near
        for start in _chain(extra, self._from(low).between(low, high, inc=True)):
            if start in starts:
                continue
            if days and start.date() in days:
                continue
            ids = _ids(start) if near and start.date() in near else ()
            if excluded and not excluded.isdisjoint(ids):
                continue
            moved = _any(by_id, ids) if by_id else None
            if moved is None:
                starts.add(start)
                end = start + self.duration
                if self.all_day:
                    start, end = start.date(), end.date()
                if _overlaps(start, end, span_start, span_end):
                    yield Taken(self.master, start, end)
            elif id(moved) not in shown:
                shown.add(id(moved))
                if _overlaps(moved.start, moved.end, span_start, span_end):
                    yield Taken(moved.details, moved.start, moved.end)
        for moved in self.moved:
            if id(moved) in shown or (excluded and not excluded.isdisjoint(moved.ids)):
                continue
            if _overlaps(moved.start, moved.end, span_start, span_end):
                shown.add(id(moved))
                yield Taken(moved.details, moved.start, moved.end)

    def _from(self, low: datetime) -> rrule:
        """Return the rule started again shortly before low, when that yields the same.

        dateutil walks every instance from DTSTART to the span; a weekly series begun two years
        ago walks a hundred weeks for a window of two. A rule without COUNT repeating whole days
        or weeks yields, from any of its periods on, what it yields from DTSTART: start it a
        period before the span (at the same wall time) instead.
        """
        if self.step is None:
            return self.rule
        begin = _like(self.start, self.start)
        periods = (low - begin) // self.step  # type: ignore[operator]
        if periods < 2:
            return self.rule
        return self.rule.replace(dtstart=begin + self.step * (periods - 1))


def _step(rule: rrule) -> timedelta | None:
    """Return the length of a rule's period when restarting it a whole period later changes
    nothing: DAILY or WEEKLY, no COUNT, only plain weekdays besides (None otherwise)."""
    text = getattr(rule, "_text", "")
    parts = dict(p.partition("=")[::2] for p in text.split(";"))
    if set(parts) - {"FREQ", "INTERVAL", "UNTIL", "BYDAY", "WKST"}:
        return None
    if any(ch.isdigit() for ch in parts.get("BYDAY", "")):
        return None
    days = {"DAILY": 1, "WEEKLY": 7}.get(parts.get("FREQ", ""))
    return timedelta(days=days * int(parts.get("INTERVAL", "1"))) if days else None


def _chain(first: list[Any], second: Iterator[Any]) -> Iterator[Any]:
    yield from first
    yield from second


def _any(found: dict[Any, Moved], keys: tuple[Any, ...]) -> Moved | None:
    result = None
    for key in keys:  # the last key found wins, as in recurring-ical-events' get_any
        result = found.get(key, result)
    return result


def _ids(moment: date) -> tuple[Any, ...]:
    """Return the keys a time is recognised by: its UTC time and its wall time, both naive."""
    if not isinstance(moment, datetime):
        return (datetime(moment.year, moment.month, moment.day),)
    if moment.tzinfo is None:
        return (moment,)
    return (moment.astimezone(UTC).replace(tzinfo=None), moment.replace(tzinfo=None))


def _overlaps(start: date, end: date, span_start: datetime, span_end: datetime) -> bool:
    """Say whether an instance overlaps the span; dates are midnights in the span's zone."""
    if not isinstance(start, datetime):
        start = datetime(start.year, start.month, start.day, tzinfo=span_start.tzinfo)
    if not isinstance(end, datetime):
        end = datetime(end.year, end.month, end.day, tzinfo=span_start.tzinfo)
    if start == end:
        return span_start <= start < span_end
    return start < span_end and span_start < end


def calendar_zone(properties: dict[str, str]) -> ZoneInfo | bool | None:
    """Return the X-WR-TIMEZONE recurring-ical-events moves UTC times into (None: none), or
    False when it names no zone (then recurring-ical-events fails, and this must too)."""
    name = properties.get("X-WR-TIMEZONE")
    if name is None:
        return None
    try:
        return ZoneInfo(name)
    except Exception:  # any name zoneinfo refuses, as recurring-ical-events would
        return False


def read(
    blocks: Sequence[raw.Block], first: date, last: date, zone: ZoneInfo | None = None
) -> PlainSeries | None:
    """Return the series these blocks (one UID: a master, its moved instances) make, or None
    when it is not plain enough to expand here. zone: the calendar's X-WR-TIMEZONE."""
    try:
        return _Reading(zone).series(blocks, first, last)
    except (NotPlain, simple.NotSimple, ValueError, TypeError, OverflowError, KeyError):
        return None


class _Reading:
    """One series' lines read as recurring-ical-events sees them (after X-WR-TIMEZONE)."""

    def __init__(self, zone: ZoneInfo | None) -> None:
        self.zone = zone

    def series(self, blocks: Sequence[raw.Block], first: date, last: date) -> PlainSeries:
        return _read(blocks, first, last, self)

    def when(self, params: dict[str, str], value: str) -> date:
        """Return a date, or a date-time in UTC or an IANA zone (floating: the usual way);
        with X-WR-TIMEZONE, UTC times move into it (x-wr-timezone, as the expander does)."""
        moment = simple._when(params, value)
        if isinstance(moment, datetime):
            if moment.tzinfo is None:
                raise NotPlain
            if self.zone is not None and (moment.tzname() or "").upper() == "UTC":
                return moment.astimezone(self.zone)
        return moment


def _read(blocks: Sequence[raw.Block], first: date, last: date, reading: _Reading) -> PlainSeries:
    masters = [b for b in blocks if not _has(b, "RECURRENCE-ID")]
    if len(masters) != 1 or any(b.name != "VEVENT" for b in blocks):
        raise NotPlain
    master = masters[0]
    lines = raw.dates_near(master.lines, first, last)
    found = _recurrence(lines)
    if "RECURRENCE-ID" in found or len(found.get("RRULE", ())) != 1:
        raise NotPlain
    start, _, duration = _times(found, reading)
    rule = _rule(found["RRULE"][0][1], start)
    details = _details(master)
    exdates = _dates(found.get("EXDATE", ()), start, reading)
    extra = [_like(v, start) for v in _dates(found.get("RDATE", ()), start, reading)]
    until = getattr(rule, "_until", None)
    if until is None or not _after(start, until):
        extra.append(_like(start, start))
    extra.sort()
    exdate_ids = {key for value in exdates for key in _ids(value)}
    exdate_days = {v for v in exdates if not isinstance(v, datetime)}
    moved = []
    seen: set[Any] = set()
    for block in blocks:
        if block is master:
            continue
        one = _moved(block, start, reading)
        if seen & set(one.ids):
            raise NotPlain  # the same instance moved twice: SEQUENCE decides, the usual way
        seen.update(one.ids)
        moved.append(one)
    title = unescape_backslash(_value(master, "SUMMARY"))
    uid = _value(master, "UID").strip()
    return PlainSeries(
        uid, title, details, start, duration, rule, extra, (exdate_ids, exdate_days), moved
    )


def _has(block: raw.Block, name: str) -> bool:
    return any(_key(line) == name for line in block.lines[1:-1])


def _key(line: str) -> str:
    return line.partition(":")[0].split(";", 1)[0].strip().upper()


def _value(block: raw.Block, name: str) -> str:
    for line in block.lines[1:-1]:
        if _key(line) == name:
            return line.partition(":")[2]
    return ""


def _recurrence(lines: list[str]) -> dict[str, list[tuple[dict[str, str], str]]]:
    """Return the lines a recurrence is read from, each (parameters, value), by name."""
    found: dict[str, list[tuple[dict[str, str], str]]] = {}
    for line in lines[1:-1]:
        key = _key(line)
        if key in ("EXRULE", "DUE") or key in ("BEGIN", "END"):
            raise NotPlain
        if key in _TIMES or key in _SERIES_ONLY:
            name, params, value = simple._content_line(line)
            found.setdefault(name, []).append((params, value.strip()))
    for name in _TIMES:
        if len(found.get(name, ())) > 1:
            raise NotPlain
    return found


def _times(
    found: dict[str, list[tuple[dict[str, str], str]]], reading: _Reading
) -> tuple[date, date, timedelta]:
    """Return the start, the end and how long each instance lasts, as recurring-ical-events
    reads them."""
    if "DTSTART" not in found:
        raise NotPlain
    start = reading.when(*found["DTSTART"][0])
    if "DTEND" in found:
        if "DURATION" in found:
            raise NotPlain
        end = reading.when(*found["DTEND"][0])
        if isinstance(end, datetime) != isinstance(start, datetime) or end < start:  # type: ignore[operator]
            raise NotPlain
        return start, end, end - start
    if "DURATION" in found:
        params, text = found["DURATION"][0]
        duration = simple.icalendar.vDuration.from_ical(text)
        if params or not isinstance(duration, timedelta) or duration < timedelta(0):
            raise NotPlain
        if not isinstance(start, datetime) and duration % timedelta(days=1):
            raise NotPlain  # hours after a date: recurring-ical-events makes it a timed event
        return start, start + duration, duration
    duration = timedelta(0) if isinstance(start, datetime) else timedelta(days=1)
    return start, start + duration, duration


def _rule(text: str, start: date) -> rrule:
    """Return the rule as recurring-ical-events builds it (from DTSTART, naive for dates)."""
    parts = text.split(";")
    names = [p.partition("=")[0] for p in parts]
    if len(set(names)) != len(names) or not all(_PART.fullmatch(p) for p in parts):
        raise NotPlain
    if "FREQ" not in names or ("COUNT" in names and "UNTIL" in names):
        raise NotPlain
    if "INTERVAL=0" in parts:
        raise NotPlain  # dateutil and icalendar disagree on what it means
    until = next((p[6:] for p in parts if p.startswith("UNTIL=")), None)
    if until is not None and (len(until) == 8) == isinstance(start, datetime):
        raise NotPlain  # a date UNTIL for a timed start, or a time for dates: settled there
    begin = _naive(start) if not isinstance(start, datetime) else start
    rule = rrulestr(text, dtstart=begin)  # walked once or twice a read: nothing to cache
    if not isinstance(rule, rrule):
        raise NotPlain
    rule._text = text  # type: ignore[attr-defined]  # read by _step
    return rule


def _naive(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)


def _like(value: date, start: date) -> date:
    """Return a start or RDATE as the rule yields them: naive midnights for a series of dates."""
    return value if isinstance(start, datetime) else _naive(value)


def _after(start: date, until: datetime) -> bool:
    return _like(start, start) > until  # type: ignore[operator,no-any-return]


def _dates(
    lines: Sequence[tuple[dict[str, str], str]], start: date, reading: _Reading
) -> list[date]:
    """Return the values of EXDATE or RDATE lines, each of the start's kind."""
    found = []
    for params, text in lines:
        for value in text.split(","):
            moment = reading.when(params, value.strip())
            if isinstance(moment, datetime) != isinstance(start, datetime):
                raise NotPlain  # mixed dates and times: recurring-ical-events converts them
            found.append(moment)
    return found


def _moved(block: raw.Block, start: date, reading: _Reading) -> Moved:
    found = _recurrence(block.lines)
    if any(name in found for name in _SERIES_ONLY) or "RECURRENCE-ID" not in found:
        raise NotPlain
    params, value = found["RECURRENCE-ID"][0]
    if "RANGE" in params:
        raise NotPlain
    recurrence_id = reading.when(params, value)
    begins, ends, _ = _times(found, reading)
    if isinstance(begins, datetime) != isinstance(start, datetime):
        raise NotPlain
    if isinstance(recurrence_id, datetime) != isinstance(start, datetime):
        raise NotPlain
    return Moved(_details(block), begins, ends, _ids(recurrence_id))


def _details(block: raw.Block) -> simple.Details:
    parts = simple.series_parts(block)
    if parts is None:
        raise NotPlain
    return parts[1]
