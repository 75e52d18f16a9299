"""Split iCalendar text into components without parsing them, so one broken part loses only itself.

icalendar parses a whole file or fails on the first bad line; many real feeds have one bad
event among hundreds. We cut the text into top-level components first (a cheap line scan), then
parse each one alone. The same scan lets us skip single events that lie far outside the window
before paying for a full parse of them.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

# Components an occurrence can come from, and the time zones they need.
KEPT = frozenset({"VEVENT", "VTODO", "VJOURNAL", "VTIMEZONE"})
# Formats that look like iCalendar (BEGIN/END lines) but are something else, as people call them.
NOT_ICALENDAR = {
    "VCARD": "it is a contact card (vCard), not a calendar",
    "VNOTE": "it is a note (vNote), not a calendar",
    "XCALENDAR": "it wraps its events in XCALENDAR, which is not iCalendar (VCALENDAR)",
}
_FOLD = re.compile(r"(?:\r\n|\r|\n)+[ \t]")
_NEWLINE = re.compile(r"\r\n|\r|\n")
_DATE_VALUE = re.compile(r"(\d{8})(?:T\d{4,6}Z?)?\s*$")
_MAILTO = re.compile(r"mailto:([^\s;:,\"<>]+@[^\s;:,\"<>]+)", re.IGNORECASE)
_RECURRENCE = ("RRULE", "RDATE", "EXRULE", "RECURRENCE-ID")


class NotICalendar(ValueError):
    """The data holds no iCalendar content at all."""


@dataclass(slots=True)
class Block:
    """One top-level component as raw unfolded lines, with what the pre-filter needs."""

    name: str
    lines: list[str]
    line_no: int
    uid: str = ""
    summary: str = ""
    start: str = ""
    end: str = ""
    tzid: str = ""
    organizer: str = ""
    has_duration: bool = False
    recurs: bool = False

    @property
    def text(self) -> str:
        return "\r\n".join(self.lines) + "\r\n"


@dataclass(slots=True)
class RawCalendar:
    """One VCALENDAR (or a bare component list) cut into blocks."""

    properties: dict[str, str] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)
    complete: bool = True


def decode(data: bytes) -> str:
    """Return the text of an iCalendar file, whatever its byte order mark or legacy encoding."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def split_calendars(text: str) -> list[RawCalendar]:
    """Cut unfolded text into calendars and their top-level blocks.

    Raise NotICalendar when there is nothing of iCalendar in it, naming what it is instead when
    it is another format written the same way (a vCard, events wrapped in XCALENDAR).
    """
    lines = _NEWLINE.split(_FOLD.sub("", text))
    splitter = _Splitter()
    for number, line in enumerate(lines, start=1):
        if line.strip():
            splitter.feed(line, number)
    calendars = splitter.finish()
    if not any(c.blocks or c.properties for c in calendars) and splitter.foreign:
        raise NotICalendar(_what_instead(splitter.foreign))
    if not calendars:
        raise NotICalendar("it is not an iCalendar file (no BEGIN:VCALENDAR or BEGIN:VEVENT)")
    return calendars


def _what_instead(foreign: Counter[str]) -> str:
    return NOT_ICALENDAR[foreign.most_common(1)[0][0]]


class _Splitter:
    """A line-by-line state machine: calendar level, inside a block, or outside everything."""

    def __init__(self) -> None:
        self.calendars: list[RawCalendar] = []
        self.current: RawCalendar | None = None
        self.block: Block | None = None
        self.depth = 0  # nesting inside the current block (VALARM in VEVENT...)
        self.bare = False  # components with no VCALENDAR around them
        self.foreign: Counter[str] = Counter()  # top-level components of other formats

    def feed(self, line: str, number: int) -> None:
        name, _, value = line.partition(":")
        key = name.split(";", 1)[0].strip().upper()
        if self.block is not None:
            self._inside_block(key, value, line)
        elif key == "BEGIN" and value.strip().upper() == "VCALENDAR":
            self.current = RawCalendar(complete=False)
            self.calendars.append(self.current)
            self.bare = False
        elif key == "END" and value.strip().upper() == "VCALENDAR" and self.current:
            self.current.complete = True
            self.current = None
        elif key == "BEGIN":
            self._open_block(value.strip().upper(), line, number)
        elif self.current is not None and key:
            self.current.properties.setdefault(key, value.strip())

    def _open_block(self, name: str, line: str, number: int) -> None:
        if self.current is None and name in NOT_ICALENDAR:
            self.foreign[name] += 1
        if self.current is None:  # a bare VEVENT with no calendar around it
            self.current = RawCalendar()
            self.calendars.append(self.current)
            self.bare = True
        self.block = Block(name=name, lines=[line], line_no=number)
        self.depth = 0

    def _inside_block(self, key: str, value: str, line: str) -> None:
        block = self.block
        assert block is not None
        block.lines.append(line)
        if key == "BEGIN":
            self.depth += 1
        elif key == "END":
            if self.depth == 0:
                self._close_block(block)
            else:
                self.depth -= 1
        elif self.depth == 0:
            _note_property(block, key, value, line)

    def _close_block(self, block: Block) -> None:
        if block.name in KEPT and self.current is not None:
            self.current.blocks.append(block)
        self.block = None
        if self.bare:
            self.current = None

    def finish(self) -> list[RawCalendar]:
        if self.block is not None and self.current is not None:
            self.current.complete = False  # the file stops inside a component
        return [c for c in self.calendars if c.blocks or c.properties or c.complete]


