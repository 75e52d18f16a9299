"""The connect page in a browser's shoes: paste an address, upload a file, refresh, disconnect."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from rq import Queue
from sqlalchemy import select, text

from service.adapters.http import MiB
from service.adapters.redis import connect
from service.config import Settings, parse_networks
from service.models import Connection, OutboxEmail, StoredOccurrence
from service.sources.schedule import due_connections
from service.web import create_app
from service.web.extensions import db
from tests.feed_server import (
    FIXTURES,
    GOOGLE,
    SECRET_PATH,
    Feed,
    FeedServer,
    huge_feed,
    serving,
    tls_handshake_once,
)
from tests.web.forms import sign_in_as
from tests.workers.jobs import work
from workers import runtime

LABEL = "127.0.0.1/…/basic.ics"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Let the app fetch from the test's feed server on 127.0.0.1, as an operator's allowlist."""
    return settings.with_changes(allow_networks=parse_networks("127.0.0.1/32"))


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    with serving() as server:
        server.feeds[SECRET_PATH] = Feed(etag='"v1"')
        yield server


def signed_in(client: Any, app: Any, email: str = "alice@example.com") -> int:
    """Create a user in Berlin and sign the client in as them, as sign-in would."""
    return sign_in_as(client, app, email, tz="Europe/Berlin")


def csrf_token(client: Any) -> str:
    page = client.get("/connect").get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert match, "the connect page carries a CSRF token"
    return match.group(1)


def paste(client: Any, url: str) -> Any:
    return client.post("/connect/url", data={"csrf_token": csrf_token(client), "url": url})


def upload(client: Any, data: bytes, name: str = "work.ics", kind: str = "text/calendar") -> Any:
    # Encoded here rather than by the test client, which leaves a temporary file open for
    # bodies over 500 KiB (and filterwarnings=error turns that into a failure).
    boundary = "touchpoint-test-boundary"
    body = b"".join(
        [
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'.encode(),
            csrf_token(client).encode(),
            f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="file"; '.encode(),
            f'filename="{name}"\r\nContent-Type: {kind}\r\n\r\n'.encode(),
            data,
            f"\r\n--{boundary}--\r\n".encode(),
        ]
    )
    content_type = f"multipart/form-data; boundary={boundary}"
    return client.post("/connect/upload", data=body, content_type=content_type)


def rows(app: Any, model: Any) -> list[Any]:
    with app.app_context():
        return list(db.session.scalars(select(model).order_by(model.id)))


def page(client: Any, path: str = "/connect") -> str:
    return str(client.get(path).get_data(as_text=True))


def events_in(flash_page: str) -> int:
    match = re.search(r"— (\d+) events", flash_page)
    assert match, "the page says how many events were stored"
    return int(match.group(1))


def test_pasting_an_address_connects_it_and_keeps_only_a_sealed_copy(
    app: Any, client: Any, feeds: FeedServer
) -> None:
    signed_in(client, app)

    response = paste(client, feeds.url())

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    shown = page(client)
    assert f"Connected: {LABEL} — " in shown
    assert len(rows(app, StoredOccurrence)) == events_in(shown) > 0
    listed = " ".join(shown.split())
    assert f"iCal address</span> Working · {events_in(shown)} events stored" in listed
    with app.app_context():
        [secret] = db.session.execute(text("SELECT secret FROM connections")).scalars()
    assert b"private-8f3a9c2e71" not in bytes(secret)
    assert b"127.0.0.1" not in bytes(secret)
    assert "private-8f3a9c2e71" not in page(client)  # the list shows the masked label


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[int, list[bool]]]:
    """Accept TLS handshakes on 127.0.0.1 with a self-signed certificate; record each one."""
    with tls_handshake_once(tmp_path, "127.0.0.1", "127.0.0.1") as handshakes:
        yield handshakes.port, handshakes.accepted


def test_a_webcal_link_is_accepted_and_fetched_over_https(
    app: Any, client: Any, tls_server: tuple[int, list[bool]]
) -> None:
    port, handshakes = tls_server
    signed_in(client, app)

    response = paste(client, f"webcal://127.0.0.1:{port}{SECRET_PATH}")

    # The test's certificate is self-signed, so the https fetch stops at the certificate.
    assert response.status_code == 422
    assert "127.0.0.1 has no trusted TLS certificate" in response.get_data(as_text=True)
    assert handshakes == [True]


