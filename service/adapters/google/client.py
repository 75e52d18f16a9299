"""Google Calendar API v3, the few calls Touchpoint makes: plain data in, plain data out.

Every call goes through the real google-api-python-client with its static discovery document, so
tests can point `endpoint` at a local server that speaks the same wire format. Nothing here retries:
a failed call raises a domain exception (google.errors) and the worker's RQ Retry decides.
One service object per job: httplib2 connections are not thread-safe.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build

from service.adapters.google.errors import NotFound, PermanentGoogleError, google_errors
from service.adapters.metrics import GOOGLE_CALLS

GOOGLE_API_ENDPOINT = "https://www.googleapis.com/"
# The calendar discovery document's servicePath: `api_endpoint` replaces rootUrl + servicePath
# as a whole, so an overridden root must get it back.
CALENDAR_SERVICE_PATH = "calendar/v3/"
# events.list pages: Google's maximum, so a full sync of a busy calendar takes few calls.
PAGE_SIZE = 2500
# freebusy.query accepts at most this many calendars per request.
FREEBUSY_BATCH = 50

Service = Any  # googleapiclient's Resource: built at run time from the discovery document
Event = dict[str, Any]
Busy = list[tuple[datetime, datetime]]


@dataclass(frozen=True, slots=True)
class Channel:
    """A push channel: Google POSTs to our address when the watched calendar changes."""

    id: str
    resource_id: str
    expires_at: datetime


def build_calendar_service(credentials: Credentials, *, endpoint: str | None = None) -> Service:
    """Build a Calendar v3 client from the shipped discovery document (no network on build).

    Args:
        credentials: the user's credentials (see credentials_from_refresh_token).
        endpoint: API root such as "https://www.googleapis.com/" or "http://127.0.0.1:PORT/";
            empty or None means Google's own.
    """
    options = {"api_endpoint": _calendar_base(endpoint)} if endpoint else None
    return build(
        "calendar",
        "v3",
        credentials=credentials,
        static_discovery=True,
        cache_discovery=False,
        client_options=options,
    )


def list_events(
    service: Service,
    calendar_id: str = "primary",
    *,
    sync_token: str | None = None,
    time_min: datetime | None = None,
    time_max: datetime | None = None,
    single_events: bool = False,
    page_size: int = PAGE_SIZE,
) -> tuple[list[Event], str]:
    """Return every event of a full or incremental sync and the token for the next one.

    Without sync_token this is a full sync (optionally bounded by time_min/time_max): the
    events returned are the calendar, forget anything else. With sync_token only changes
    since that token come back, deletions as {"id": ..., "status": "cancelled"}; Google
    forbids a time window then, and answers 410 (SyncTokenExpired) when the token is too old.

    single_events must be the same on the full sync and every incremental one. The default
    (False) returns each recurring series once with its RRULE and its changed or cancelled
    instances (recurringEventId + originalStartTime), to be expanded locally for any window.
    True expands instances at Google, but a window fixed at full-sync time then goes stale:
    instances that enter it later are not changes, so incremental syncs never bring them.
    """
    if sync_token and (time_min or time_max):
        raise ValueError("Google refuses timeMin/timeMax together with a sync token")
    query: dict[str, Any] = {
        "calendarId": calendar_id,
        "maxResults": page_size,
        "singleEvents": single_events,
    }
    if sync_token:
        query["syncToken"] = sync_token
    query.update(_window(time_min, time_max))
    events: list[Event] = []
    last: dict[str, Any] = {}
    for last in _pages(service, query):
        events.extend(last.get("items", []))
    if "nextSyncToken" not in last:
        raise PermanentGoogleError("Google ended the event list without a sync token")
    return events, str(last["nextSyncToken"])


def _pages(service: Service, query: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Yield events.list pages, following nextPageToken to the last one."""
    page_token = None
    while True:
        # Reference: https://developers.google.com/workspace/calendar/api/v3/reference/events/list
        page = _execute(service.events().list(**query, pageToken=page_token))
        yield page
        page_token = page.get("nextPageToken")
        if not page_token:
            return


def free_busy(
    service: Service, emails: Iterable[str], time_min: datetime, time_max: datetime
) -> dict[str, Busy]:
    """Return the busy intervals of each calendar whose free/busy this user may see.

    A calendar Google reports an error for (unknown, not shared) is left out of the result,
    so "absent" means "not visible", not "free".
    """
    busy: dict[str, Busy] = {}
    for chunk in _chunks(list(emails), FREEBUSY_BATCH):
        body = {**_window(time_min, time_max), "items": [{"id": email} for email in chunk]}
        # Reference: https://developers.google.com/workspace/calendar/api/v3/reference/freebusy/query
        reply = _execute(service.freebusy().query(body=body))
        for email, calendar in reply.get("calendars", {}).items():
            if not calendar.get("errors"):
                busy[email] = [(_parse(b["start"]), _parse(b["end"])) for b in calendar["busy"]]
    return busy


