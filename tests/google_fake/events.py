"""Calendar API v3 events: list (pages, sync tokens, 410), get, insert (409), patch, delete, watch.

Reference: https://developers.google.com/workspace/calendar/api/v3/reference/events
Known simplification: recurring series are stored and returned as given (RRULE + exceptions);
the fake never expands them, so singleEvents=true returns series unexpanded.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tests.google_fake.state import Calendar, Channel, State, Stored
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

EVENT_ID = re.compile(r"[a-v0-9]{5,1024}")
NOT_WITH_SYNC_TOKEN = {"timeMin", "timeMax", "orderBy", "q", "updatedMin", "iCalUID"}
TOMBSTONE_FIELDS = ("kind", "etag", "id", "status", "updated", "recurringEventId")
DEFAULT_TTL = 604800


@dataclass
class Cursor:
    """Where a listing stands: after which change, up to which, and full or incremental."""

    after: int
    snapshot: int
    full: bool


def owned(state: State, request: Request, calendar_id: str) -> Calendar | None:
    """Return the calendar if the signed-in account owns it ("primary" is their own)."""
    user = request.user or ""
    calendar_id = user if calendar_id == "primary" else calendar_id
    if calendar_id == user:
        return state.calendar(user)
    calendar = state.calendars.get(calendar_id)
    return calendar if calendar and calendar.owner == user else None


def list_events(state: State, request: Request, calendar_id: str) -> Response:
    calendar = owned(state, request, calendar_id)
    if calendar is None:
        return api_error(404)
    if "syncToken" in request.query and NOT_WITH_SYNC_TOKEN & request.query.keys():
        return api_error(400, "invalid", "Sync token cannot be used with these parameters.")
    cursor = _cursor(state, calendar, request.query)
    if cursor is None:
        return api_error(410)
    size = min(int(request.query.get("maxResults", "250")), 2500)
    changes = sorted(calendar.events.values(), key=lambda stored: stored.seq)
    window = [s for s in changes if cursor.after < s.seq <= cursor.snapshot]
    chosen = [s for s in window if not cursor.full or _in_full_sync(s.body, request.query)]
    page, rest = chosen[:size], chosen[size:]
    reply = {
        "kind": "calendar#events",
        "summary": calendar.summary,
        "timeZone": calendar.time_zone,
        "accessRole": "owner",
        "items": [_wire(stored.body) for stored in page],
    }
    if rest:
        reply["nextPageToken"] = _page_token(Cursor(page[-1].seq, cursor.snapshot, cursor.full))
    else:
        reply["nextSyncToken"] = sync_token(state, calendar, cursor.snapshot)
    return json_response(reply)


def sync_token(state: State, calendar: Calendar, version: int) -> str:
    text = json.dumps([state.sync_epoch, calendar.id, version])
    return base64.urlsafe_b64encode(text.encode()).decode()


def _cursor(state: State, calendar: Calendar, query: dict[str, str]) -> Cursor | None:
    if "pageToken" in query:
        return Cursor(*json.loads(base64.urlsafe_b64decode(query["pageToken"])))
    if "syncToken" not in query:
        return Cursor(0, calendar.version, full=True)
    try:
        epoch, calendar_id, version = json.loads(base64.urlsafe_b64decode(query["syncToken"]))
    except ValueError:
        return None
    if (epoch, calendar_id) != (state.sync_epoch, calendar.id):
        return None
    return Cursor(version, calendar.version, full=False)


def _page_token(cursor: Cursor) -> str:
    text = json.dumps([cursor.after, cursor.snapshot, cursor.full])
    return base64.urlsafe_b64encode(text.encode()).decode()


def _in_full_sync(body: dict[str, Any], query: dict[str, str]) -> bool:
    """Apply a full sync's filters: deleted events, timeMin/timeMax."""
    if body.get("status") == "cancelled":
        # Cancelled instances of a series come without showDeleted, unless singleEvents=true.
        instance = "recurringEventId" in body and query.get("singleEvents") != "true"
        return query.get("showDeleted") == "true" or instance
    if "recurrence" in body:
        return "timeMax" not in query or _start(body) < parse_time(query["timeMax"])
    if "timeMin" in query and _end(body) <= parse_time(query["timeMin"]):
        return False
    return "timeMax" not in query or _start(body) < parse_time(query["timeMax"])


def _wire(body: dict[str, Any]) -> dict[str, Any]:
    """Return an event as listed: a deleted one carries little more than its id."""
    if body.get("status") != "cancelled":
        return body
    kept = {name: body[name] for name in TOMBSTONE_FIELDS if name in body}
    if "originalStartTime" in body:
        kept["originalStartTime"] = body["originalStartTime"]
    return kept


