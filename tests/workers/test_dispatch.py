"""The sync dispatcher: everything due is enqueued in one tick, however many, and only once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from rq import Queue
from sqlalchemy import insert, select, update

from service.adapters.db import Database
from service.config import Settings
from service.models import Connection, User
from service.sources.schedule import DISPATCH_LEASE
from tests.workers.jobs import work
from workers.sync import DISPATCH_BATCH, DISPATCH_QUEUE, dispatch_syncs

QUEUES = ("sync", DISPATCH_QUEUE)


def add_due_connections(database: Database, count: int) -> list[int]:
    """Store count users, each with one calendar address due for a sync; the connection ids."""
    with database.unit() as session:
        users = [{"email": f"u{n}@example.com", "tz": "UTC"} for n in range(count)]
        user_ids = session.scalars(insert(User).returning(User.id), users).all()
        rows = [{"user_id": u, "kind": "ics_url", "label": "work.ics"} for u in user_ids]
        return list(session.scalars(insert(Connection).returning(Connection.id), rows).all())


def test_five_thousand_due_connections_are_all_enqueued_within_one_tick(
    database: Database, queues: list[Queue]
) -> None:
    syncs, dispatch = queues
    ids = add_due_connections(database, 5000)

    dispatch_syncs()
    work(dispatch)  # the further batches, which any worker may take

    assert DISPATCH_BATCH < 5000  # more than one batch: the tick fanned out
    assert sorted(syncs.job_ids) == sorted(f"sync-{i}" for i in ids)
    assert dispatch_syncs() == 0  # the next tick finds nothing new to enqueue
    work(dispatch)
    assert syncs.count == 5000


def test_a_sync_lost_with_its_queue_is_dispatched_again_after_the_lease(
    database: Database, queues: list[Queue]
) -> None:
    syncs, _dispatch = queues
    (connection_id,) = add_due_connections(database, 1)
    assert dispatch_syncs() == 1
    syncs.connection.flushall()  # Redis restarted empty: the queued sync is gone

    with database.unit() as session:
        held = session.scalar(select(Connection.next_sync_at))
    assert held is not None
    assert held > datetime.now(UTC) + DISPATCH_LEASE / 2
    assert dispatch_syncs() == 0  # still held back by the dispatcher's lease
    with database.unit() as session:  # the lease ends
        ended = datetime.now(UTC) - timedelta(seconds=1)
        session.execute(update(Connection).values(next_sync_at=ended))
    assert dispatch_syncs() == 1
    assert syncs.job_ids == [f"sync-{connection_id}"]


def test_connections_claimed_while_redis_is_away_are_due_again_at_once(
    database: Database, settings: Settings
) -> None:
    from service.adapters.redis import QueueUnavailable
    from workers import runtime

    (connection_id,) = add_due_connections(database, 1)
    runtime.use(settings.with_changes(redis_url="redis://127.0.0.1:1/0"))

    with pytest.raises(QueueUnavailable):
        dispatch_syncs()

    with database.unit() as session:
        due = session.scalar(select(Connection.next_sync_at).where(Connection.id == connection_id))
    assert due is not None
    assert due <= datetime.now(UTC) + timedelta(seconds=1)
