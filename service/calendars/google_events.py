"""Google Calendar's event JSON written as iCalendar, for the same reader as an ICS feed.

Google's events already speak RFC 5545 for what is hard (RRULE, EXDATE and RDATE lines; changed
and cancelled instances keyed by their original start), so each event becomes a VEVENT written
with the icalendar library (which escapes hostile text). No I/O here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

import icalendar

from service.calendars.convert import clean
from service.calendars.zones import resolve_zone

Event = Mapping[str, Any]
_PARTSTAT = {
    "accepted": "ACCEPTED",
    "declined": "DECLINED",
    "tentative": "TENTATIVE",
    "needsAction": "NEEDS-ACTION",
}
_RECURRENCE = ("RRULE", "EXRULE", "RDATE", "EXDATE")
# Entries Google keeps on a calendar that are no meeting: where you work today, birthdays.
_NOT_MEETINGS = frozenset({"workingLocation", "birthday"})
_UNREADABLE = (KeyError, TypeError, ValueError, AttributeError)


def to_icalendar(events: Iterable[Event]) -> tuple[bytes, list[str]]:
    """Write Google events as one iCalendar text; return it and a warning per event left out."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Touchpoint//Google Calendar//EN")
    calendar.add("version", "2.0")
    warnings = []
    for event in events:
        try:
            component = vevent(event)
        except _UNREADABLE:
            title = clean(str(event.get("summary", "")), 60) or str(event.get("id", ""))[:60]
            warnings.append(f"skipped event {title!r}: its times cannot be read")
            continue
        if component is not None:
            calendar.add_component(component)
    return calendar.to_ical(), warnings


def vevent(event: Event) -> icalendar.Event | None:
    """Return a Google event as a VEVENT: a series with its rules, an instance as an override."""
    if event.get("eventType") in _NOT_MEETINGS:
        return None
    instance = "recurringEventId" in event
    cancelled = event.get("status") == "cancelled"
    if cancelled and not instance:
        return None  # a deleted event: nothing left to expand
    component = icalendar.Event()
    component.add("uid", str(event["recurringEventId"] if instance else event["id"]))
    if instance:
        component.add("recurrence-id", _when(event["originalStartTime"]))
    if cancelled:  # Google sends little more than which instance it was
        component.add("dtstart", _when(event["originalStartTime"]))
        component.add("status", "CANCELLED")
        return component
    component.add("dtstart", _when(event["start"]))
    component.add("dtend", _when(event["end"]))
    _describe(component, event)
    _recur(component, event.get("recurrence", []))
    return component


def _describe(component: icalendar.Event, event: Event) -> None:
    """Add what the engine reads: title, place, status, busy or free, people and answers."""
    component.add("summary", clean(str(event.get("summary", "")), 255))
    if location := clean(str(event.get("location", "")), 255):
        component.add("location", location)
    tentative = event.get("status") == "tentative"
    component.add("status", "TENTATIVE" if tentative else "CONFIRMED")
    free = event.get("transparency") == "transparent"
    component.add("transp", "TRANSPARENT" if free else "OPAQUE")
    if organizer := _address(event.get("organizer", {}), {}):
        component.add("organizer", organizer)
    for person in event.get("attendees", []):
        if attendee := _address(person, _attendance(person)):
            component.add("attendee", attendee)


def _attendance(person: Mapping[str, Any]) -> dict[str, str]:
    status = _PARTSTAT.get(str(person.get("responseStatus")), "NEEDS-ACTION")
    params = {"PARTSTAT": status}
    if person.get("resource"):
        params["CUTYPE"] = "RESOURCE"
    if person.get("optional"):
        params["ROLE"] = "OPT-PARTICIPANT"
    return params


def _address(person: Mapping[str, Any], params: Mapping[str, str]) -> icalendar.vCalAddress | None:
    email = clean(str(person.get("email", "")), 254).replace(" ", "")
    if "@" not in email:
        return None
    address = icalendar.vCalAddress(f"mailto:{email}")
    if name := clean(str(person.get("displayName", "")), 200):
        address.params["CN"] = name
    address.params.update(params)
    return address


def _recur(component: icalendar.Event, lines: Iterable[str]) -> None:
    """Copy Google's RRULE/EXDATE/RDATE lines, parsed one by one; unreadable ones are left out."""
    for line in lines:
        name = str(line).split(":", 1)[0].split(";", 1)[0].upper()
        if name not in _RECURRENCE or not str(line).isprintable():
            continue  # a line break would let one line smuggle in others
        parsed = icalendar.Event.from_ical(f"BEGIN:VEVENT\r\n{line}\r\nEND:VEVENT\r\n")
        if not parsed.errors and name in parsed:
            component.add(name, parsed[name])


def _when(value: Mapping[str, str]) -> date | datetime:
    """Return a Google start or end: a date (all day) or a time in the event's own zone."""
    if "dateTime" not in value:
        return date.fromisoformat(value["date"])
    moment = datetime.fromisoformat(value["dateTime"])
    zone = resolve_zone(str(value.get("timeZone") or "")) or UTC
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment.astimezone(zone)
