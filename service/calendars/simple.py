"""Read a plain single event straight from its lines, without icalendar's parser.

icalendar parses a content line in about 0.1 ms: a 30,000-event file costs seconds before
anything is expanded. Most events are plain: one time, a title, a few people. Those are read
here, in a few microseconds each, into the same Occurrence icalendar's path gives. Anything
unusual (a recurrence, a nested alarm, a time zone that is not an IANA name, a property we do
not read, a line that is not iCalendar, a quoted parameter with a comma) is left to the full
parser, which also says what it had to drop.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
from icalendar.parser.property import unescape_backslash

from service.calendars.convert import _address, _my_response, clean, end_of, localise
from service.calendars.raw import Block
from service.engine.model import Attendee, Occurrence

_MAX_TEXT = 2000
# What a plain event may hold; each is read, or checked and ignored as icalendar would keep it.
_TEXT = frozenset({"SUMMARY", "LOCATION", "DESCRIPTION", "STATUS", "TRANSP", "UID", "CLASS"})
_CHECKED = {
    "DTSTAMP": re.compile(r"\d{8}T\d{6}Z?"),
    "CREATED": re.compile(r"\d{8}T\d{6}Z?"),
    "LAST-MODIFIED": re.compile(r"\d{8}T\d{6}Z?"),
    "SEQUENCE": re.compile(r"[+-]?\d{1,9}"),
    "PRIORITY": re.compile(r"\d"),
}
_TIMES = frozenset({"DTSTART", "DTEND", "DURATION"})
# What the expander reads of a series; the rest of a series' component is read here.
_RECURRENCE = _TIMES | {"RRULE", "RDATE", "EXDATE", "EXRULE", "RECURRENCE-ID", "SEQUENCE"}
_PEOPLE = frozenset({"ORGANIZER", "ATTENDEE"})
_ONCE = _TEXT | _TIMES | {"ORGANIZER"}
_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_DATETIME = re.compile(r"(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(Z?)")
_NAME = re.compile(r"[A-Za-z0-9-]+")
UTC = ZoneInfo("UTC")


class NotSimple(Exception):
    """The event needs the full parser."""


def read(block: Block, tz: ZoneInfo, me: str, *, cancelled: bool) -> Occurrence | None:
    """Return the plain event's occurrence, None when it is not plain (use the full parser)."""
    if block.name != "VEVENT" or block.recurs or not block.start:
        return None
    try:
        return _occurrence(_properties(block.lines), tz, me, cancelled)
    except (NotSimple, ValueError, TypeError, OverflowError):
        return None


def _properties(lines: list[str]) -> dict[str, Any]:
    found: dict[str, Any] = {"ATTENDEE": []}
    for line in lines[1:-1]:
        name, params, value = _content_line(line)
        if name in _CHECKED:
            if params or not _CHECKED[name].fullmatch(value):
                raise NotSimple
        elif name in _ONCE:
            if name in found:
                raise NotSimple  # twice: icalendar keeps a list, which the full path handles
            found[name] = (params, value)
        elif name == "ATTENDEE":
            found["ATTENDEE"].append((params, value))
        elif not name.startswith("X-"):
            raise NotSimple
    return found


def _content_line(line: str) -> tuple[str, dict[str, str], str]:
    head, colon, value = line.partition(":")
    if '"' in head:
        head, value = _quoted(line)
    elif not colon:
        raise NotSimple  # not iCalendar: the full parser names it
    name, *pairs = head.split(";")
    name = name.strip().upper()
    if not _NAME.fullmatch(name):
        raise NotSimple
    params = {}
    for pair in pairs:
        key, equals, param = pair.partition("=")
        if not equals or "," in param.strip('"'):
            raise NotSimple
        params[key.strip().upper()] = param.strip('"')
    return name, params, value


def _quoted(line: str) -> tuple[str, str]:
    """Split a line whose parameters are quoted; a quoted separator goes to the full parser."""
    inside = False
    for index, char in enumerate(line):
        if char == '"':
            inside = not inside
        elif inside and char in ";:,":
            raise NotSimple
        elif char == ":" and not inside:
            return line[:index], line[index + 1 :]
    raise NotSimple


def series_parts(block: Block) -> tuple[list[str], Details] | None:
    """Split a series' component into the lines its recurrence needs (for icalendar and the
    expander) and everything else, read here once; None when the rest is not plain."""
    if block.name != "VEVENT":
        return None
    times, rest = [block.lines[0]], [block.lines[0]]
    for line in block.lines[1:-1]:
        key = line.partition(":")[0].split(";", 1)[0].strip().upper()
        if key in ("BEGIN", "END"):
            return None  # a nested alarm: the full parser reads it and says if it is broken
        if key in _RECURRENCE or key in ("UID", "SUMMARY"):  # the title names it in warnings
            times.append(line)
        if key not in _RECURRENCE:
            rest.append(line)
    try:
        details = Details(_properties([*rest, block.lines[-1]]))
    except (NotSimple, ValueError):
        return None
    return [*times, block.lines[-1]], details