def test_a_private_address_is_refused_on_the_page_and_nothing_is_stored(
    settings: Settings, feeds: FeedServer
) -> None:
    app = create_app(settings.with_changes(allow_networks=()))
    client = app.test_client()
    signed_in(client, app)

    response = paste(client, feeds.url())

    shown = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "127.0.0.1 is a loopback address, which is not allowed." in shown
    assert f'value="{feeds.url()}"' in shown  # the address is the user's: it stays in the field
    assert rows(app, Connection) == []
    assert feeds.seen == []


def test_a_redirect_from_the_allowed_server_to_another_address_is_refused(
    app: Any, client: Any, feeds: FeedServer
) -> None:
    signed_in(client, app)
    feeds.feeds[SECRET_PATH] = Feed(
        status=302, headers=(("Location", feeds.url(host="127.0.0.2")),)
    )

    response = paste(client, feeds.url())

    assert response.status_code == 422
    assert "127.0.0.2 is a loopback address, which is not allowed" in response.get_data(
        as_text=True
    )
    assert rows(app, Connection) == []


@pytest.mark.parametrize(
    ("feed", "message"),
    [
        (Feed(b"gone", status=404), "127.0.0.1 answered HTTP 404 (Not Found)."),
        (Feed(b"<!doctype html><title>Sign in</title>"), "127.0.0.1 sent a web page"),
        (huge_feed(), "That calendar is too big"),
    ],
    ids=["missing", "web page", "huge"],
)
def test_a_bad_feed_gets_a_clear_message_and_nothing_is_stored(
    app: Any, client: Any, feeds: FeedServer, feed: Feed, message: str
) -> None:
    signed_in(client, app)
    feeds.feeds[SECRET_PATH] = feed

    response = paste(client, feeds.url())

    assert response.status_code == 422
    [error] = re.findall(r'role="alert">([^<]*)<', response.get_data(as_text=True))
    assert message in error
    assert "private-8f3a9c2e71" not in error
    assert rows(app, Connection) == []
    assert rows(app, StoredOccurrence) == []


def test_uploading_a_file_connects_it(app: Any, client: Any) -> None:
    signed_in(client, app)

    response = upload(client, GOOGLE, "work.ics")

    assert response.status_code == 302
    shown = page(client)
    assert "Connected: work.ics — " in shown
    assert len(rows(app, StoredOccurrence)) == events_in(shown) > 0
    assert [c.kind for c in rows(app, Connection)] == ["ics_upload"]


@pytest.mark.parametrize(
    ("data", "name", "kind", "message"),
    [
        (b"\x89PNG\r\n\x1a\n", "work.ics", "text/calendar", "it is not an iCalendar file"),
        (GOOGLE, "holiday.jpg", "image/jpeg", "Choose an iCalendar file (.ics)"),
        (GOOGLE + b" " * (10 * MiB), "big.ics", "text/calendar", "That file is too big"),
    ],
    ids=["garbage", "not a calendar file", "over 10 MiB"],
)
def test_an_upload_that_is_no_calendar_gets_a_clear_message(
    app: Any, client: Any, data: bytes, name: str, kind: str, message: str
) -> None:
    signed_in(client, app)

    response = upload(client, data, name, kind)

    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert rows(app, Connection) == []


def test_a_calendar_with_broken_events_connects_and_says_how_many_were_skipped(
    app: Any, client: Any
) -> None:
    signed_in(client, app)

    upload(client, (FIXTURES / "broken.ics").read_bytes(), "broken.ics")

    assert "3 broken events were skipped." in page(client)
    assert len(rows(app, Connection)) == 1


def alice_connected(client: Any, app: Any, feeds: FeedServer) -> Connection:
    """Sign alice in and connect the feed server's calendar by pasting its address."""
    signed_in(client, app)
    paste(client, feeds.url())
    [connection] = rows(app, Connection)
    return connection


