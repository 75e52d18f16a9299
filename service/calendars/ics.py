"""Read iCalendar data into occurrences: lenient about broken events, exact about time."""

from __future__ import annotations

import warnings
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events

from service.calendars import raw
from service.calendars.convert import to_occurrence
from service.calendars.zones import resolve_zone
from service.engine.model import Occurrence

COMPONENTS = ("VEVENT", "VTODO", "VJOURNAL")
_TIME_PROPERTIES = ("DTEND", "DUE", "DURATION", "EXDATE", "RDATE")
# Anything a third-party parser may raise on broken input; we isolate it to one event.
_BROKEN = (ValueError, TypeError, KeyError, AttributeError, IndexError, ArithmeticError)


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
        self, start: datetime, end: datetime, tz: ZoneInfo, me: str
    ) -> list[Occurrence]:
        """Expand every component into the occurrences overlapping [start, end), sorted."""
        first, last = (start - timedelta(days=2)).date(), (end + timedelta(days=2)).date()
        found: list[Occurrence] = []
        for calendar in self.calendars:
            parsed = self._parse(calendar, first, last)
            cancelled = calendar.properties.get("METHOD", "").upper() == "CANCEL"
            series = {b.uid for b in calendar.blocks if b.recurs}
            for component in self._expand(parsed, start, end):
                occ = to_occurrence(component, tz, me, cancelled=cancelled, series=series)
                if occ is not None and _overlaps(occ, start, end, tz):
                    found.append(occ)
        found.sort(key=lambda o: (o.starts_at(tz), o.uid))
        return found

    def _parse(self, calendar: raw.RawCalendar, first: date, last: date) -> icalendar.Calendar:
        """Parse the blocks that can matter for the window into one icalendar Calendar."""
        result = icalendar.Calendar()
        if zone := calendar.properties.get("X-WR-TIMEZONE"):
            result.add("X-WR-TIMEZONE", zone)
        repeated = raw.repeated_uids(calendar)
        # Time zones first: icalendar resolves TZIDs against the VTIMEZONEs it has already seen.
        blocks = sorted(calendar.blocks, key=lambda b: b.name != "VTIMEZONE")
        for block in blocks:
            if not raw.outside(block, first, last, repeated):
                component = self._parse_block(block)
                if component is not None:
                    result.add_component(component)
        return result

    def _parse_block(self, block: raw.Block) -> icalendar.cal.Component | None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # icalendar warns on guessed vendor TZIDs
                component = icalendar.Component.from_ical(block.text)
        except _BROKEN as exc:
            self._skip(block, f"it cannot be parsed ({_first_line(exc)})")
            return None
        if block.name == "VTIMEZONE":
            return component
        problem = _unusable(component)
        if problem:
            self._skip(block, problem)
            return None
        if any(name is None for name, _ in component.errors):
            what = _label(block.name, block.summary, block.uid)
            self.warnings.append(
                f"{what} at line {block.line_no}: ignored lines that are not iCalendar"
            )
        if dropped := _drop_broken_times(component):
            what = _label(block.name, block.summary, block.uid)
            self.warnings.append(
                f"{what} at line {block.line_no}: ignored its unreadable {', '.join(dropped)}"
            )
        return component

    def _expand(self, calendar: icalendar.Calendar, start: datetime, end: datetime) -> list:
        """Expand the whole calendar at once; on a broken series, expand series one by one."""
        try:
            return _between(calendar, start, end)
        except _BROKEN:
            pass
        found: list = []
        for uid, series in _by_uid(calendar).items():
            try:
                found.extend(_between(_calendar_of(calendar, series), start, end))
            except _BROKEN as exc:
                self.warnings.append(
                    f"skipped {_describe(series[0], uid)}: its recurrence cannot be expanded "
                    f"({_first_line(exc)})"
                )
        return found

    def _skip(self, block: raw.Block, why: str) -> None:
        what = _label(block.name, block.summary, block.uid)
        self.warnings.append(f"skipped {what} at line {block.line_no}: {why}")


def _between(calendar: icalendar.Calendar, start: datetime, end: datetime) -> list:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        query = recurring_ical_events.of(calendar, components=COMPONENTS)
        return list(query.between(start, end))


def _by_uid(calendar: icalendar.Calendar) -> dict[str, list]:
    series: dict[str, list] = defaultdict(list)
    for component in calendar.subcomponents:
        if component.name in COMPONENTS:
            series[str(component.get("UID", id(component)))].append(component)
    return series


def _calendar_of(calendar: icalendar.Calendar, components: Iterable) -> icalendar.Calendar:
    single = icalendar.Calendar()
    for key, value in calendar.property_items(recursive=False):
        if key not in ("BEGIN", "END"):
            single.add(key, value)
    for component in calendar.subcomponents:
        if component.name == "VTIMEZONE":
            single.add_component(component)
    for component in components:
        single.add_component(component)
    return single


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
        except (*_BROKEN, icalendar.error.BrokenCalendarProperty):
            return False
    return True


def _overlaps(occ: Occurrence, start: datetime, end: datetime, tz: ZoneInfo) -> bool:
    begins, ends = occ.starts_at(tz), occ.ends_at(tz)
    if ends <= begins:
        return start <= begins < end
    return begins < end and ends > start


def _describe(component: Any, uid: str) -> str:
    return _label(component.name, str(component.get("SUMMARY", "")), uid)


def _label(kind: str, summary: str, uid: str) -> str:
    noun = {"VEVENT": "event", "VTODO": "task", "VJOURNAL": "journal entry"}.get(kind, kind)
    title = " ".join("".join(ch for ch in summary if ch.isprintable()).split())[:60]
    if title:
        return f"{noun} {title!r}"
    return f"{noun} {uid[:60]!r}" if uid else noun


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    message = text[0] if text else type(exc).__name__
    return "".join(ch for ch in message if ch.isprintable())[:120]
