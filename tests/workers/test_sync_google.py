"""Google Calendar sync jobs and push channels on real Redis and RQ, against the fake Google."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rq import Queue
from rq.job import Job, JobStatus
from sqlalchemy import select

from service.adapters.db import Database
from service.adapters.google import CALENDAR_SCOPES, SIGN_IN_SCOPES
from service.adapters.secrets import SecretBox
from service.config import Settings
from service.models import Connection, User
from service.sources.google import save_connection
from tests.factories import (
    ALICE,
    google_lunch,
    stored_connection,
    stored_occurrences,
    time_passes,
)
from tests.google_server import FakeGoogle
from tests.smtp_server import SmtpServer, text_of
from tests.workers.jobs import let_retry_waits_pass, synced, work
from workers.sync import dispatch_syncs, enqueue_sync, renew_channels

QUEUES = ("sync",)
GRANTED = {*SIGN_IN_SCOPES, *CALENDAR_SCOPES}
EVENTS = r"/calendars/primary/events$"
WATCH = r"/calendars/primary/events/watch$"
# Google pushes to https only; nothing listens here, so its messages are simply not delivered.
PUBLIC = "https://127.0.0.1:1"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.with_changes(base_url=PUBLIC)


def add_google(database: Database, box: SecretBox, google_server: FakeGoogle) -> int:
    token = google_server.grant(ALICE, GRANTED)
    with database.unit() as session:
        user = session.scalars(select(User).where(User.email == ALICE)).one()
        return save_connection(session, box, user, ALICE, token, GRANTED).id


def test_a_google_calendar_syncs_only_its_changes_and_drops_deleted_events(
    database: Database, box: SecretBox, alice_id: int, google_server: FakeGoogle, queue: Queue
) -> None:
    connection_id = add_google(database, box, google_server)
    first = google_server.add_event(ALICE, google_lunch("Lunch with Bob"))
    assert synced(queue) == ["connected"]

    time_passes(database, connection_id)
    assert synced(queue) == ["unchanged"]
    assert "syncToken" in google_server.calls("GET", EVENTS)[-1].query

    google_server.add_event(ALICE, google_lunch("Coffee with Carol", day=4))
    google_server.remove_event(ALICE, first["id"])
    time_passes(database, connection_id)
    assert synced(queue) == ["updated"]
    assert [title for _, title in stored_occurrences(database)] == ["Coffee with Carol"]


def test_an_expired_sync_token_brings_a_full_sync(
    database: Database, box: SecretBox, alice_id: int, google_server: FakeGoogle, queue: Queue
) -> None:
    connection_id = add_google(database, box, google_server)
    event = google_server.add_event(ALICE, google_lunch("Lunch with Bob"))
    synced(queue)
    google_server.expire_sync_tokens()
    google_server.update_event(ALICE, event["id"], summary="Lunch with Bob and Carol")

    time_passes(database, connection_id)
    assert synced(queue) == ["updated"]
    *_, expired, full = google_server.calls("GET", EVENTS)
    assert ("syncToken" in expired.query, "syncToken" in full.query) == (True, False)
    assert [title for _, title in stored_occurrences(database)] == ["Lunch with Bob and Carol"]


@pytest.mark.parametrize("status", [429, 500])
def test_google_busy_or_failing_is_retried_by_the_worker_until_it_answers(
    database: Database,
    box: SecretBox,
    alice_id: int,
    google_server: FakeGoogle,
    queue: Queue,
    status: int,
) -> None:
    connection_id = add_google(database, box, google_server)
    google_server.add_event(ALICE, google_lunch("Lunch with Bob"))
    google_server.fail_next(EVENTS, status, times=2, method="GET")

    dispatch_syncs()
    work(queue)
    job = Job.fetch(f"sync-{connection_id}", connection=queue.connection)
    assert job.get_status() == JobStatus.SCHEDULED
    assert stored_connection(database, connection_id).status == "failing"
    for _ in range(2):
        let_retry_waits_pass(queue)
        work(queue, scheduler=True)

    assert job.return_value() == "connected"
    assert stored_connection(database, connection_id).status == "ok"
    assert [title for _, title in stored_occurrences(database)] == ["Lunch with Bob"]


TOKEN = r"/token$"


def test_syncs_within_the_hour_reuse_one_access_token(
    database: Database, box: SecretBox, alice_id: int, google_server: FakeGoogle, queue: Queue
) -> None:
    connection_id = add_google(database, box, google_server)
    assert synced(queue) == ["connected"]
    for _ in range(3):
        time_passes(database, connection_id)
        assert synced(queue) == ["unchanged"]

    assert len(google_server.calls("POST", TOKEN)) == 1  # refreshed once, for the first sync
    kept = stored_connection(database, connection_id).access_token
    assert kept is not None
    assert google_server.state.grant_for_access_token(box.open(kept)) is not None  # sealed


def test_a_grant_revoked_while_its_access_token_is_kept_still_breaks_the_connection(
    database: Database, box: SecretBox, alice_id: int, google_server: FakeGoogle, queue: Queue
) -> None:
    connection_id = add_google(database, box, google_server)
    assert synced(queue) == ["connected"]
    google_server.revoke_user(ALICE)

    time_passes(database, connection_id)
    assert synced(queue) == ["broken"]


def test_a_newly_connected_google_calendar_gets_its_push_channel_with_its_first_sync(
    database: Database, box: SecretBox, alice_id: int, google_server: FakeGoogle, queue: Queue
) -> None:
    connection_id = add_google(database, box, google_server)

    assert synced(queue) == ["connected"]
    work(queue)  # the channel job the sync enqueued

    opened = stored_connection(database, connection_id)
    assert channel_at_google(google_server, opened.channel_id).live()


def test_a_revoked_grant_breaks_the_connection_and_emails_its_user_once(
    database: Database,
    box: SecretBox,
    alice_id: int,
    google_server: FakeGoogle,
    queue: Queue,
    smtp_server: SmtpServer,
) -> None:
    connection_id = add_google(database, box, google_server)
    google_server.revoke_user(ALICE)

    assert synced(queue) == ["broken"]
    (message,) = smtp_server.wait_for(1)
    assert message["To"] == ALICE
    assert "Google Calendar" in message["Subject"]
    assert f"{PUBLIC}/connect" in text_of(message)

    assert dispatch_syncs() == 0
    enqueue_sync(queue, connection_id)  # even run again, it does nothing
    work(queue)
    assert len(smtp_server.messages) == 1
    assert stored_connection(database, connection_id).status == "broken"


def channel_at_google(google_server: FakeGoogle, channel_id: str) -> Any:
    return next(channel for channel in google_server.state.channels if channel.id == channel_id)


def test_a_google_calendar_gets_a_push_channel_and_is_then_polled_only_every_six_hours(
    database: Database, box: SecretBox, alice_id: int, google_server: FakeGoogle, queue: Queue
) -> None:
    connection_id = add_google(database, box, google_server)

    assert renew_channels() == 1
    work(queue)
    opened = stored_connection(database, connection_id)
    channel = channel_at_google(google_server, opened.channel_id)
    assert (channel.address, channel.token) == (f"{PUBLIC}/google/push", opened.channel_token)
    assert channel.live()
    assert renew_channels() == 0  # it has one for a week

    assert synced(queue) == ["connected"]
    next_sync = stored_connection(database, connection_id).next_sync_at
    assert next_sync is not None
    assert next_sync > datetime.now(UTC) + timedelta(hours=5)


def test_a_channel_about_to_end_is_replaced_and_then_stopped(
    database: Database, box: SecretBox, alice_id: int, google_server: FakeGoogle, queue: Queue
) -> None:
    connection_id = add_google(database, box, google_server)
    renew_channels()
    work(queue)
    old = stored_connection(database, connection_id).channel_id
    with database.unit() as session:
        session.get_one(Connection, connection_id).channel_expires_at = datetime.now(
            UTC
        ) + timedelta(hours=1)

    assert renew_channels() == 1
    work(queue)

    new = stored_connection(database, connection_id).channel_id
    assert new != old
    assert channel_at_google(google_server, new).live()
    assert channel_at_google(google_server, old).stopped


def test_a_calendar_google_will_not_push_for_is_polled_every_fifteen_minutes(
    database: Database, box: SecretBox, alice_id: int, google_server: FakeGoogle, queue: Queue
) -> None:
    connection_id = add_google(database, box, google_server)
    now = datetime.now(UTC)
    with database.unit() as session:  # its channel ended while polling every six hours
        connection = session.get_one(Connection, connection_id)
        connection.channel_id, connection.channel_resource_id = "ended", "res-ended"
        connection.channel_expires_at = now - timedelta(hours=1)
        connection.next_sync_at = now + timedelta(hours=5)
    google_server.fail_next(WATCH, 500, method="POST")

    renew_channels()
    work(queue)
    job = Job.fetch(f"channel-{connection_id}", connection=queue.connection)
    assert job.get_status() == JobStatus.SCHEDULED
    polling = stored_connection(database, connection_id)
    assert polling.channel_id == ""
    assert polling.next_sync_at is not None
    assert polling.next_sync_at <= now + timedelta(minutes=16)

    let_retry_waits_pass(queue)
    work(queue, scheduler=True)
    assert job.return_value() == "opened"
    assert channel_at_google(
        google_server, stored_connection(database, connection_id).channel_id
    ).live()