class Details:
    """What a component says besides its times, read once for all its instances."""

    __slots__ = ("found", "templates")

    def __init__(self, found: dict[str, Any]) -> None:
        self.found = found
        self.templates: dict[tuple[str, bool, bool], Occurrence] = {}

    def template(self, me: str, cancelled: bool, recurring: bool) -> Occurrence:
        """Return the occurrence without its times (times_at() gives each instance its own)."""
        key = (me, cancelled, recurring)
        if key not in self.templates:
            self.templates[key] = _template(self.found, me, cancelled, recurring)
        return self.templates[key]


def _occurrence(found: dict[str, Any], tz: ZoneInfo, me: str, cancelled: bool) -> Occurrence:
    if "DTSTART" not in found:
        raise NotSimple
    start = _when(*found["DTSTART"])
    begins = localise(start, tz)
    return replace(
        _template(found, me, cancelled, False),
        start=begins,
        end=end_of(_end(found, start), begins, tz),
        all_day=not isinstance(begins, datetime),
    )


def _template(found: dict[str, Any], me: str, cancelled: bool, recurring: bool) -> Occurrence:
    attendees = tuple(a for a in (_attendee(*each) for each in found["ATTENDEE"]) if a)
    organizer = _address(_text(found, "ORGANIZER", raw=True))
    status = _text(found, "STATUS", "CONFIRMED").strip().lower()
    return Occurrence(
        uid=clean(_text(found, "UID"), 255),
        start=date.min,
        end=date.min,
        title=clean(_text(found, "SUMMARY"), 255),
        recurring=recurring,
        location=clean(_text(found, "LOCATION"), 255),
        description=clean(_text(found, "DESCRIPTION"), _MAX_TEXT, lines=True),
        organizer=organizer,
        attendees=attendees,
        status="cancelled" if cancelled else status,
        transparent=_text(found, "TRANSP").strip().upper() == "TRANSPARENT",
        my_response=_my_response(attendees, organizer, me),
    )


def _text(found: dict[str, Any], name: str, default: str = "", *, raw: bool = False) -> str:
    if name not in found:
        return default
    value = found[name][1]
    return value if raw else unescape_backslash(value)


def _end(found: dict[str, Any], start: date) -> Any:
    if "DTEND" in found:
        end = _when(*found["DTEND"])
        # Mixed types and ends before starts are the expander's to settle (it swaps them).
        if "DURATION" in found or isinstance(end, datetime) != isinstance(start, datetime):
            raise NotSimple
        timed = isinstance(end, datetime) and isinstance(start, datetime)
        if timed and (end.tzinfo is None) != (start.tzinfo is None):  # type: ignore[attr-defined]
            raise NotSimple
        if end < start:
            raise NotSimple
        return end
    if "DURATION" in found:
        duration = icalendar.vDuration.from_ical(found["DURATION"][1].strip())
        if not isinstance(duration, timedelta) or duration < timedelta(0):
            raise NotSimple
        if not isinstance(start, datetime) and duration % timedelta(days=1):
            raise NotSimple  # hours after a date: the expander makes it a timed event
        return start + duration
    return None


def _when(params: dict[str, str], value: str) -> date:
    kind = params.get("VALUE", "").upper()
    if set(params) - {"VALUE", "TZID"} or kind not in ("", "DATE", "DATE-TIME"):
        raise NotSimple
    if len(value) == 8 and kind != "DATE-TIME" and (found := _DATE.fullmatch(value)):
        if "TZID" in params:
            raise NotSimple
        return date(*map(int, found.groups()))
    found = _DATETIME.fullmatch(value)
    if found is None or kind == "DATE":
        raise NotSimple
    year, month, day, hour, minute, second, utc = found.groups()
    if utc and "TZID" in params:
        raise NotSimple
    zone = UTC if utc else _zone(params["TZID"]) if "TZID" in params else None
    parts = (int(year), int(month), int(day), int(hour), int(minute), int(second))
    return datetime(*parts, tzinfo=zone)


@cache
def _zone(tzid: str) -> ZoneInfo:
    """Return the IANA zone a TZID names exactly; anything else goes to the full parser."""
    if not tzid or tzid.startswith("/") or ".." in tzid or tzid != tzid.strip():
        raise NotSimple
    try:
        return ZoneInfo(tzid)
    except (ZoneInfoNotFoundError, ValueError):
        raise NotSimple from None


def _attendee(params: dict[str, str], value: str) -> Attendee | None:
    email = _address(value)
    if not email:
        return None
    return Attendee(
        email=email,
        name=clean(params.get("CN", ""), 120),
        status=params.get("PARTSTAT", "NEEDS-ACTION").lower(),
        cutype=params.get("CUTYPE", "INDIVIDUAL").lower(),
        role=params.get("ROLE", "REQ-PARTICIPANT").lower(),
    )
