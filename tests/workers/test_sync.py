"""Sync jobs on real Redis and RQ: feeds from a local server on loopback, email by real SMTP."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from rq import Queue
from sqlalchemy import event

from service.adapters.db import Database
from service.adapters.secrets import SecretBox
from service.config import Settings
from service.models import Connection
from tests.factories import (
    ALICE,
    add_feed,
    stored_connection,
    stored_occurrences,
    time_passes,
)
from tests.feed_server import GOOGLE, SECRET_PATH, Feed, FeedServer
from tests.smtp_server import SmtpServer, text_of
from tests.workers.jobs import synced
from workers import runtime
from workers.sync import dispatch_syncs

QUEUES = ("sync",)


@pytest.fixture
def connect_feed(
    database: Database, box: SecretBox, alice_id: int, feeds: FeedServer
) -> Callable[[Feed], int]:
    """Serve a feed at alice's secret address and connect it (no sync yet); its connection id."""

    def connect(feed: Feed) -> int:
        feeds.feeds[SECRET_PATH] = feed
        return add_feed(database, box, alice_id, feeds.url())

    return connect


def test_an_unchanged_feed_costs_one_conditional_request_and_rewrites_nothing(
    database: Database, connect_feed: Callable[[Feed], int], feeds: FeedServer, queue: Queue
) -> None:
    connection_id = connect_feed(Feed(etag='"v1"'))

    assert synced(queue) == ["updated"]
    before = stored_occurrences(database)
    assert before
    assert dispatch_syncs() == 0  # within 15 minutes: not even enqueued
    assert queue.count == 0

    time_passes(database, connection_id)
    assert synced(queue) == ["unchanged"]
    assert [seen.get("If-None-Match") for seen in feeds.seen] == [None, '"v1"']
    assert stored_occurrences(database) == before


def test_a_changed_feed_replaces_its_events(
    database: Database, connect_feed: Callable[[Feed], int], feeds: FeedServer, queue: Queue
) -> None:
    connection_id = connect_feed(Feed(etag='"v1"'))
    synced(queue)
    changed = GOOGLE.replace(b"SUMMARY:Lunch with Carol", b"SUMMARY:Lunch with Dan")
    feeds.feeds[SECRET_PATH] = Feed(changed, etag='"v2"')

    time_passes(database, connection_id)
    assert synced(queue) == ["updated"]
    titles = {title for _, title in stored_occurrences(database)}
    assert "Lunch with Dan" in titles
    assert "Lunch with Carol" not in titles


def test_a_feed_that_asks_to_be_fetched_daily_is_fetched_daily(
    database: Database, connect_feed: Callable[[Feed], int], queue: Queue
) -> None:
    daily = GOOGLE.replace(
        b"VERSION:2.0\r\n", b"VERSION:2.0\r\nREFRESH-INTERVAL;VALUE=DURATION:P1D\r\n"
    )
    connection_id = connect_feed(Feed(daily))

    synced(queue)

    next_sync = stored_connection(database, connection_id).next_sync_at
    assert next_sync is not None
    assert next_sync > datetime.now(UTC) + timedelta(hours=23)


def test_a_feed_whose_server_is_down_keeps_its_events_and_is_tried_again_later(
    database: Database,
    connect_feed: Callable[[Feed], int],
    feeds: FeedServer,
    queue: Queue,
    smtp_server: SmtpServer,
) -> None:
    connection_id = connect_feed(Feed())
    synced(queue)
    before = stored_occurrences(database)
    feeds.feeds[SECRET_PATH] = Feed(b"down for maintenance", status=503)

    time_passes(database, connection_id)
    assert synced(queue) == ["failing"]
    down = stored_connection(database, connection_id)
    assert down.status == "failing"
    assert "answered HTTP 503" in down.last_error
    assert stored_occurrences(database) == before
    assert dispatch_syncs() == 0  # it waits before trying again

    feeds.feeds[SECRET_PATH] = Feed()  # back, unchanged
    time_passes(database, connection_id)
    assert synced(queue) == ["unchanged"]
    assert (stored_connection(database, connection_id).status, smtp_server.messages) == ("ok", [])