def _start(body: dict[str, Any]) -> datetime:
    return _moment(body["start"])


def _end(body: dict[str, Any]) -> datetime:
    return _moment(body["end"])


def _moment(value: dict[str, str]) -> datetime:
    return parse_time(value.get("dateTime") or value["date"] + "T00:00:00+00:00")


def get_event(state: State, request: Request, calendar_id: str, event_id: str) -> Response:
    calendar = owned(state, request, calendar_id)
    if calendar is None or event_id not in calendar.events:
        return api_error(404)
    return json_response(calendar.events[event_id].body)


def insert_event(state: State, request: Request, calendar_id: str) -> Response:
    calendar = owned(state, request, calendar_id)
    if calendar is None:
        return api_error(404)
    body = request.json()
    event_id = body.get("id") or new_id()
    if not EVENT_ID.fullmatch(event_id):
        return api_error(400, "invalid", "Invalid resource id value.")
    if event_id in calendar.events:
        return api_error(409)
    if "start" not in body or "end" not in body:
        return api_error(400, "required", "Missing end time.")
    stored = add(state, calendar, {**body, "id": event_id})
    return json_response(stored.body)


def add(state: State, calendar: Calendar, body: dict[str, Any]) -> Stored:
    """Store a new event with the fields Google fills in, and notify watchers."""
    owner = {"email": calendar.owner, "self": True}
    event = {
        "kind": "calendar#event",
        "status": "confirmed",
        "htmlLink": f"https://www.google.com/calendar/event?eid={body['id']}",
        "created": rfc3339(datetime.now(UTC)),
        "creator": owner,
        "organizer": owner,
        "iCalUID": f"{body['id']}@google.com",
        "sequence": 0,
        "reminders": {"useDefault": True},
        "eventType": "default",
        **copy.deepcopy(body),
    }
    for attendee in event.get("attendees", []):
        attendee.setdefault("responseStatus", "needsAction")
    stored = calendar.touch(event)
    state.changed(calendar)
    return stored


def patch_event(state: State, request: Request, calendar_id: str, event_id: str) -> Response:
    calendar = owned(state, request, calendar_id)
    if calendar is None or event_id not in calendar.events:
        return api_error(404)
    old = calendar.events[event_id].body
    changes = request.json()
    moved = any(changes.get(key, old.get(key)) != old.get(key) for key in ("start", "end"))
    body = {**old, **changes, "id": event_id, "sequence": old["sequence"] + int(moved)}
    stored = calendar.touch(body)
    state.changed(calendar)
    return json_response(stored.body)


def delete_event(state: State, request: Request, calendar_id: str, event_id: str) -> Response:
    calendar = owned(state, request, calendar_id)
    if calendar is None or event_id not in calendar.events:
        return api_error(404)
    body = calendar.events[event_id].body
    if body.get("status") == "cancelled":
        return api_error(410, "deleted", "Resource has been deleted")
    calendar.touch({**body, "status": "cancelled"})
    state.changed(calendar)
    return no_content()


def watch_events(state: State, request: Request, calendar_id: str) -> Response:
    calendar = owned(state, request, calendar_id)
    if calendar is None:
        return api_error(404)
    body = request.json()
    address = str(body.get("address", ""))
    if body.get("type") not in ("web_hook", "webhook") or not _acceptable(address):
        return api_error(400, "push.webhookUrlNotHttps", "WebHook callback must be HTTPS.")
    if any(channel.id == body.get("id") and channel.live() for channel in state.channels):
        return api_error(400, "channelIdNotUnique", "Channel id not unique.")
    ttl = int(body.get("params", {}).get("ttl", DEFAULT_TTL))
    expiration = int((time.time() + ttl) * 1000)
    channel = Channel(body["id"], new_id(), calendar.id, address, body.get("token", ""), expiration)
    state.channels.append(channel)
    state.watched(channel)
    reply = {
        "kind": "api#channel",
        "id": channel.id,
        "resourceId": channel.resource_id,
        "resourceUri": f"{state.url}/calendar/v3/calendars/{calendar.id}/events?alt=json",
        "expiration": str(expiration),
    }
    return json_response(reply)


def _acceptable(address: str) -> bool:
    """Accept https, and plain http on loopback only (the tests' receivers)."""
    loopback = ("http://127.0.0.1:", "http://localhost:", "http://[::1]:")
    return address.startswith(("https://", *loopback))
