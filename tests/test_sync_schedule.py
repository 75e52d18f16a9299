"""When connections sync next, what a failed sync makes of them, and the reconnect email."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from service.adapters.db import Database
from service.calendars.ics import IcsCalendar
from service.config import Google, Settings
from service.models import Connection, OutboxEmail
from service.sources.schedule import (
    connection_for_channel,
    due_connections,
    failed,
    interval,
    lease,
    mark_due,
    notify_broken,
    push_address,
    refresh_minutes,
    retry_wait,
    schedule_next,
)
from tests.factories import ALICE, NOW

HOUR = timedelta(hours=1)


def feed(*properties: str) -> IcsCalendar:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", *properties]
    event = [
        "BEGIN:VEVENT",
        "UID:1@test",
        "DTSTART:20260303T120000Z",
        "SUMMARY:Lunch",
        "END:VEVENT",
    ]
    return IcsCalendar.from_bytes("\r\n".join([*lines, *event, "END:VCALENDAR", ""]).encode())


def connection(**fields: Any) -> Connection:
    """A connection synced an hour before NOW, as the database would give it back."""
    values: dict[str, Any] = {
        "kind": "ics_url",
        "status": "ok",
        "refresh_minutes": 15,
        "created_at": NOW - timedelta(days=30),
        "synced_at": NOW - HOUR,
        "channel_id": "",
        "channel_expires_at": None,
    }
    return Connection(**(values | fields))


@pytest.mark.parametrize(
    ("properties", "minutes"),
    [
        (("REFRESH-INTERVAL;VALUE=DURATION:P1D",), 24 * 60),
        (("X-PUBLISHED-TTL:PT1H",), 60),
        (("REFRESH-INTERVAL;VALUE=DURATION:PT2H", "X-PUBLISHED-TTL:PT1H"), 120),
        (("REFRESH-INTERVAL;VALUE=DURATION:PT1M",), 15),
        (("REFRESH-INTERVAL;VALUE=DURATION:P30D",), 24 * 60),
        (("REFRESH-INTERVAL;VALUE=DURATION:-P1D",), 15),
        (("X-PUBLISHED-TTL:soon",), 15),
        ((), 15),
    ],
    ids=["a day", "ttl", "standard first", "floor", "a day at most", "negative", "junk", "none"],
)
def test_a_feed_is_fetched_as_often_as_it_asks_but_not_more_than_every_fifteen_minutes(
    properties: tuple[str, ...], minutes: int
) -> None:
    assert refresh_minutes(feed(*properties)) == minutes


def test_a_google_calendar_that_pushes_its_changes_is_polled_only_every_six_hours() -> None:
    pushing = connection(kind="google", channel_id="c", channel_expires_at=NOW + timedelta(days=7))
    ending = connection(kind="google", channel_id="c", channel_expires_at=NOW + HOUR)

    assert interval(pushing, NOW) == timedelta(hours=6)
    assert interval(ending, NOW) == timedelta(minutes=15)
    assert interval(connection(kind="google"), NOW) == timedelta(minutes=15)
    assert interval(connection(refresh_minutes=24 * 60), NOW) == timedelta(days=1)


def test_a_failing_connection_waits_longer_the_longer_it_has_been_failing() -> None:
    waits = [retry_wait(connection(synced_at=NOW - ago), NOW) for ago in (HOUR / 4, HOUR, 9 * HOUR)]

    assert waits == [timedelta(minutes=15), timedelta(minutes=45), timedelta(hours=2)]


def test_a_feed_that_fails_keeps_syncing_until_it_has_failed_for_a_day() -> None:
    down = connection()

    assert not failed(down, "503", NOW, transient=True)
    assert (down.status, down.last_error, down.next_sync_at) == (
        "failing",
        "503",
        NOW + 45 * HOUR / 60,
    )

    long_down = connection(status="failing", synced_at=NOW - timedelta(days=1, hours=1))
    assert failed(long_down, "503", NOW, transient=True)
    assert (long_down.status, long_down.next_sync_at) == ("broken", None)


def test_a_failure_that_cannot_pass_breaks_the_connection_at_once() -> None:
    revoked = connection(kind="google")

    assert failed(revoked, "revoked", NOW, transient=False)
    assert revoked.status == "broken"


def test_push_needs_an_https_address_and_google_configured() -> None:
    google = Google(client_id="id", client_secret="secret")

    assert push_address(Settings(base_url="https://tp.example", google=google)) == (
        "https://tp.example/google/push"
    )
    assert push_address(Settings(base_url="http://127.0.0.1:5000", google=google)) is None
    assert push_address(Settings(base_url="https://tp.example")) is None


def add(database: Database, user_id: int, **fields: Any) -> int:
    with database.unit() as session:
        values = {"kind": "ics_url", "label": "example.com/…"} | fields
        row = Connection(user_id=user_id, **values)
        session.add(row)
        session.flush()
        return row.id


def test_only_working_connections_that_are_due_are_synced(
    database: Database, alice_id: int
) -> None:
    new = add(database, alice_id)
    late = add(database, alice_id, next_sync_at=NOW - HOUR)
    failing = add(database, alice_id, status="failing", next_sync_at=NOW)
    add(database, alice_id, next_sync_at=NOW + HOUR)
    add(database, alice_id, status="broken")

    with database.unit() as session:
        assert due_connections(session, NOW) == [new, late, failing]


def test_a_push_during_a_sync_keeps_the_calendar_due_for_another_sync(
    database: Database, alice_id: int
) -> None:
    quiet, pushed = add(database, alice_id), add(database, alice_id)
    with database.unit() as session:  # both syncs start
        leases = {cid: lease(session.get_one(Connection, cid), NOW) for cid in (quiet, pushed)}
    with database.unit() as session:  # Google says the second changed meanwhile
        mark_due(session.get_one(Connection, pushed), NOW + timedelta(minutes=1))

    for connection_id in (quiet, pushed):  # both syncs end
        with database.unit() as session:
            connection = session.get_one(Connection, connection_id)
            schedule_next(session, connection, leases[connection_id], NOW + timedelta(minutes=2))

    with database.unit() as session:
        assert due_connections(session, NOW + timedelta(minutes=3)) == [pushed]


def test_the_user_is_told_once_per_break(database: Database, alice_id: int) -> None:
    settings = Settings(base_url="https://tp.example")
    broken = add(database, alice_id, status="broken", last_error="Google access was revoked")

    def tell(at: Any) -> int | None:
        with database.unit() as session:
            return notify_broken(session, settings, session.get_one(Connection, broken), at)

    assert tell(NOW) is not None
    assert tell(NOW + HOUR) is None
    with database.unit() as session:  # repaired, synced, broken again: a new break
        session.get_one(Connection, broken).synced_at = NOW + 2 * HOUR
    assert tell(NOW + 3 * HOUR) is not None
    with database.unit() as session:
        emails = session.scalars(select(OutboxEmail)).all()
    assert [email.to for email in emails] == [ALICE, ALICE]
    assert "https://tp.example/connect" in emails[0].text
    assert "Google access was revoked" in emails[0].html


def test_a_push_is_matched_to_its_connection_only_with_the_right_token(
    database: Database, alice_id: int
) -> None:
    add(database, alice_id, kind="google", channel_id="chan-1", channel_token="right")

    with database.unit() as session:
        assert connection_for_channel(session, "chan-1", "right") is not None
        assert connection_for_channel(session, "chan-1", "wrong") is None
        assert connection_for_channel(session, "chan-1", "") is None
        assert connection_for_channel(session, "chan-2", "right") is None
        assert connection_for_channel(session, "", "") is None