def _note_property(block: Block, key: str, value: str, line: str) -> None:
    """Remember the few properties the pre-filter and warnings need."""
    if key == "UID":
        block.uid = value.strip()
    elif key == "SUMMARY":
        block.summary = value.strip()
    elif key == "DTSTART":
        block.start = _date_of(line)
        block.tzid = block.tzid or _tzid_of(line)
    elif key == "TZID":
        block.tzid = value.strip()
    elif key == "ORGANIZER":
        match = _MAILTO.search(line)
        block.organizer = match.group(1).lower() if match else ""
    elif key in ("DTEND", "DUE"):
        block.end = _date_of(line)
    elif key == "DURATION":
        block.has_duration = True
    elif key in _RECURRENCE:
        block.recurs = True


def _tzid_of(line: str) -> str:
    match = _TZID_PARAM.search(line)
    return match.group(1).strip('"') if match else ""


def _date_of(line: str) -> str:
    match = _DATE_VALUE.search(line)
    return match.group(1) if match else ""


def outside(block: Block, first: date, last: date, repeated_uids: set[str]) -> bool:
    """Return whether a single, non-recurring event surely lies outside [first, last] (local dates).

    Only plain VEVENTs with readable dates qualify; anything recurring, shared by several
    components (overrides, several SEQUENCEs) or odd is kept for the full parser to judge.
    """
    if block.name != "VEVENT" or block.recurs or not block.start or block.uid in repeated_uids:
        return False
    start = _to_date(block.start)
    if start is None:
        return False
    if start > last:
        return True
    if block.has_duration:
        return False
    end = _to_date(block.end) if block.end else start
    return end is not None and end < first


def _to_date(text: str) -> date | None:
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return None


def repeated_uids(calendar: RawCalendar) -> set[str]:
    """Return the UIDs that more than one component in the calendar shares."""
    counts = Counter(b.uid for b in calendar.blocks if b.name == "VEVENT")
    return {uid for uid, n in counts.items() if n > 1}


def organizers(calendars: list[RawCalendar]) -> Counter[str]:
    """Count the ORGANIZER addresses of all events (to infer whose calendar this is)."""
    return Counter(b.organizer for c in calendars for b in c.blocks if b.organizer)


def used_tzids(calendars: list[RawCalendar]) -> set[str]:
    """Return the TZIDs the calendar defines or its events start in."""
    return {b.tzid for c in calendars for b in c.blocks if b.tzid}


_TZID_PARAM = re.compile(r";TZID=(\"[^\"]*\"|[^;:]+)", re.IGNORECASE)


# An RDATE or EXDATE list longer than this is cut to the dates near the window before parsing:
# icalendar reads 200,000 values in seconds, and only a few can matter for a window.
LONG_LIST = 100
_LIST_KEYS = ("RDATE", "EXDATE")
_DATE_PREFIX = re.compile(r"\d{8}")


def dates_near(lines: list[str], first: date, last: date) -> list[str]:
    """Return the lines with each long RDATE or EXDATE list cut to the values dated within
    [first, last] (local dates, the caller's margin included); other lines as they are."""
    low, high = first.strftime("%Y%m%d"), last.strftime("%Y%m%d")
    kept = []
    for line in lines:
        head, colon, values = line.partition(":")
        key = head.split(";", 1)[0].strip().upper()
        if key not in _LIST_KEYS or values.count(",") < LONG_LIST or '"' in head:
            kept.append(line)
            continue
        near = [v for v in values.split(",") if _near(v, low, high)]
        if near:
            kept.append(f"{head}{colon}{','.join(near)}")
    return kept


def _near(value: str, low: str, high: str) -> bool:
    day = value.strip()[:8]
    # A value that does not start with a date is kept for the full parser to judge.
    return not _DATE_PREFIX.fullmatch(day) or low <= day <= high
