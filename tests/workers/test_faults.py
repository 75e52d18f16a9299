"""Faults on real processes: a Redis server restarted empty, two worker processes racing.

Each test asserts that no email and no calendar event is lost or duplicated.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rq import Queue, Worker
from rq.job import Job

from service.adapters.db import Database
from service.adapters.redis import connect
from service.adapters.secrets import SecretBox
from service.config import Settings
from tests.factories import (
    ALICE,
    CAROL,
    add_accepted_proposal,
    add_feed,
    add_user,
    lunch_with_carol,
    note_statuses,
    queued_email,
    stored_email,
    stored_event_times,
)
from tests.feed_server import SECRET_PATH, Feed, serving
from tests.google_server import FakeGoogle
from tests.redis_server import RedisProcess, wait_until
from tests.smtp_server import SmtpServer, addressed_to, invite_of
from tests.workers.jobs import started_workers, work
from workers import runtime
from workers.email import enqueue_email, send_email, sweep_outbox
from workers.enqueue import enqueue_booking
from workers.maintenance import sweep_bookings
from workers.notes import plan_user
from workers.sync import sync_connection_job


def queues_on(settings: Settings, *names: str) -> list[Queue]:
    connection = connect(settings.redis_url)
    return [Queue(name, connection=connection) for name in names]


@pytest.fixture
def restartable(settings: Settings, redis_process: RedisProcess) -> Iterator[Settings]:
    """The test's settings on a Redis server this test can restart; jobs use them too."""
    changed = settings.with_changes(redis_url=redis_process.url)
    runtime.use(changed)
    yield changed
    runtime.reset()


def test_an_email_queued_before_redis_restarted_empty_is_sent_once(
    restartable: Settings,
    database: Database,
    smtp_server: SmtpServer,
    redis_process: RedisProcess,
) -> None:
    outbox_id = queued_email(database, restartable)
    enqueue_email(restartable, outbox_id)

    redis_process.restart()  # it kept nothing on disk: the job is gone
    assert Queue("email", connection=connect(restartable.redis_url)).count == 0
    assert sweep_outbox() == 1
    work(queues_on(restartable, "email"))
    assert sweep_outbox() == 0
    work(queues_on(restartable, "email"))

    (message,) = smtp_server.wait_for(1)
    assert message["Message-ID"] == stored_email(database, outbox_id).message_id
    time.sleep(0.2)  # nothing else arrives
    assert len(smtp_server.messages) == 1


def book_across_a_redis_restart(
    settings: Settings, database: Database, redis_process: RedisProcess, proposal_id: int
) -> None:
    """Enqueue the booking, lose it with Redis, then let the sweep and a worker book it."""
    enqueue_booking(settings, proposal_id)
    redis_process.restart()
    assert Queue("booking", connection=connect(settings.redis_url)).count == 0
    assert sweep_bookings() == 1
    work(queues_on(settings, "booking", "email"))
    assert sweep_bookings() == 0
    work(queues_on(settings, "booking", "email"))


def test_a_booking_queued_before_redis_restarted_empty_makes_one_google_event(
    restartable: Settings,
    database: Database,
    google_server: FakeGoogle,
    google_proposal: int,
    smtp_server: SmtpServer,
    redis_process: RedisProcess,
) -> None:

    book_across_a_redis_restart(restartable, database, redis_process, google_proposal)

    (event,) = google_server.events(ALICE)
    assert [a["email"] for a in event["attendees"]] == [CAROL, ALICE]
    assert smtp_server.messages == []  # Google sends the invitations itself


def test_a_booking_queued_before_redis_restarted_empty_sends_one_invite_pair(
    restartable: Settings,
    database: Database,
    smtp_server: SmtpServer,
    redis_process: RedisProcess,
) -> None:
    proposal_id = add_accepted_proposal(database)

    book_across_a_redis_restart(restartable, database, redis_process, proposal_id)

    messages = smtp_server.wait_for(2)
    time.sleep(0.2)  # nothing else arrives
    assert len(smtp_server.messages) == 2
    for address in (ALICE, CAROL):
        invite_of(addressed_to(messages, address))


def test_two_worker_processes_racing_for_one_email_send_it_once(
    settings: Settings, database: Database, smtp_server: SmtpServer
) -> None:
    outbox_id = queued_email(database, settings)
    queue = Queue("email", connection=connect(settings.redis_url))
    with started_workers(settings, 2, "email"):
        wait_until(lambda: len(Worker.all(queue=queue)) == 2, what="two worker processes")
        jobs = [  # different ids: RQ's uniqueness cannot keep the second out
            queue.enqueue(send_email, outbox_id, job_id=job_id)
            for job_id in ("race-first", "race-second")
        ]
        wait_until(lambda: all(job.is_finished for job in jobs), what="both sends")
        took = sorted(worker.successful_job_count for worker in Worker.all(queue=queue))

    assert sorted(str(job.return_value()) for job in jobs) == ["sent", "skipped"]
    assert took == [1, 1]  # each process took one: they raced
    assert len(smtp_server.wait_for(1)) == 1
    assert stored_email(database, outbox_id).sent_at is not None


def enqueued_twice(
    settings: Settings, queue_name: str, job: Callable[[int], Any], arg: int
) -> list[Job]:
    """Enqueue the same job twice under different ids, as a double dispatch would."""
    queue = Queue(queue_name, connection=connect(settings.redis_url))
    return [
        queue.enqueue(job, arg, job_id=f"{queue_name}-{arg}-{copy}") for copy in ("first", "second")
    ]


def test_a_sync_enqueued_twice_stores_each_event_once(
    settings: Settings, database: Database, box: SecretBox
) -> None:
    with serving() as feeds:
        feeds.feeds[SECRET_PATH] = Feed()
        connection_id = add_feed(
            database, box, add_user(database, synced=datetime.now(UTC)), feeds.url()
        )
        jobs = enqueued_twice(settings, "sync", sync_connection_job, connection_id)
        work(queues_on(settings, "sync"), max_jobs=1)
        after_one = stored_event_times(database)
        work(queues_on(settings, "sync"), max_jobs=1)

    assert [job.return_value() for job in jobs] == ["updated", "unchanged"]
    assert after_one
    assert len(after_one) == len(set(after_one))
    assert stored_event_times(database) == after_one


def test_a_note_plan_enqueued_twice_emails_one_prep_note(
    settings: Settings, database: Database, smtp_server: SmtpServer
) -> None:
    user_id = add_user(
        database,
        [lunch_with_carol(datetime.now(UTC) + timedelta(minutes=30))],
        synced=datetime.now(UTC),
        meals=True,
    )

    enqueued_twice(settings, "notes", plan_user, user_id)
    work(queues_on(settings, "notes", "email"))

    (message,) = smtp_server.wait_for(1)
    assert message["Subject"].startswith("Prep: lunch with Carol")
    time.sleep(0.2)  # nothing else arrives
    assert len(smtp_server.messages) == 1
    assert note_statuses(database) == ["sent"]