def test_a_feed_down_for_a_day_is_marked_broken_and_its_user_told_once(
    database: Database,
    connect_feed: Callable[[Feed], int],
    queue: Queue,
    smtp_server: SmtpServer,
) -> None:
    connection_id = connect_feed(Feed(b"gone", status=503))
    with database.unit() as session:  # last good sync two days ago, failing since
        connection = session.get_one(Connection, connection_id)
        connection.status, connection.synced_at = "failing", datetime.now(UTC) - timedelta(days=2)

    assert synced(queue) == ["broken"]
    (message,) = smtp_server.wait_for(1)
    assert message["To"] == ALICE
    assert "127.0.0.1 answered HTTP 503" in text_of(message)
    assert "http://localhost/connect" in text_of(message)
    assert dispatch_syncs() == 0


SECONDLY_AND_LUNCH = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\nBEGIN:VEVENT\r\nUID:boom\r\n"
    b"DTSTART:20260101T090000Z\r\nDURATION:PT15M\r\nSUMMARY:Coffee\r\nRRULE:FREQ=SECONDLY\r\n"
    b"END:VEVENT\r\n" + GOOGLE.split(b"BEGIN:VEVENT", 1)[1].join([b"BEGIN:VEVENT", b""])
)


def test_a_feed_that_repeats_every_second_syncs_the_rest_and_says_what_was_skipped(
    database: Database, connect_feed: Callable[[Feed], int], queue: Queue
) -> None:
    connection_id = connect_feed(Feed(SECONDLY_AND_LUNCH, etag='"v1"'))

    assert synced(queue) == ["updated"]

    assert stored_occurrences(database)  # the feed's other events are there
    with database.unit() as session:
        connection = session.get(Connection, connection_id)
        assert connection is not None
        assert connection.status == "ok"
        assert connection.read_notes == (
            "1 event repeats more often than anyone meets (every second): skipped."
        )


def test_a_feed_past_the_reads_hard_ceiling_is_stopped_and_the_worker_goes_on(
    database: Database,
    connect_feed: Callable[[Feed], int],
    queue: Queue,
    settings: Settings,
) -> None:
    connection_id = connect_feed(Feed(etag='"v1"'))
    no_time = replace(settings.budget, seconds=0, hard_seconds=0)
    runtime.use(settings.with_changes(budget=no_time))

    assert synced(queue) == ["failing"]  # the job ran to its end: the worker is still there

    with database.unit() as session:
        connection = session.get(Connection, connection_id)
        assert connection is not None
        assert connection.last_error == (
            "That calendar asks for more than Touchpoint reads: "
            "reading it took longer than 0 seconds."
        )
    assert stored_occurrences(database) == []


def test_no_database_transaction_stays_open_while_a_feed_downloads(
    connect_feed: Callable[[Feed], int], feeds: FeedServer, queue: Queue
) -> None:
    connect_feed(Feed(etag='"v1"'))
    engine = runtime.current().database.engine
    transactions = {"open": 0}
    at_requests: list[int] = []

    def began(*_: object) -> None:
        transactions["open"] += 1

    def ended(*_: object) -> None:
        transactions["open"] -= 1

    class Seen(list[dict[str, str]]):
        def append(self, headers: dict[str, str]) -> None:
            at_requests.append(transactions["open"])
            super().append(headers)

    feeds.seen = Seen()
    for name, listener in (("begin", began), ("commit", ended), ("rollback", ended)):
        event.listen(engine, name, listener)
    try:
        assert synced(queue) == ["updated"]
    finally:
        for name, listener in (("begin", began), ("commit", ended), ("rollback", ended)):
            event.remove(engine, name, listener)

    assert at_requests == [0]
