"""A local stand-in for Google's servers that speaks their wire format, for tests.

It is a real HTTP server on 127.0.0.1 (a free port, in a thread), driven by the real
google-api-python-client and google-auth-oauthlib: OAuth consent / token / revoke, a JWKS-like
certs endpoint and userinfo for OpenID Connect, and Calendar API v3 (events with pages, sync
tokens and 410, insert with client ids and 409, patch, delete, watch with push notifications,
calendars, calendarList, freebusy, channels.stop). Faults on demand with fail_next().
Use it through the `google_server` fixture (tests/google_fixtures.py).
"""

from __future__ import annotations

import functools
import re
import threading
import traceback
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import requests

from service.config import Google
from tests.google_fake import events
from tests.google_fake.form import ConsentForm
from tests.google_fake.oauth import new_refresh_token
from tests.google_fake.push import Pusher
from tests.google_fake.routes import dispatch
from tests.google_fake.state import Calendar, Consent, FailRule, Grant, State
from tests.google_fake.wire import Request, api_error, new_id

CALENDAR_SCOPES = frozenset(
    {
        "openid",
        "https://www.googleapis.com/auth/userinfo.email",
        "https://www.googleapis.com/auth/calendar.events.owned",
        "https://www.googleapis.com/auth/calendar.freebusy",
        "https://www.googleapis.com/auth/calendar.app.created",
    }
)