def refresh(client: Any, connection_id: int, action: str = "refresh") -> Any:
    data = {"csrf_token": csrf_token(client)}
    return client.post(f"/connect/{connection_id}/{action}", data=data)


def test_refreshing_an_unchanged_feed_rewrites_nothing(
    app: Any, client: Any, feeds: FeedServer
) -> None:
    signed_in(client, app)
    paste(client, feeds.url())
    before = [row.id for row in rows(app, StoredOccurrence)]
    [connection] = rows(app, Connection)

    response = refresh(client, connection.id)

    assert response.status_code == 302
    assert f"{LABEL} has not changed since the last sync" in page(client)
    assert feeds.seen[-1]["If-None-Match"] == '"v1"'
    assert [row.id for row in rows(app, StoredOccurrence)] == before


def test_refreshing_a_changed_feed_replaces_its_events(
    app: Any, client: Any, feeds: FeedServer
) -> None:
    connection = alice_connected(client, app, feeds)
    changed = GOOGLE.replace(b"SUMMARY:Lunch with Carol", b"SUMMARY:Lunch with Dan")
    feeds.feeds[SECRET_PATH] = Feed(changed, etag='"v2"')

    refresh(client, connection.id)

    assert f"Refreshed: {LABEL}" in page(client)
    titles = {row.title for row in rows(app, StoredOccurrence)}
    assert "Lunch with Dan" in titles
    assert "Lunch with Carol" not in titles


def test_a_failed_refresh_is_shown_on_the_page_and_keeps_the_events(
    app: Any, client: Any, feeds: FeedServer
) -> None:
    connection = alice_connected(client, app, feeds)
    stored = len(rows(app, StoredOccurrence))
    feeds.feeds[SECRET_PATH] = Feed(b"down", status=503)

    refresh(client, connection.id)

    shown = page(client)
    assert "127.0.0.1 answered HTTP 503 (Service Unavailable)." in shown
    assert "Retrying" in shown  # one failed Refresh used to stop the feed for good ("Not syncing")
    assert len(rows(app, StoredOccurrence)) == stored
    with app.app_context():  # the dispatcher tries it again later
        later = datetime.now(UTC) + timedelta(hours=3)
        assert due_connections(db.session(), later) == [connection.id]


def test_disconnecting_deletes_the_connection_and_its_events(
    app: Any, client: Any, feeds: FeedServer
) -> None:
    connection = alice_connected(client, app, feeds)

    response = refresh(client, connection.id, "disconnect")

    assert response.status_code == 302
    assert f"Disconnected: {LABEL}." in page(client)
    assert rows(app, Connection) == []
    assert rows(app, StoredOccurrence) == []


@pytest.mark.parametrize("action", ["refresh", "disconnect"])
def test_another_users_connection_is_not_found(
    app: Any, client: Any, feeds: FeedServer, action: str
) -> None:
    signed_in(client, app, "bob@example.com")
    paste(client, feeds.url())
    [bobs] = rows(app, Connection)
    signed_in(client, app, "mallory@example.com")

    response = refresh(client, bobs.id, action)

    assert response.status_code == 404
    assert len(rows(app, Connection)) == 1
    assert rows(app, StoredOccurrence) != []


def test_a_file_name_with_markup_is_shown_as_text(app: Any, client: Any) -> None:
    signed_in(client, app)

    upload(client, GOOGLE, "<img src=x onerror=alert(1)>.ics")

    shown = page(client)  # the flash and the list both name it (and the calendar check may)
    assert shown.count("&lt;img src=x onerror=alert(1)&gt;.ics") >= 2
    assert "<img" not in shown


def test_connecting_without_the_csrf_token_is_refused(
    app: Any, client: Any, feeds: FeedServer
) -> None:
    signed_in(client, app)

    response = client.post("/connect/url", data={"url": feeds.url()})

    assert response.status_code == 400
    assert rows(app, Connection) == []
    assert feeds.seen == []


