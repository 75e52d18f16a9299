"""Sync jobs on real Redis and RQ: feeds from a local server on loopback, email by real SMTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rq import Queue
from rq.job import Job
from sqlalchemy import select

from service.adapters.db import Database
from service.adapters.redis import connect
from service.adapters.secrets import SecretBox
from service.config import Settings, parse_networks
from service.models import Connection, StoredOccurrence, User
from service.sources.connect import masked_label
from tests.factories import ALICE
from tests.google_server import FakeGoogle
from tests.smtp_server import SmtpServer
from tests.test_sources import GOOGLE, SECRET_PATH, Feed, FeedServer, serving
from tests.workers.test_booking_job import work
from workers import runtime
from workers.sync import dispatch_syncs


@pytest.fixture
def settings(settings: Settings, smtp_server: SmtpServer, google_server: FakeGoogle) -> Settings:
    return settings.with_changes(
        smtp=smtp_server.settings,
        google=google_server.google_settings(),
        allow_networks=parse_networks("127.0.0.1/32"),
    )


@pytest.fixture
def box(settings: Settings) -> SecretBox:
    return SecretBox(settings.encryption_keys)


@pytest.fixture(autouse=True)
def worker_settings(settings: Settings) -> Iterator[None]:
    runtime.use(settings)
    yield
    runtime.reset()


@pytest.fixture
def queue(settings: Settings) -> Queue:
    return Queue("sync", connection=connect(settings.redis_url))


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    with serving() as server:
        yield server


@pytest.fixture
def alice_id(database: Database) -> int:
    with database.unit() as session:
        user = User(email=ALICE, tz="Europe/Berlin")
        session.add(user)
        session.flush()
        return user.id


def add_feed(database: Database, box: SecretBox, user_id: int, url: str) -> int:
    """A calendar address alice connected, not synced by a worker yet."""
    with database.unit() as session:
        row = Connection(
            user_id=user_id, kind="ics_url", label=masked_label(url), secret=box.seal(url)
        )
        session.add(row)
        session.flush()
        return row.id


def synced(queue: Queue) -> list[str | None]:
    """Dispatch what is due, run it, and return what each sync did."""
    dispatch_syncs()
    jobs = [Job.fetch(job_id, connection=queue.connection) for job_id in queue.job_ids]
    work(queue)
    return [job.return_value() for job in jobs]


def time_passes(database: Database, connection_id: int, **earlier: timedelta) -> None:
    """Make the next sync due now, and move the given times (e.g. synced_at) back."""
    with database.unit() as session:
        connection = session.get_one(Connection, connection_id)
        connection.next_sync_at = datetime.now(UTC) - timedelta(seconds=1)
        for name, ago in earlier.items():
            setattr(connection, name, getattr(connection, name) - ago)


def stored(database: Database) -> list[tuple[int, str]]:
    with database.unit() as session:
        query = select(StoredOccurrence.id, StoredOccurrence.title).order_by(StoredOccurrence.id)
        return [(row.id, row.title) for row in session.execute(query)]


def state(database: Database, connection_id: int) -> Connection:
    with database.unit() as session:
        return session.get_one(Connection, connection_id)


def text_of(message: Any) -> str:
    return str(message.get_body(("plain",)).get_content())


def test_an_unchanged_feed_costs_one_conditional_request_and_rewrites_nothing(
    database: Database, box: SecretBox, alice_id: int, feeds: FeedServer, queue: Queue
) -> None:
    feeds.feeds[SECRET_PATH] = Feed(etag='"v1"')
    connection_id = add_feed(database, box, alice_id, feeds.url())

    assert synced(queue) == ["updated"]
    before = stored(database)
    assert before
    assert dispatch_syncs() == 0  # within 15 minutes: not even enqueued
    assert queue.count == 0

    time_passes(database, connection_id)
    assert synced(queue) == ["unchanged"]
    assert [seen.get("If-None-Match") for seen in feeds.seen] == [None, '"v1"']
    assert stored(database) == before


def test_a_changed_feed_replaces_its_events(
    database: Database, box: SecretBox, alice_id: int, feeds: FeedServer, queue: Queue
) -> None:
    feeds.feeds[SECRET_PATH] = Feed(etag='"v1"')
    connection_id = add_feed(database, box, alice_id, feeds.url())
    synced(queue)
    changed = GOOGLE.replace(b"SUMMARY:Lunch with Carol", b"SUMMARY:Lunch with Dan")
    feeds.feeds[SECRET_PATH] = Feed(changed, etag='"v2"')

    time_passes(database, connection_id)
    assert synced(queue) == ["updated"]
    titles = {title for _, title in stored(database)}
    assert "Lunch with Dan" in titles
    assert "Lunch with Carol" not in titles


def test_a_feed_that_asks_to_be_fetched_daily_is_fetched_daily(
    database: Database, box: SecretBox, alice_id: int, feeds: FeedServer, queue: Queue
) -> None:
    daily = GOOGLE.replace(
        b"VERSION:2.0\r\n", b"VERSION:2.0\r\nREFRESH-INTERVAL;VALUE=DURATION:P1D\r\n"
    )
    feeds.feeds[SECRET_PATH] = Feed(daily)
    connection_id = add_feed(database, box, alice_id, feeds.url())

    synced(queue)

    next_sync = state(database, connection_id).next_sync_at
    assert next_sync is not None
    assert next_sync > datetime.now(UTC) + timedelta(hours=23)


def test_a_feed_whose_server_is_down_keeps_its_events_and_is_tried_again_later(
    database: Database,
    box: SecretBox,
    alice_id: int,
    feeds: FeedServer,
    queue: Queue,
    smtp_server: SmtpServer,
) -> None:
    feeds.feeds[SECRET_PATH] = Feed()
    connection_id = add_feed(database, box, alice_id, feeds.url())
    synced(queue)
    before = stored(database)
    feeds.feeds[SECRET_PATH] = Feed(b"down for maintenance", status=503)

    time_passes(database, connection_id)
    assert synced(queue) == ["failing"]
    down = state(database, connection_id)
    assert down.status == "failing"
    assert "answered HTTP 503" in down.last_error
    assert stored(database) == before
    assert dispatch_syncs() == 0  # it waits before trying again

    feeds.feeds[SECRET_PATH] = Feed()  # back, unchanged
    time_passes(database, connection_id)
    assert synced(queue) == ["unchanged"]
    assert (state(database, connection_id).status, smtp_server.messages) == ("ok", [])


def test_a_feed_down_for_a_day_is_marked_broken_and_its_user_told_once(
    database: Database,
    box: SecretBox,
    alice_id: int,
    feeds: FeedServer,
    queue: Queue,
    smtp_server: SmtpServer,
) -> None:
    feeds.feeds[SECRET_PATH] = Feed(b"gone", status=503)
    connection_id = add_feed(database, box, alice_id, feeds.url())
    with database.unit() as session:  # last good sync two days ago, failing since
        connection = session.get_one(Connection, connection_id)
        connection.status, connection.synced_at = "failing", datetime.now(UTC) - timedelta(days=2)

    assert synced(queue) == ["broken"]
    (message,) = smtp_server.wait_for(1)
    assert message["To"] == ALICE
    assert "127.0.0.1 answered HTTP 503" in text_of(message)
    assert "http://localhost/connect" in text_of(message)
    assert dispatch_syncs() == 0
