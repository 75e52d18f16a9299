"""The benchmark users' calendars: feeds served over local HTTP (ETag, 304), and Google's day.

Each user's feed is gen_calendar's work calendar (a smaller one, seeded per user) centred on a
given Monday, so its meetings lie around the days the workers plan for. The attendee address is
swapped for the user's own, of the same length so the folded lines stay valid.

A Google user's day is simulated against the tests' fake Google (tests/google_server.py) on a
frozen clock moved a minute at a time: no sleeping, and every request the fake receives counted.
"""

from __future__ import annotations

import functools
import hashlib
import os
import threading
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import gen_calendar

from service.models import Connection, User
from workers import runtime

EVENTS_PER_USER = 300
GOOGLE_EVENTS = 40  # a working fortnight: four meetings a day
PUBLISHED = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # every feed's Last-Modified


def user_email(user: int) -> str:
    """Return a benchmark user's address, as long as gen_calendar's (u0007@example.com)."""
    return f"u{user:04d}@example.com"


@functools.cache
def _calendar(seed: int, reference: date, events: int) -> bytes:
    gen_calendar.REFERENCE = reference  # read when the calendar is built
    return bytes(gen_calendar.build_calendar(events, seed=seed).to_ical())


def build_feed(user: int, seed: int, reference: date, events: int = EVENTS_PER_USER) -> bytes:
    """Return a user's feed: the calendar of that seed around that Monday, with their address."""
    content = _calendar(seed, reference, events)
    return content.replace(gen_calendar.ME.encode(), user_email(user).encode())


class Feeds:
    """The feeds being served, by user, with what makes a conditional GET answer 304."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._served: dict[int, tuple[bytes, str, str]] = {}
        self.requests = self.not_modified = 0

    def publish(self, user: int, content: bytes) -> None:
        """Serve this content for the user from now on, with its ETag and Last-Modified."""
        etag = '"' + hashlib.sha256(content).hexdigest()[:20] + '"'
        modified = format_datetime(PUBLISHED, usegmt=True)
        with self._lock:
            self._served[user] = (content, etag, modified)

    def get(self, user: int) -> tuple[bytes, str, str] | None:
        with self._lock:
            return self._served.get(user)

    def count(self, not_modified: bool) -> None:
        with self._lock:
            self.requests += 1
            self.not_modified += not_modified


class FeedServer:
    """A threaded HTTP server on 127.0.0.1 answering /feed/<user>.ics."""

    def __init__(self, feeds: Feeds) -> None:
        self.feeds = feeds
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.feeds = feeds  # type: ignore[attr-defined]
        serve = functools.partial(self._server.serve_forever, poll_interval=0.05)
        self._thread = threading.Thread(target=serve, name="bench-feeds", daemon=True)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FeedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def address(self, user: int) -> str:
        """Return the calendar address a user connects."""
        return f"{self.url}/feed/{user}.ics"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        feeds: Feeds = self.server.feeds  # type: ignore[attr-defined]
        name = self.path.rsplit("/", 1)[-1].removesuffix(".ics")
        served = feeds.get(int(name)) if name.isdigit() else None
        if served is None:
            self._reply(404, b"not found", {})
            return
        content, etag, modified = served
        fresh = self.headers.get("If-None-Match") == etag
        feeds.count(fresh)
        headers = {"ETag": etag, "Last-Modified": modified, "Content-Type": "text/calendar"}
        self._reply(304 if fresh else 200, b"" if fresh else content, headers)

    def _reply(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if status != 304:  # a 304 has no body, and says nothing about its length
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per request would drown the progress lines


def google_calls_per_day(changes: int) -> dict[str, dict[str, float]]:
    """Count the requests one Google user's syncs make at Google in a day, pushed and polled."""
    os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"  # the fake Google is plain http on loopback
    from tests.google_server import FakeGoogle

    fake = FakeGoogle().start()
    try:
        return {mode: _google_day(fake, mode, changes) for mode in ("push channel", "polling")}
    finally:
        fake.close()


