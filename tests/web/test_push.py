"""Google push notifications: a genuine one queues a sync of its calendar, a forged one nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from rq import Queue

from service.adapters.db import Database
from service.adapters.redis import connect
from service.config import Settings
from service.models import Connection, User
from service.web import push
from tests.factories import ALICE

TOKEN = "a-secret-only-google-and-touchpoint-know"


@pytest.fixture
def client(app: Flask) -> Any:
    """The app with the push endpoint, whether or not create_app registers it already."""
    if "push" not in app.blueprints:
        app.register_blueprint(push.bp)
    return app.test_client()


@pytest.fixture
def queue(settings: Settings) -> Queue:
    return Queue("sync", connection=connect(settings.redis_url))


@pytest.fixture
def connection_id(database: Database) -> int:
    """Alice's Google Calendar with an open push channel, synced a minute ago."""
    with database.unit() as session:
        user = User(email=ALICE)
        now = datetime.now(UTC)
        connection = Connection(
            user=user,
            kind="google",
            label=ALICE,
            channel_id="chan-1",
            channel_resource_id="res-1",
            channel_token=TOKEN,
            channel_expires_at=now + timedelta(days=7),
            synced_at=now,
            next_sync_at=now + timedelta(hours=6),
        )
        session.add(connection)
        session.flush()
        return connection.id


def notify(client: Any, state: str = "exists", token: str = TOKEN, channel: str = "chan-1") -> Any:
    """POST a notification with the headers Google sends (and no CSRF token: Google has none)."""
    headers = {
        "X-Goog-Channel-ID": channel,
        "X-Goog-Channel-Token": token,
        "X-Goog-Resource-ID": "res-1",
        "X-Goog-Resource-State": state,
        "X-Goog-Message-Number": "2",
    }
    return client.post("/google/push", headers=headers)


def next_sync_at(database: Database, connection_id: int) -> datetime | None:
    with database.unit() as session:
        return session.get_one(Connection, connection_id).next_sync_at


def due_now(database: Database, connection_id: int) -> bool:
    due = next_sync_at(database, connection_id)
    return due is not None and due <= datetime.now(UTC)


def test_a_change_notification_queues_one_sync_of_that_calendar(
    client: Any, database: Database, queue: Queue, connection_id: int
) -> None:
    first, second = notify(client), notify(client)

    assert (first.status_code, second.status_code) == (204, 204)
    assert queue.job_ids == [f"sync-{connection_id}"]
    assert due_now(database, connection_id)


def test_a_notification_with_a_wrong_token_is_refused_and_queues_nothing(
    client: Any, database: Database, queue: Queue, connection_id: int
) -> None:
    before = next_sync_at(database, connection_id)

    assert notify(client, token="guessed").status_code == 404
    assert notify(client, token="").status_code == 404
    assert notify(client, channel="chan-2").status_code == 404
    assert queue.job_ids == []
    assert next_sync_at(database, connection_id) == before


def test_the_message_that_opens_a_channel_queues_nothing(
    client: Any, queue: Queue, connection_id: int
) -> None:
    assert notify(client, state="sync").status_code == 204
    assert queue.job_ids == []


def test_a_broken_connection_is_not_synced_by_a_notification(
    client: Any, database: Database, queue: Queue, connection_id: int
) -> None:
    with database.unit() as session:
        session.get_one(Connection, connection_id).status = "broken"

    assert notify(client).status_code == 204
    assert queue.job_ids == []


def test_when_redis_is_away_the_notification_is_kept_for_the_dispatcher(
    settings: Settings, database: Database, connection_id: int
) -> None:
    from service.web import create_app

    app = create_app(settings.with_changes(redis_url="redis://127.0.0.1:1/0"))
    if "push" not in app.blueprints:
        app.register_blueprint(push.bp)

    assert notify(app.test_client()).status_code == 204
    assert due_now(database, connection_id)