def insert_event(
    service: Service,
    calendar_id: str,
    event_id: str,
    body: Mapping[str, Any],
    send_updates: str = "all",
) -> Event:
    """Create the event under our chosen id, or return the one a previous try already created.

    The existing event may have been cancelled by the user since; its "status" says so.
    """
    try:
        # Reference: https://developers.google.com/workspace/calendar/api/v3/reference/events/insert
        request = service.events().insert(
            calendarId=calendar_id, body={**body, "id": event_id}, sendUpdates=send_updates
        )
        return _execute(request)
    except PermanentGoogleError as exc:
        if exc.status != 409:
            raise
    return get_event(service, calendar_id, event_id)


def get_event(service: Service, calendar_id: str, event_id: str) -> Event:
    """Return one event (cancelled ones too)."""
    # Reference: https://developers.google.com/workspace/calendar/api/v3/reference/events/get
    return _execute(service.events().get(calendarId=calendar_id, eventId=event_id))


def patch_event(
    service: Service,
    calendar_id: str,
    event_id: str,
    changes: Mapping[str, Any],
    send_updates: str = "none",
) -> Event:
    """Change some fields of an event and return it."""
    # Reference: https://developers.google.com/workspace/calendar/api/v3/reference/events/patch
    request = service.events().patch(
        calendarId=calendar_id, eventId=event_id, body=dict(changes), sendUpdates=send_updates
    )
    return _execute(request)


def delete_event(
    service: Service, calendar_id: str, event_id: str, send_updates: str = "none"
) -> None:
    """Delete an event; one that is already gone counts as deleted."""
    # Reference: https://developers.google.com/workspace/calendar/api/v3/reference/events/delete
    request = service.events().delete(
        calendarId=calendar_id, eventId=event_id, sendUpdates=send_updates
    )
    with suppress(NotFound):
        _execute(request)


def event_id_for(key: str) -> str:
    """Return a stable Google event id for one of our things (e.g. "proposal:42").

    Google accepts ids of 5-1024 characters from base32hex (a-v, 0-9).
    """
    digest = hashlib.sha256(key.encode()).digest()
    return base64.b32hexencode(digest).decode().rstrip("=").lower()


def ensure_app_calendar(
    service: Service,
    summary: str = "Touchpoint prep notes",
    *,
    known_id: str | None = None,
    time_zone: str | None = None,
) -> str:
    """Return the id of the calendar Touchpoint writes prep notes to, creating it if needed.

    Pass the id stored last time as known_id: it is kept while it still exists (the user may
    delete the calendar), so the user does not collect a new calendar on every call.
    Needs the calendar.app.created scope.
    """
    if known_id:
        try:
            # Reference: https://developers.google.com/workspace/calendar/api/v3/reference/calendars/get
            _execute(service.calendars().get(calendarId=known_id))
            return known_id
        except NotFound:
            pass
    body = {"summary": summary, **({"timeZone": time_zone} if time_zone else {})}
    # Reference: https://developers.google.com/workspace/calendar/api/v3/reference/calendars/insert
    return str(_execute(service.calendars().insert(body=body))["id"])


def watch_events(
    service: Service,
    calendar_id: str,
    channel_id: str,
    address: str,
    token: str,
    ttl_seconds: int,
) -> Channel:
    """Ask Google to POST to address (https) whenever the calendar's events change."""
    body = {
        "id": channel_id,
        "type": "web_hook",
        "address": address,
        "token": token,
        "params": {"ttl": str(ttl_seconds)},
    }
    # Reference: https://developers.google.com/workspace/calendar/api/v3/reference/events/watch
    reply = _execute(service.events().watch(calendarId=calendar_id, body=body))
    expires_at = datetime.fromtimestamp(int(reply["expiration"]) / 1000, UTC)
    return Channel(id=reply["id"], resource_id=reply["resourceId"], expires_at=expires_at)


def stop_channel(service: Service, channel_id: str, resource_id: str) -> None:
    """Stop a push channel; one Google no longer knows (expired, stopped) counts as stopped."""
    with suppress(NotFound):
        # Reference: https://developers.google.com/workspace/calendar/api/v3/reference/channels/stop
        _execute(service.channels().stop(body={"id": channel_id, "resourceId": resource_id}))


def _execute(request: Any) -> Any:
    """Send one API request; no retries here (the workers own retrying)."""
    GOOGLE_CALLS.labels(getattr(request, "methodId", "") or "other").inc()
    with google_errors():
        return request.execute(num_retries=0)


def _calendar_base(endpoint: str) -> str:
    return endpoint.rstrip("/") + "/" + CALENDAR_SERVICE_PATH


def _window(time_min: datetime | None, time_max: datetime | None) -> dict[str, str]:
    bounds = {"timeMin": time_min, "timeMax": time_max}
    return {name: _rfc3339(moment) for name, moment in bounds.items() if moment is not None}


def _rfc3339(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError(f"Google needs time-zone-aware times, got {moment!r}")
    return moment.isoformat()


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
