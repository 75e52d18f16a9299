"""Calendar API v3 beyond events: calendars, calendarList, freebusy.query, channels.stop."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.google_fake.events import owned
from tests.google_fake.state import Calendar, State
from tests.google_fake.wire import (
    Request,
    Response,
    api_error,
    json_response,
    new_id,
    no_content,
    parse_time,
    rfc3339,
)

FREEBUSY_MAX = 50


def insert_calendar(state: State, request: Request) -> Response:
    # Reference: https://developers.google.com/workspace/calendar/api/v3/reference/calendars/insert
    body = request.json()
    if not body.get("summary"):
        return api_error(400, "required", "Missing title.")
    calendar_id = f"{new_id()}@group.calendar.google.com"
    calendar = state.calendar(calendar_id, owner=request.user)
    calendar.summary = body["summary"]
    calendar.time_zone = body.get("timeZone", "UTC")
    return json_response(_calendar(calendar))


def get_calendar(state: State, request: Request, calendar_id: str) -> Response:
    # Reference: https://developers.google.com/workspace/calendar/api/v3/reference/calendars/get
    calendar = owned(state, request, calendar_id)
    return json_response(_calendar(calendar)) if calendar else api_error(404)


def list_calendars(state: State, request: Request) -> Response:
    # Reference: https://developers.google.com/workspace/calendar/api/v3/reference/calendarList/list
    state.calendar(request.user or "")
    mine = [c for c in state.calendars.values() if c.owner == request.user]
    items = [
        {**_calendar(c), "kind": "calendar#calendarListEntry", "accessRole": "owner"}
        | ({"primary": True} if c.id == request.user else {})
        for c in mine
    ]
    return json_response({"kind": "calendar#calendarList", "items": items})


def _calendar(calendar: Calendar) -> dict[str, Any]:
    return {
        "kind": "calendar#calendar",
        "etag": f'"{calendar.version}"',
        "id": calendar.id,
        "summary": calendar.summary,
        "timeZone": calendar.time_zone,
    }


def free_busy(state: State, request: Request) -> Response:
    """Busy intervals (UTC, clipped, merged) of each calendar the account may see."""
    # Reference: https://developers.google.com/workspace/calendar/api/v3/reference/freebusy/query
    body = request.json()
    if not body.get("timeMin") or not body.get("timeMax"):
        return api_error(400, "required", "Missing timeMin or timeMax.")
    if len(body.get("items", [])) > FREEBUSY_MAX:
        return api_error(400, "tooManyCalendarsRequested", "Too many calendars requested.")
    start, end = parse_time(body["timeMin"]), parse_time(body["timeMax"])
    calendars = {}
    for item in body.get("items", []):
        calendar_id = request.user if item["id"] == "primary" else item["id"]
        calendar = state.calendars.get(calendar_id or "")
        if calendar is None or not (calendar.free_busy_visible or calendar.owner == request.user):
            calendars[item["id"]] = {
                "errors": [{"domain": "global", "reason": "notFound"}],
                "busy": [],
            }
        else:
            calendars[item["id"]] = {"busy": _busy(calendar, start, end)}
    reply = {"kind": "calendar#freeBusy", "timeMin": rfc3339(start), "timeMax": rfc3339(end)}
    return json_response({**reply, "calendars": calendars})


def _busy(calendar: Calendar, start: datetime, end: datetime) -> list[dict[str, str]]:
    events = (_span(stored.body, calendar.owner) for stored in calendar.events.values())
    spans = sorted(
        (max(s, start), min(e, end)) for s, e in filter(None, events) if s < end and e > start
    )
    merged: list[list[datetime]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return [{"start": rfc3339(s), "end": rfc3339(e)} for s, e in merged]


def _span(body: dict[str, Any], owner: str) -> tuple[datetime, datetime] | None:
    """Return when an event makes its owner busy, or None when it does not."""
    declined = any(
        a.get("email") == owner and a.get("responseStatus") == "declined"
        for a in body.get("attendees", [])
    )
    if body.get("status") == "cancelled" or body.get("transparency") == "transparent" or declined:
        return None
    if "dateTime" not in body.get("start", {}):
        return None  # all-day events default to "free"; the fake keeps it at that
    return parse_time(body["start"]["dateTime"]), parse_time(body["end"]["dateTime"])


def stop_channel(state: State, request: Request) -> Response:
    # Reference: https://developers.google.com/workspace/calendar/api/v3/reference/channels/stop
    body = request.json()
    for channel in state.channels:
        same = (channel.id, channel.resource_id) == (body.get("id"), body.get("resourceId"))
        if same and not channel.stopped:
            channel.stopped = True
            return no_content()
    return api_error(404, "notFound", f"Channel '{body.get('id')}' not found for project.")
