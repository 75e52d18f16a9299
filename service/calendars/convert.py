"""Turn icalendar components into engine Occurrences: once per component, then per instance times.

Everything but the times depends on the component alone (the master or an override), so a
series is converted once (template_of) and each instance only gets its start and end (times_at).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from service.engine.model import Attendee, Occurrence

_MAX_TEXT = 2000
_ESCAPED_CR = re.compile(r"\\r(?=\n)")


def to_occurrence(
    component: Any, tz: ZoneInfo, me: str, *, cancelled: bool, series: set[str]
) -> Occurrence | None:
    """Return the occurrence a component describes, in tz, or None when it has no usable start."""
    return template_of(component, tz, me, cancelled=cancelled, series=series)


def times_at(start: Any, end: Any, tz: ZoneInfo) -> tuple[date, date] | None:
    """Return one instance's start and end in tz (None without a usable start)."""
    if not isinstance(start, date):
        return None
    begins = localise(start, tz)
    return begins, end_of(start + end if isinstance(end, timedelta) else end, begins, tz)


def template_of(
    component: Any, tz: ZoneInfo, me: str, *, cancelled: bool, series: set[str]
) -> Occurrence | None:
    """Return the occurrence a component describes at its own times, or None without a start.

    Args:
        series: UIDs of components that recur (expanded instances no longer say so themselves).
    """
    start = _start(component)
    if start is None:
        return None
    start = localise(start, tz)
    attendees = tuple(_attendees(component))
    organizer = _address(component.get("ORGANIZER"))
    uid = clean(str(component.get("UID", "")), 255)
    status = str(component.get("STATUS", "CONFIRMED")).strip().lower()
    return Occurrence(
        uid=uid,
        start=start,
        end=_end(component, start, tz),
        title=clean(str(component.get("SUMMARY", "")), 255),
        all_day=not isinstance(start, datetime),
        location=clean(str(component.get("LOCATION", "")), 255),
        description=clean(str(component.get("DESCRIPTION", "")), _MAX_TEXT, lines=True),
        organizer=organizer,
        attendees=attendees,
        status="cancelled" if cancelled else status,
        transparent=str(component.get("TRANSP", "")).strip().upper() == "TRANSPARENT",
        component=component.name,
        recurring=uid in series,
        my_response=_my_response(attendees, organizer, me),
    )


def clean(text: str, limit: int, *, lines: bool = False) -> str:
    """Strip control characters (and line breaks unless lines) from hostile calendar text."""
    # icalendar unescapes \n but leaves the \r of an escaped CRLF ("\r\n") behind.
    text = _ESCAPED_CR.sub("", text)
    if text.isprintable():  # the usual case, without looking at each character in Python
        return " ".join(text.split())[:limit]  # (no line breaks: they are not printable)
    if lines:
        kept = "".join(ch if ch.isprintable() or ch == "\n" else " " for ch in text)
        return "\n".join(" ".join(line.split()) for line in kept.splitlines()).strip()[:limit]
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())[:limit]


def _start(component: Any) -> date | None:
    for name in ("DTSTART", "DUE"):
        if name in component:
            value = component[name].dt
            return value if isinstance(value, date) else None
    return None


def localise(value: date, tz: ZoneInfo) -> date:
    """Return a time in tz (floating times and unknown TZIDs are read as in tz)."""
    if not isinstance(value, datetime):
        return value
    # Floating times and TZIDs nobody knows are read in the calendar's (or the scan's) zone.
    return value.replace(tzinfo=tz) if value.tzinfo is None else value.astimezone(tz)


def end_of(value: Any, start: date, tz: ZoneInfo) -> date:
    """Return an instance's end in tz: its own when of the start's type and not before it."""
    # An end of another type than the start (a date for a timed event) is ignored.
    if isinstance(value, date) and isinstance(value, datetime) == isinstance(start, datetime):
        end = localise(value, tz)
        return end if end >= start else start
    return start if isinstance(start, datetime) else start + timedelta(days=1)


def _end(component: Any, start: date, tz: ZoneInfo) -> date:
    name = "DUE" if component.name == "VTODO" else "DTEND"
    if name in component:
        value = component[name].dt
        if isinstance(value, date) and isinstance(value, datetime) == isinstance(start, datetime):
            return end_of(value, start, tz)
    if "DURATION" in component:
        duration = component["DURATION"].dt
        if isinstance(duration, timedelta) and duration >= timedelta(0):
            return start + duration
    return start if isinstance(start, datetime) else start + timedelta(days=1)


def _attendees(component: Any) -> list[Attendee]:
    values = component.get("ATTENDEE", [])
    found = []
    for value in values if isinstance(values, list) else [values]:
        email = _address(value)
        if not email:
            continue
        params = getattr(value, "params", {})
        found.append(
            Attendee(
                email=email,
                name=clean(str(params.get("CN", "")), 120),
                status=str(params.get("PARTSTAT", "NEEDS-ACTION")).lower(),
                cutype=str(params.get("CUTYPE", "INDIVIDUAL")).lower(),
                role=str(params.get("ROLE", "REQ-PARTICIPANT")).lower(),
            )
        )
    return found


def _address(value: Any) -> str:
    if value is None:
        return ""
    text = str(value).strip()
    if text[:7].lower() == "mailto:":
        text = text[7:]
    text = clean(text, 254).lower()
    return text if "@" in text and " " not in text else ""


def _my_response(attendees: tuple[Attendee, ...], organizer: str, me: str) -> str | None:
    """Return the owner's answer: their PARTSTAT, accepted when they organise, None if unknown."""
    if not me:
        return None
    for attendee in attendees:
        if attendee.email == me:
            return attendee.status
    if organizer == me or not attendees:
        return "accepted"
    return None
