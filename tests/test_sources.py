"""Connecting and syncing ICS calendars, with feeds from a real HTTP server on loopback."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from service.adapters.db import Database
from service.adapters.http import MiB
from service.adapters.secrets import SecretBox
from service.config import Settings, parse_networks
from service.models import Connection, StoredOccurrence, User
from service.sources.connect import (
    SourceError,
    connect_ics_upload,
    connect_ics_url,
    masked_label,
    upload_label,
)
from service.sources.schedule import due_connections
from service.sources.sync import disconnect, sync_connection
from tests.factories import NOW, at
from tests.feed_server import FIXTURES, GOOGLE, SECRET_PATH, Feed, FeedServer, huge_feed

ALLOWED = Settings(allow_networks=parse_networks("127.0.0.1/32"))
GOOGLE_EVENTS = 16  # google.ics expanded over stored_span(NOW) in Berlin


def titles(database: Database) -> list[str]:
    with database.unit() as session:
        query = select(StoredOccurrence.title).order_by(StoredOccurrence.start)
        return list(session.scalars(query))


def rows_by_title(database: Database) -> dict[str, list[int]]:
    """The ids of the stored rows, by event title."""
    with database.unit() as session:
        rows = session.execute(select(StoredOccurrence.title, StoredOccurrence.id)).all()
    found: dict[str, list[int]] = {}
    for title, row_id in sorted(rows, key=lambda row: row[1]):
        found.setdefault(title, []).append(row_id)
    return found


def row_ids(database: Database) -> list[int]:
    with database.unit() as session:
        return list(session.scalars(select(StoredOccurrence.id).order_by(StoredOccurrence.id)))


def connect(database: Database, box: SecretBox, user_id: int, url: str, **settings: object) -> int:
    with database.unit() as session:
        user = session.get(User, user_id)
        assert user is not None
        result = connect_ics_url(session, ALLOWED.with_changes(**settings), box, user, url, NOW)
        return result.connection.id


def sync(database: Database, box: SecretBox, connection_id: int, days: float = 0) -> str:
    with database.unit() as session:
        connection = session.get(Connection, connection_id)
        assert connection is not None
        now = NOW + timedelta(days=days, hours=1)
        return sync_connection(session, ALLOWED, box, connection, now).outcome


def connections(database: Database) -> list[Connection]:
    with database.unit() as session:
        return list(session.scalars(select(Connection)))


def test_connecting_an_address_stores_its_events_and_only_a_sealed_copy_of_it(
    database: Database, box: SecretBox, alice_id: int, feeds: FeedServer
) -> None:
    feeds.feeds[SECRET_PATH] = Feed(etag='"v1"')
    with database.unit() as session:
        user = session.get(User, alice_id)
        assert user is not None
        result = connect_ics_url(session, ALLOWED, box, user, feeds.url(), NOW)

    [stored] = connections(database)
    assert (result.outcome, result.events, result.warnings) == ("connected", GOOGLE_EVENTS, [])
    assert (stored.kind, stored.label, stored.etag) == ("ics_url", "127.0.0.1/…/basic.ics", '"v1"')
    assert b"private-8f3a9c2e71" not in (stored.secret or b"")
    assert box.open(stored.secret or b"") == feeds.url()
    assert len(titles(database)) == GOOGLE_EVENTS
    assert "Lunch with Carol" in titles(database)


def test_connecting_the_same_address_twice_is_refused_so_no_event_counts_twice(
    database: Database, box: SecretBox, alice_id: int, feeds: FeedServer
) -> None:
    feeds.feeds[SECRET_PATH] = Feed()
    connect(database, box, alice_id, feeds.url())

    with pytest.raises(SourceError, match=r"already connected as 127\.0\.0\.1/…/basic\.ics"):
        connect(database, box, alice_id, feeds.url())

    assert len(connections(database)) == 1
    assert len(feeds.seen) == 1


@pytest.mark.parametrize(
    ("address", "label"),
    [
        ("https://calendar.google.com" + SECRET_PATH, "calendar.google.com/…/basic.ics"),
        (
            "webcal://p52-caldav.icloud.com/published/2/MTAxNjg5NzQ3NjEwMTY4",
            "p52-caldav.icloud.com/…",
        ),
        ("https://example.com/team.ics?token=s3cr3t", "example.com/team.ics"),
        ("https://example.com/feeds/a7f3e9b2c4d1.ics", "example.com/…"),
        ("https://intranet.example.com/", "intranet.example.com"),
    ],
)
def test_a_label_shows_the_host_and_a_plain_file_name_but_never_the_secret_part(
    address: str, label: str
) -> None:
    assert masked_label(address) == label


def test_an_address_inside_a_private_network_is_refused_and_nothing_is_stored(
    database: Database, box: SecretBox, alice_id: int, feeds: FeedServer
) -> None:
    feeds.feeds[SECRET_PATH] = Feed()

    with pytest.raises(SourceError, match=r"127\.0\.0\.1 is a loopback address, which is not"):
        connect(database, box, alice_id, feeds.url(), allow_networks=())

    assert connections(database) == []
    assert feeds.seen == []


def test_a_redirect_out_of_the_allowed_network_is_refused(
    database: Database, box: SecretBox, alice_id: int, feeds: FeedServer
) -> None:
    feeds.feeds[SECRET_PATH] = Feed(
        status=302, headers=(("Location", feeds.url(host="127.0.0.2")),)
    )

    with pytest.raises(SourceError, match=r"will not fetch that address: .*127\.0\.0\.2"):
        connect(database, box, alice_id, feeds.url())

    assert connections(database) == []


@pytest.mark.parametrize(
    ("feed", "message"),
    [
        (Feed(b"gone", status=404), "did not answer with a calendar: 127.0.0.1 answered HTTP 404"),
        (Feed(b"<!doctype html><p>Sign in</p>"), "127.0.0.1 sent a web page, not a calendar"),
        (Feed(b"just some text"), "That calendar cannot be read: it is not an iCalendar file"),
        (huge_feed(), "too big: 127.0.0.1 offers 20 MiB; the limit is 10 MiB"),
    ],
    ids=["missing", "web page", "not a calendar", "huge"],
)
def test_a_bad_feed_is_refused_with_a_sentence_that_names_only_the_host(
    database: Database, box: SecretBox, alice_id: int, feeds: FeedServer, feed: Feed, message: str
) -> None:
    feeds.feeds[SECRET_PATH] = feed

    with pytest.raises(SourceError, match=message) as refused:
        connect(database, box, alice_id, feeds.url())

    assert "private-8f3a9c2e71" not in str(refused.value)
    assert connections(database) == []


def test_a_calendar_with_broken_events_connects_and_counts_what_was_skipped(
    database: Database, box: SecretBox, alice_id: int
) -> None:
    with database.unit() as session:
        user = session.get(User, alice_id)
        assert user is not None
        data = (FIXTURES / "broken.ics").read_bytes()
        result = connect_ics_upload(session, ALLOWED, user, "broken.ics", data, NOW)

    assert result.notices() == [
        "3 broken events were skipped.",
        "1 part of the calendar could not be read.",
    ]
    assert "Lunch with Carol" in titles(database)


def test_an_upload_is_stored_under_its_file_name_without_folders_or_a_secret(
    database: Database, alice_id: int
) -> None:
    with database.unit() as session:
        user = session.get(User, alice_id)
        assert user is not None
        name = "C:\\Users\\alice\\Work\x07 calendar.ics"
        result = connect_ics_upload(session, ALLOWED, user, name, GOOGLE, NOW)

    [stored] = connections(database)
    assert (stored.kind, stored.label, stored.secret) == ("ics_upload", "Work calendar.ics", None)
    assert result.events == len(titles(database)) == GOOGLE_EVENTS
    assert upload_label("") == "uploaded calendar"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x89PNG\r\n\x1a\n", "it is not an iCalendar file"),
        (b"", "the calendar is empty"),
        (b"<html><body>Export</body></html>", "That file is a web page, not a calendar"),
        (GOOGLE + b" " * (10 * MiB), r"That file is too big \(10 MiB at most\)"),
    ],
    ids=["image", "empty", "web page", "too big"],
)
def test_an_upload_that_is_no_calendar_is_refused_and_nothing_is_stored(
    database: Database, alice_id: int, data: bytes, message: str
) -> None:
    with database.unit() as session:
        user = session.get(User, alice_id)
        assert user is not None
        with pytest.raises(SourceError, match=message):
            connect_ics_upload(session, ALLOWED, user, "photo.ics", data, NOW)

    assert connections(database) == []


@pytest.mark.parametrize("etag", ['"v1"', ""], ids=["304", "same bytes"])
def test_a_refresh_of_an_unchanged_feed_rewrites_nothing(
    database: Database, box: SecretBox, alice_id: int, feeds: FeedServer, etag: str
) -> None:
    feeds.feeds[SECRET_PATH] = Feed(etag=etag)
    connection_id = connect(database, box, alice_id, feeds.url())
    before = row_ids(database)

    assert sync(database, box, connection_id) == "unchanged"
    assert feeds.seen[-1].get("If-None-Match") == (etag or None)
    assert row_ids(database) == before


def test_a_refresh_of_a_changed_feed_replaces_its_events(
    database: Database, box: SecretBox, alice_id: int, feeds: FeedServer
) -> None:
    feeds.feeds[SECRET_PATH] = Feed(etag='"v1"')
    connection_id = connect(database, box, alice_id, feeds.url())
    changed = GOOGLE.replace(b"SUMMARY:Lunch with Carol", b"SUMMARY:Lunch with Dan")
    feeds.feeds[SECRET_PATH] = Feed(changed, etag='"v2"')

    assert sync(database, box, connection_id) == "updated"
    assert "Lunch with Dan" in titles(database)
    assert "Lunch with Carol" not in titles(database)
    assert len(titles(database)) == GOOGLE_EVENTS


def test_a_sync_across_midnight_asks_conditionally_and_rewrites_nothing(
    database: Database, box: SecretBox, alice_id: int, feeds: FeedServer
) -> None:
    feeds.feeds[SECRET_PATH] = Feed(etag='"v1"')
    connection_id = connect(database, box, alice_id, feeds.url())
    before = row_ids(database)

    assert sync(database, box, connection_id, days=1) == "unchanged"
    assert feeds.seen[-1].get("If-None-Match") == '"v1"'  # answered 304: nothing downloaded
    assert row_ids(database) == before


def test_the_kept_feed_reaches_new_days_without_a_download_once_the_days_ahead_run_short(
    database: Database, box: SecretBox, alice_id: int, feeds: FeedServer
) -> None:
    feeds.feeds[SECRET_PATH] = Feed(etag='"v1"')
    connection_id = connect(database, box, alice_id, feeds.url())
    before = row_ids(database)

    assert sync(database, box, connection_id, days=8) == "updated"
    assert feeds.seen[-1].get("If-None-Match") == '"v1"'  # answered 304
    with database.unit() as session:
        starts = session.scalars(select(StoredOccurrence.start)).all()
    assert at(24, 10) in starts  # the weekly 1:1, past the first sync's days ahead
    assert set(before) <= set(row_ids(database))  # what was stored stays as it was


def test_a_changed_feed_rewrites_only_the_changed_events(
    database: Database, box: SecretBox, alice_id: int, feeds: FeedServer
) -> None:
    feeds.feeds[SECRET_PATH] = Feed(etag='"v1"')
    connection_id = connect(database, box, alice_id, feeds.url())
    before = rows_by_title(database)
    changed = GOOGLE.replace(b"SUMMARY:Lunch with Carol", b"SUMMARY:Lunch with Dan")
    feeds.feeds[SECRET_PATH] = Feed(changed, etag='"v2"')

    assert sync(database, box, connection_id) == "updated"

    after = rows_by_title(database)
    assert after.pop("Lunch with Dan") == before.pop("Lunch with Carol")  # updated in place
    assert after == before  # every other event keeps its row, untouched


def test_an_event_gone_from_a_changed_feed_is_gone_from_the_stored_events(
    database: Database, box: SecretBox, alice_id: int, feeds: FeedServer
) -> None:
    feeds.feeds[SECRET_PATH] = Feed(etag='"v1"')
    connection_id = connect(database, box, alice_id, feeds.url())
    start = GOOGLE.rindex(b"BEGIN:VEVENT", 0, GOOGLE.index(b"SUMMARY:Coffee with Dan"))
    end = GOOGLE.index(b"BEGIN:", GOOGLE.index(b"END:VEVENT", start))
    feeds.feeds[SECRET_PATH] = Feed(GOOGLE[:start] + GOOGLE[end:], etag='"v2"')

    assert sync(database, box, connection_id) == "updated"

    assert "Coffee with Dan" not in titles(database)
    assert len(titles(database)) < GOOGLE_EVENTS


def test_a_feed_that_only_stamps_its_events_anew_reads_and_writes_nothing(
    database: Database, box: SecretBox, alice_id: int, feeds: FeedServer
) -> None:
    feeds.feeds[SECRET_PATH] = Feed()  # no validators: the whole feed comes every time
    connection_id = connect(database, box, alice_id, feeds.url())
    before = row_ids(database)
    feeds.feeds[SECRET_PATH] = Feed(GOOGLE.replace(b"DTSTAMP:2026", b"DTSTAMP:2027"))

    assert sync(database, box, connection_id) == "unchanged"
    assert row_ids(database) == before


def test_a_failed_refresh_keeps_the_feed_retrying_and_keeps_its_events(
    database: Database, box: SecretBox, alice_id: int, feeds: FeedServer
) -> None:
    feeds.feeds[SECRET_PATH] = Feed()
    connection_id = connect(database, box, alice_id, feeds.url())
    feeds.feeds[SECRET_PATH] = Feed(b"down", status=503)

    assert sync(database, box, connection_id) == "failed"
    [failing] = connections(database)
    assert failing.status == "failing"  # one failed fetch says little: it was "broken" for good
    assert "127.0.0.1 answered HTTP 503 (Service Unavailable)" in failing.last_error
    assert len(titles(database)) == GOOGLE_EVENTS
    with database.unit() as session:
        assert connection_id not in due_connections(session, NOW + timedelta(hours=1))
        assert connection_id in due_connections(session, NOW + timedelta(hours=2))

    feeds.feeds[SECRET_PATH] = Feed(GOOGLE.replace(b"Carol", b"Dan"))
    assert sync(database, box, connection_id) == "updated"
    assert [(c.status, c.last_error) for c in connections(database)] == [("ok", "")]


def test_disconnecting_deletes_the_connection_and_its_events(
    database: Database, box: SecretBox, alice_id: int, feeds: FeedServer
) -> None:
    feeds.feeds[SECRET_PATH] = Feed()
    connection_id = connect(database, box, alice_id, feeds.url())

    with database.unit() as session:
        connection = session.get(Connection, connection_id)
        assert connection is not None
        label, notices = disconnect(session, ALLOWED, box, connection)

    assert label == "127.0.0.1/…/basic.ics"
    assert notices == []
    assert connections(database) == []
    assert titles(database) == []


def test_a_kept_upload_is_expanded_again_so_weekly_events_reach_the_new_days(
    database: Database, box: SecretBox, alice_id: int
) -> None:
    with database.unit() as session:
        user = session.get(User, alice_id)
        assert user is not None
        connection_id = connect_ics_upload(
            session, ALLOWED, user, "w.ics", GOOGLE, NOW
        ).connection.id

    assert sync(database, box, connection_id) == "unchanged"
    assert sync(database, box, connection_id, days=1) == "unchanged"  # its days ahead suffice
    assert sync(database, box, connection_id, days=8) == "updated"
    with database.unit() as session:
        starts = session.scalars(select(StoredOccurrence.start)).all()
    assert at(24, 10) in starts  # the weekly 1:1, past the upload's days ahead