def _google_day(fake: Any, mode: str, changes: int) -> dict[str, float]:
    """Sync one user through a day on a frozen clock moved a minute at a time; count calls."""
    day = datetime.combine(date.today(), datetime.min.time(), UTC)
    connection_id, email = _google_user(fake, mode, day)
    _google_sync(fake, connection_id, day)  # the first full sync: not part of a steady day
    seen, event_ids = len(fake.requests), [event["id"] for event in fake.events(email)]
    changed_at = {day + timedelta(hours=9, minutes=i * 480 // changes) for i in range(changes)}
    next_sync = _next_sync(connection_id)
    for minute in range(1, 24 * 60 + 1):  # midnight included: the new day re-lists the span
        now, pushed = day + timedelta(minutes=minute), False
        if now in changed_at:
            fake.update_event(email, event_ids[minute % len(event_ids)], summary=f"Moved {minute}")
            pushed = mode == "push channel"  # Google notifies; the push endpoint enqueues a sync
        if pushed or now >= next_sync:
            next_sync = _google_sync(fake, connection_id, now)
    calls = _by_kind(fake.requests[seen:])
    if mode == "push channel":  # a 7-day channel renewed a day before it ends: watch, stop, token
        for kind in ("events.watch", "channels.stop", "token"):
            calls[kind] = round(calls.get(kind, 0) + 1 / 6, 2)
    return calls


def _google_user(fake: Any, mode: str, day: datetime) -> tuple[int, str]:
    from service.adapters.google import CALENDAR_SCOPES, SIGN_IN_SCOPES
    from service.sources.google import save_connection

    email, scopes = f"{mode.split()[0]}@example.com", {*SIGN_IN_SCOPES, *CALENDAR_SCOPES}
    for n in range(GOOGLE_EVENTS):  # a working fortnight: four meetings a day
        start = day + timedelta(days=n // 4 - 4, hours=8 + 2 * (n % 4))
        times = {
            "start": {"dateTime": start.isoformat()},
            "end": {"dateTime": (start + timedelta(minutes=30)).isoformat()},
        }
        fake.add_event(
            email,
            {
                "summary": f"Meeting {n}",
                **times,
                "attendees": [
                    {"email": email, "responseStatus": "accepted"},
                    {"email": "bob@example.com", "responseStatus": "accepted"},
                ],
            },
        )
    work = runtime.current()
    with work.database.unit() as session:
        user = User(email=email, tz="Europe/Berlin")
        session.add(user)
        session.flush()
        token = fake.grant(email, scopes)
        connection = save_connection(session, work.box, user, email, token, scopes)
        if mode == "push channel":
            connection.channel_id, connection.channel_resource_id = "bench", "bench"
            connection.channel_token, connection.channel_expires_at = (
                "bench",
                day + timedelta(days=3),
            )
        return connection.id, email


def _google_sync(fake: Any, connection_id: int, now: datetime) -> datetime:
    """Sync as the sync job does, at that time; return when the next sync is due."""
    from service.sources.schedule import lease, schedule_next
    from service.sources.sync import sync_connection

    work = runtime.current()
    settings = work.settings.with_changes(google=fake.google_settings())
    with work.database.unit() as session:
        connection = session.get_one(Connection, connection_id)
        leased = lease(connection, now)
        result = sync_connection(session, settings, work.box, connection, now)
        assert result.outcome != "failed", result.error
        schedule_next(session, connection, leased, now)
    return _next_sync(connection_id)


def _next_sync(connection_id: int) -> datetime:
    with runtime.current().database.unit() as session:
        due = session.get_one(Connection, connection_id).next_sync_at
    assert due is not None
    return due.replace(tzinfo=UTC)  # SQLite gives it back naive


_KINDS = {"/token": "token", "/events": "events.list", "/freeBusy": "freebusy"}


def _by_kind(requests: list[Any]) -> dict[str, float]:
    found: dict[str, float] = {}
    for request in requests:
        ends = (kind for suffix, kind in _KINDS.items() if request.path.endswith(suffix))
        kind = next(ends, request.path)
        found[kind] = found.get(kind, 0) + 1
    return found