def test_connect_attempts_are_limited_to_ten_a_minute_per_person(settings: Settings) -> None:
    # Counters in this process's memory: the shared test Redis is flushed by other test runs.
    app = create_app(settings.with_changes(rate_limits=True, redis_url=""))
    client = app.test_client()
    signed_in(client, app)

    answers = [upload(client, b"not a calendar").status_code for _ in range(11)]

    assert answers == [422] * 10 + [429]
    assert "Too many tries" in upload(client, b"not a calendar").get_data(as_text=True)
    signed_in(client, app, "bob@example.com")
    assert upload(client, b"not a calendar").status_code == 422


def test_a_calendar_connected_here_gets_its_prep_notes_at_once(
    app: Any, client: Any, settings: Settings
) -> None:
    user_id = signed_in(client, app)
    lunch = (datetime.now(UTC) + timedelta(minutes=30)).strftime("%Y%m%dT%H%M00Z")
    event = (
        f"BEGIN:VEVENT\r\nUID:lunch-now\r\nDTSTART:{lunch}\r\nDURATION:PT1H\r\n"
        "SUMMARY:Lunch with Carol\r\nORGANIZER:mailto:alice@example.com\r\n"
        "ATTENDEE:mailto:carol@example.com\r\nEND:VEVENT\r\n"
    )
    calendar = f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\n{event}END:VCALENDAR\r\n"

    upload(client, calendar.encode())

    notes = Queue("notes", connection=connect(settings.redis_url))
    assert notes.job_ids == [f"plan-notes-{user_id}"]  # no waiting for the calendar to change
    runtime.use(settings)
    try:
        work(notes)
    finally:
        runtime.reset()
    with app.app_context():
        subjects = db.session.scalars(
            select(OutboxEmail.subject).where(OutboxEmail.kind == "prep_note")
        ).all()
    assert len(subjects) == 1
    assert subjects[0].startswith("Prep: lunch with Carol")


def test_an_upload_that_repeats_every_second_connects_and_says_what_was_skipped(
    app: Any, client: Any
) -> None:
    signed_in(client, app)
    secondly = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\nBEGIN:VEVENT\r\nUID:boom\r\n"
        "DTSTART:20260101T090000Z\r\nDURATION:PT15M\r\nSUMMARY:Coffee\r\nRRULE:FREQ=SECONDLY\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )

    answer = upload(client, secondly.encode())

    assert answer.status_code == 302
    shown = page(client)
    assert "Connected: work.ics — 0 events" in shown
    assert "1 event repeats more often than anyone meets (every second): skipped." in shown


def _on_one_day(count: int, day: datetime) -> bytes:
    start = day.strftime("%Y%m%dT120000Z")
    events = "".join(
        f"BEGIN:VEVENT\r\nUID:d{i}\r\nDTSTART:{start}\r\nDURATION:PT30M\r\nSUMMARY:Lunch {i}\r\n"
        "ORGANIZER:mailto:alice@example.com\r\nATTENDEE:mailto:carol@example.com\r\nEND:VEVENT\r\n"
        for i in range(count)
    )
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\n{events}END:VCALENDAR\r\n".encode()


def test_a_calendar_too_big_to_read_in_the_request_is_read_by_a_sync_job(
    app: Any, client: Any, settings: Settings
) -> None:
    # No time at all to read in the request: whatever the machine, the job reads it.
    quick = settings.with_changes(budget=replace(settings.budget, quick_seconds=0))
    app.extensions["touchpoint"] = quick
    signed_in(client, app)
    crowded = _on_one_day(30_000, datetime.now(UTC) + timedelta(days=1))

    answer = upload(client, crowded, "crowded.ics")

    assert answer.status_code == 302
    shown = page(client)
    assert "Connected: crowded.ics — it is large, so it is read in the background" in shown
    assert "Reading it in the background: its events appear here within a minute." in shown
    assert rows(app, StoredOccurrence) == []
    sync = Queue("sync", connection=connect(settings.redis_url))
    (connection,) = rows(app, Connection)
    assert sync.job_ids == [f"sync-{connection.id}"]
    runtime.use(quick)
    try:
        work(sync)
    finally:
        runtime.reset()
    stored = len(rows(app, StoredOccurrence))
    assert stored == quick.budget.per_day  # a day's limit, said on the page
    listed = " ".join(page(client).split())
    assert f"Working · {stored} events stored" in listed
    assert "The calendar holds more than Touchpoint reads at once: the rest was left out." in listed