class FakeGoogle:
    """The fake server plus the knobs a test turns: seed calendars, inject faults, revoke."""

    def __init__(self) -> None:
        self.state = State()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.fake = self  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.state.url = self.url
        self._pusher = Pusher(self.state, self.url)
        self.state.changed = self._pusher.changed
        self.state.watched = lambda channel: self._pusher.send(channel, "sync")
        # A short poll interval: shutdown() waits for it, once per test.
        serve = functools.partial(self._server.serve_forever, poll_interval=0.05)
        self._thread = threading.Thread(target=serve, name="fake-google")

    def start(self) -> FakeGoogle:
        self._pusher.start()
        self._thread.start()
        return self

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
        self._pusher.stop()

    # Where things are: point the app's settings here.
    @property
    def auth_uri(self) -> str:
        return self.url + "/o/oauth2/auth"

    @property
    def token_uri(self) -> str:
        return self.url + "/token"

    @property
    def revoke_uri(self) -> str:
        return self.url + "/revoke"

    @property
    def certs_uri(self) -> str:
        return self.url + "/oauth2/v1/certs"

    @property
    def userinfo_uri(self) -> str:
        return self.url + "/oauth2/v3/userinfo"

    @property
    def api_endpoint(self) -> str:
        return self.url + "/"

    @property
    def client_id(self) -> str:
        return self.state.client_id

    @property
    def client_secret(self) -> str:
        return self.state.client_secret

    def google_settings(self) -> Google:
        """Return the app's Google settings pointing at this server."""
        return Google(
            client_id=self.client_id,
            client_secret=self.client_secret,
            auth_uri=self.auth_uri,
            token_uri=self.token_uri,
            revoke_uri=self.revoke_uri,
            certs_uri=self.certs_uri,
            api_endpoint=self.api_endpoint,
        )

    # What happened.
    @property
    def calendars(self) -> dict[str, Calendar]:
        return self.state.calendars

    @property
    def requests(self) -> list[Any]:
        return self.state.requests

    @property
    def revoked(self) -> set[str]:
        """Revoked refresh tokens; add one to revoke it as the user would in their account."""
        return self.state.revoked

    @property
    def errors(self) -> list[str]:
        """Tracebacks of requests the fake itself failed on (the fixture fails the test)."""
        return self.state.errors

    @property
    def notifications(self) -> list[dict[str, Any]]:
        return self.state.notifications

    def flush_notifications(self) -> None:
        """Wait until every push notification queued so far has been delivered."""
        self._pusher.flush()

    def calls(self, method: str, path_pattern: str) -> list[Any]:
        """Return the logged requests with this method whose path matches the pattern."""
        return [r for r in self.requests if r.method == method and re.search(path_pattern, r.path)]

    # The consent screen.
    def consent(
        self, *, email: str = "alice@example.com", grant: set[str] | None = None, deny: bool = False
    ) -> None:
        """Decide what the consent screen does: who signs in, which scopes stay ticked, or deny."""
        self.state.consent = Consent(email, None if grant is None else frozenset(grant), deny)

    def approve(self, authorization_url: str) -> str:
        """Open the consent page, submit it as set by consent(), return the redirect back."""
        page = requests.get(authorization_url, timeout=10)
        assert page.status_code == 200, page.text
        chosen = self.state.consent
        hint = dict(parse_qsl(urlsplit(authorization_url).query)).get("login_hint")
        data = ConsentForm(page.text).submission(
            email=None if hint else chosen.email, keep=chosen.grant, allow=not chosen.deny
        )
        reply = requests.post(self.auth_uri, data=data, allow_redirects=False, timeout=10)
        assert reply.status_code == 302, reply.text
        return str(reply.headers["Location"])

    def grant(self, email: str, scopes: set[str] | frozenset[str] = CALENDAR_SCOPES) -> str:
        """Record a consent given earlier and return its refresh token (skips the OAuth dance)."""
        grant = Grant(email, self.client_id, frozenset(scopes), new_refresh_token())
        with self.state.lock:
            self.state.grants.append(grant)
        return str(grant.refresh_token)

    def revoke_user(self, email: str) -> None:
        """Remove the app's access, as the user can in their Google account settings."""
        with self.state.lock:
            for grant in self.state.grants:
                if grant.email == email:
                    self.state.revoke(grant)

    # Calendars.
    def add_calendar(self, owner: str, summary: str) -> str:
        with self.state.lock:
            calendar = self.state.calendar(f"{new_id()}@group.calendar.google.com", owner)
            calendar.summary = summary
            return calendar.id

    def add_event(self, calendar_id: str, event: dict[str, Any]) -> dict[str, Any]:
        """Add an event to a calendar (an email is that person's primary calendar)."""
        with self.state.lock:
            calendar = self.state.calendar(calendar_id)
            body = {**event, "id": event.get("id") or new_id()}
            return events.add(self.state, calendar, body).body

    def update_event(self, calendar_id: str, event_id: str, **changes: Any) -> dict[str, Any]:
        """Change an event as its owner would in Google Calendar."""
        with self.state.lock:
            calendar = self.state.calendars[calendar_id]
            body = {**calendar.events[event_id].body, **changes}
            stored = calendar.touch(body)
            self.state.changed(calendar)
            return stored.body

    def remove_event(self, calendar_id: str, event_id: str) -> None:
        self.update_event(calendar_id, event_id, status="cancelled")

    def events(self, calendar_id: str) -> list[dict[str, Any]]:
        """Return the events stored in a calendar, deleted ones included."""
        with self.state.lock:
            calendar = self.state.calendars.get(calendar_id)
            return [stored.body for stored in calendar.events.values()] if calendar else []

    def hide_free_busy(self, email: str) -> None:
        with self.state.lock:
            self.state.calendar(email).free_busy_visible = False

    # Faults.
    def fail_next(
        self,
        path_pattern: str,
        status: int,
        times: int = 1,
        *,
        method: str | None = None,
        reason: str | None = None,
    ) -> None:
        """Answer the next `times` matching requests with this status (429, 500, 410, ...)."""
        rule = FailRule(re.compile(path_pattern), status, times, method, reason)
        with self.state.lock:
            self.state.rules.append(rule)

    def expire_sync_tokens(self) -> None:
        """Make every sync token handed out so far answer 410 Gone."""
        with self.state.lock:
            self.state.sync_epoch += 1

    def expire_access_tokens(self) -> None:
        with self.state.lock:
            for token, (grant, _) in list(self.state.access_tokens.items()):
                self.state.access_tokens[token] = (grant, 0.0)

    def busy(self, email: str, start: datetime, end: datetime, title: str = "Busy") -> None:
        """Put a plain busy block in someone's primary calendar."""
        times = {"start": {"dateTime": start.isoformat()}, "end": {"dateTime": end.isoformat()}}
        self.add_event(email, {"summary": title, **times})


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self._answer()

    do_POST = do_PATCH = do_PUT = do_DELETE = do_GET

    def _answer(self) -> None:
        parsed = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {name.lower(): value for name, value in self.headers.items()}
        form_type = headers.get("content-type", "").startswith("application/x-www-form-urlencoded")
        form = parse_qs(body.decode(), keep_blank_values=True) if form_type else {}
        query = dict(parse_qsl(parsed.query, keep_blank_values=True))
        request = Request(self.command, parsed.path, query, headers, body, form)
        state = self.server.fake.state  # type: ignore[attr-defined]
        try:
            response = dispatch(state, request)
        except Exception:  # a bug in the fake: answer like Google would, and make the test fail
            state.errors.append(traceback.format_exc())
            response = api_error(500)
        self.send_response(response.status)
        for name, value in {**response.headers, "Content-Length": str(len(response.body))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet; `FakeGoogle.requests` has the log."""
