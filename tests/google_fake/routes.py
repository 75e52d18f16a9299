"""Which handler answers which request, and the checks every Calendar API call goes through.

The scopes each API method accepts come from the same discovery document the client uses, so
a token without a calendar scope gets Google's 403 insufficientPermissions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import cache
from importlib.resources import files
from urllib.parse import unquote

from tests.google_fake import calendars, consent, events, oauth
from tests.google_fake.state import FailRule, Logged, State
from tests.google_fake.wire import Request, Response, api_error, oauth_error

Handler = Callable[..., Response]
API = "/calendar/v3"
# (HTTP method, path pattern, handler, discovery method id or None for the OAuth endpoints)
EVENTS = API + "/calendars/{calendar_id}/events"
EVENT = EVENTS + "/{event_id}"
ROUTES: list[tuple[str, str, Handler, str | None]] = [
    ("GET", "/o/oauth2/auth", consent.show, None),
    ("POST", "/o/oauth2/auth", consent.decide, None),
    ("POST", "/token", oauth.token, None),
    ("POST", "/revoke", oauth.revoke, None),
    ("GET", "/oauth2/v1/certs", oauth.certs, None),
    ("GET", "/oauth2/v3/userinfo", oauth.userinfo, None),
    ("GET", EVENTS, events.list_events, "events.list"),
    ("POST", EVENTS + "/watch", events.watch_events, "events.watch"),
    ("POST", EVENTS, events.insert_event, "events.insert"),
    ("GET", EVENT, events.get_event, "events.get"),
    ("PATCH", EVENT, events.patch_event, "events.patch"),
    ("DELETE", EVENT, events.delete_event, "events.delete"),
    ("POST", API + "/calendars", calendars.insert_calendar, "calendars.insert"),
    ("GET", API + "/calendars/{calendar_id}", calendars.get_calendar, "calendars.get"),
    ("GET", API + "/users/me/calendarList", calendars.list_calendars, "calendarList.list"),
    ("POST", API + "/freeBusy", calendars.free_busy, "freebusy.query"),
    ("POST", API + "/channels/stop", calendars.stop_channel, "channels.stop"),
]


def dispatch(state: State, request: Request) -> Response:
    """Answer one request: injected fault, then route, bearer token and scope checks."""
    with state.lock:
        logged = Logged(request.method, request.path, request.query, _body(request), None)
        state.requests.append(logged)
        rule = state.failure_for(request.method, request.path)
        if rule:
            return _fault(request, rule)
        for method, pattern, handler, api_method in ROUTES:
            match = _compiled(pattern).fullmatch(request.path)
            if method == request.method and match:
                params = {name: unquote(value) for name, value in match.groupdict().items()}
                refusal = _authorize(state, request, api_method) if api_method else None
                logged.user = request.user
                return refusal or handler(state, request, **params)
        return api_error(404)


def _authorize(state: State, request: Request, api_method: str) -> Response | None:
    bearer = request.headers.get("authorization", "")
    grant = state.grant_for_access_token(bearer.removeprefix("Bearer "))
    if grant is None:
        return api_error(401)
    if not grant.scopes & _scopes()[api_method]:
        return api_error(403, "insufficientPermissions", "Request had insufficient scopes.")
    request.user = grant.email
    return None


def _fault(request: Request, rule: FailRule) -> Response:
    if request.path.startswith(API):
        return api_error(rule.status, rule.reason)
    error = rule.reason or ("internal_failure" if rule.status >= 500 else "invalid_request")
    return oauth_error(error, "Injected by the test", rule.status)


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern))


@cache
def _scopes() -> dict[str, frozenset[str]]:
    """Return the scopes each Calendar method accepts, from the shipped discovery document."""
    path = files("googleapiclient.discovery_cache") / "documents" / "calendar.v3.json"
    document = json.loads(path.read_text())
    return {
        f"{resource}.{name}": frozenset(method.get("scopes", []))
        for resource, spec in document["resources"].items()
        for name, method in spec.get("methods", {}).items()
    }


def _body(request: Request) -> object:
    if request.form:
        return {k: v if len(v) > 1 else v[0] for k, v in request.form.items()}
    try:
        return request.json()
    except ValueError:
        return request.body.decode(errors="replace")
