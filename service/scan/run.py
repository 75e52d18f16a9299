"""`touchpoint scan` without the command line: read a calendar, run the engine over a window."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import BinaryIO
from zoneinfo import ZoneInfo

from service.calendars.budget import DEFAULT, Budget
from service.calendars.guard import Tripped
from service.calendars.ics import CalendarError, IcsCalendar
from service.calendars.zones import resolve_zone
from service.config import Network
from service.engine.model import STAGES, Profile, Stage, Window, WorkingHours
from service.engine.plan import Plan, lookback, plan

MAX_BYTES = 10 * 1024 * 1024
_URL = re.compile(r"^(https?|webcals?)://", re.IGNORECASE)
_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


class ScanError(ValueError):
    """The scan cannot run; the message is one sentence for the person who asked."""


@dataclass(frozen=True, slots=True)
class ScanOptions:
    """What the person asked for; None means "work it out from the calendar"."""

    start: str | None = None
    end: str | None = None
    days: int = 14
    tz: str | None = None
    me: str | None = None
    manager: str = ""
    stage: Stage = "growth"
    goal: str = ""
    hours: str = "09:00-17:30"
    # Prep notes are written for this many days from the window's start (TOUCHPOINT_NOTE_DAYS).
    note_days: int = 14


@dataclass(frozen=True, slots=True)
class ScanReport:
    plan: Plan
    profile: Profile
    calendar_name: str
    warnings: list[str] = field(default_factory=list)


def read_source(calendar: str, stdin: BinaryIO, allow_networks: Sequence[Network] = ()) -> bytes:
    """Return the bytes of a calendar given as a path, '-' (stdin) or an http(s)/webcal(s) URL."""
    if calendar == "-":
        return _capped(stdin.read(MAX_BYTES + 1), "standard input")
    if _URL.match(calendar):
        # Imported only for a URL: the guarded HTTP client costs a tenth of a second to load.
        from service.adapters.http import FetchError, fetch

        try:
            return fetch(calendar, allow_networks=allow_networks, max_bytes=MAX_BYTES).content
        except FetchError as exc:
            raise ScanError(f"cannot fetch the calendar: {exc}") from None
    path = Path(calendar)
    try:
        with path.open("rb") as handle:
            return _capped(handle.read(MAX_BYTES + 1), path.name)
    except OSError as exc:
        raise ScanError(f"cannot read {calendar}: {exc.strerror or exc}") from None


def _capped(data: bytes, what: str) -> bytes:
    if len(data) > MAX_BYTES:
        raise ScanError(f"{what} is too big: calendars over {MAX_BYTES // 2**20} MiB are refused")
    return data


def scan(data: bytes, options: ScanOptions, today: date, budget: Budget = DEFAULT) -> ScanReport:
    """Run the engine over the window the options describe ("now" is the window's start)."""
    try:
        calendar = IcsCalendar.from_bytes(data)
    except CalendarError as exc:
        raise ScanError(f"cannot read the calendar: {exc}") from None
    tz = zone_option(options.tz) if options.tz else calendar.zone() or ZoneInfo("UTC")
    window = window_of(options, tz, today)
    profile = profile_of(options, tz, options.me or calendar.owner())
    span = lookback(profile, window)

    try:
        occurrences = calendar.read(span.start, span.end, tz, profile.me, budget, window.start)
    except Tripped as exc:
        raise ScanError(f"cannot read the calendar: {exc}") from None
    result = plan(occurrences, profile, window, notes_until=notes_until(options, window, tz))
    return ScanReport(result, profile, calendar.name, calendar.warnings)


def notes_until(options: ScanOptions, window: Window, tz: ZoneInfo) -> datetime:
    """Return the end of the notes' horizon: note_days whole local days from the window's start."""
    if options.note_days < 1:
        raise ScanError("--note-days must be at least 1")
    local = window.start.astimezone(tz)
    return datetime.combine(local.date() + timedelta(days=options.note_days), local.time(), tz)


def zone_option(name: str) -> ZoneInfo:
    zone = resolve_zone(name)
    if zone is None:
        raise ScanError(f"unknown time zone {name!r}: use an IANA name such as Europe/Berlin")
    return zone


def window_of(options: ScanOptions, tz: ZoneInfo, today: date) -> Window:
    start = parse_when(options.start, tz) if options.start else _midnight(today, tz)
    if options.end:
        end = parse_when(options.end, tz)
    else:
        if options.days < 1:
            raise ScanError("--days must be at least 1")
        # Whole local days, so a window across a DST change still ends at local midnight.
        local = start.astimezone(tz)
        end = datetime.combine(local.date() + timedelta(days=options.days), local.time(), tz)
    if end <= start:
        raise ScanError("the window is empty: --to must be after --from")
    return Window(start, end)


def parse_when(text: str, tz: ZoneInfo) -> datetime:
    """Read an ISO date (midnight in tz) or date-time (with offset or Z; naive means in tz)."""
    value = text.strip()
    try:
        if len(value) == 10:
            return _midnight(date.fromisoformat(value), tz)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ScanError(f"{text!r} is not an ISO date or date-time (2026-03-02, ...)") from None
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment.astimezone(tz)


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tz)


def profile_of(options: ScanOptions, tz: ZoneInfo, me: str) -> Profile:
    if options.stage not in STAGES:
        raise ScanError(f"unknown stage {options.stage!r}: use one of {', '.join(STAGES)}")
    return Profile(
        me=me.strip().lower(),
        tz=tz,
        manager=options.manager.strip().lower(),
        stage=options.stage,
        goal=options.goal.strip(),
        hours=parse_hours(options.hours),
    )


def parse_hours(text: str) -> WorkingHours:
    """Read working hours such as 09:00-17:30."""
    match = _HOURS.match(text)
    try:
        if not match:
            raise ValueError
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        start, end = time(h1, m1), time(h2, m2)
    except ValueError:
        raise ScanError(f"--hours {text!r} is not a range such as 09:00-17:30") from None
    if end <= start:
        raise ScanError(f"--hours {text!r} ends before it starts")
    return WorkingHours(start=start, end=end)
