"""Faults on real processes: a Redis server restarted empty, two worker processes racing.

Each test asserts that no email and no calendar event is lost or duplicated.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from rq import Queue, SimpleWorker, Worker
from rq.job import Job
from sqlalchemy import select

from service.adapters.db import Database
from service.adapters.redis import connect
from service.adapters.secrets import SecretBox
from service.config import Settings, parse_networks
from service.models import StoredOccurrence
from tests.factories import ALICE, CAROL
from tests.google_server import FakeGoogle
from tests.redis_server import RedisProcess, wait_until
from tests.smtp_server import SmtpServer
from tests.test_booking import add_alice, addressed_to, connect_google, invite_of
from tests.test_sources import SECRET_PATH, Feed, serving
from tests.workers.test_delivery import queued, stored
from tests.workers.test_notes import add_user, lunch, statuses
from tests.workers.test_sync import add_feed
from workers import runtime
from workers.email import enqueue_email, send_email, sweep_outbox
from workers.enqueue import enqueue_booking
from workers.maintenance import sweep_bookings
from workers.notes import plan_user
from workers.sync import sync_connection_job

TOUCHPOINT = Path(sys.executable).with_name("touchpoint")


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
    """Jobs in this process use the test's settings, not the environment."""
    runtime.use(settings)
    yield
    runtime.reset()


@pytest.fixture
def restartable(settings: Settings, redis_process: RedisProcess) -> Iterator[Settings]:
    """The test's settings on a Redis server this test can restart; jobs use them too."""
    changed = settings.with_changes(redis_url=redis_process.url)
    runtime.use(changed)
    yield changed
    runtime.reset()


def work(settings: Settings, *names: str, max_jobs: int | None = None) -> None:
    """Run the jobs queued on the named queues in this process (all, or max_jobs), then stop."""
    connection = connect(settings.redis_url)
    queues = [Queue(name, connection=connection) for name in names]
    SimpleWorker(queues, connection=connection).work(burst=True, max_jobs=max_jobs)


def test_an_email_queued_before_redis_restarted_empty_is_sent_once(
    restartable: Settings,
    database: Database,
    smtp_server: SmtpServer,
    redis_process: RedisProcess,
) -> None:
    outbox_id = queued(database, restartable)
    enqueue_email(restartable, outbox_id)

    redis_process.restart()  # it kept nothing on disk: the job is gone
    assert Queue("email", connection=connect(restartable.redis_url)).count == 0
    assert sweep_outbox() == 1
    work(restartable, "email")
    assert sweep_outbox() == 0
    work(restartable, "email")

    (message,) = smtp_server.wait_for(1)
    assert message["Message-ID"] == stored(database, outbox_id).message_id
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
    work(settings, "booking", "email")
    assert sweep_bookings() == 0
    work(settings, "booking", "email")


def test_a_booking_queued_before_redis_restarted_empty_makes_one_google_event(
    restartable: Settings,
    database: Database,
    box: SecretBox,
    google_server: FakeGoogle,
    smtp_server: SmtpServer,
    redis_process: RedisProcess,
) -> None:
    proposal_id = add_alice(database)
    connect_google(database, box, google_server)

    book_across_a_redis_restart(restartable, database, redis_process, proposal_id)

    (event,) = google_server.events(ALICE)
    assert [a["email"] for a in event["attendees"]] == [CAROL, ALICE]
    assert smtp_server.messages == []  # Google sends the invitations itself


def test_a_booking_queued_before_redis_restarted_empty_sends_one_invite_pair(
    restartable: Settings,
    database: Database,
    smtp_server: SmtpServer,
    redis_process: RedisProcess,
) -> None:
    proposal_id = add_alice(database)

    book_across_a_redis_restart(restartable, database, redis_process, proposal_id)

    messages = smtp_server.wait_for(2)
    time.sleep(0.2)  # nothing else arrives
    assert len(smtp_server.messages) == 2
    for address in (ALICE, CAROL):
        invite_of(addressed_to(messages, address))


def worker_environment(settings: Settings) -> dict[str, str]:
    """The environment a `touchpoint worker` needs to reach this test's services."""
    return {
        **os.environ,
        "TOUCHPOINT_DATA_DIR": str(settings.data_dir),
        "SECRET_KEY": settings.secret_key,
        "TOUCHPOINT_ENCRYPTION_KEYS": ",".join(settings.encryption_keys),
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "SMTP_HOST": settings.smtp.host,
        "SMTP_PORT": str(settings.smtp.port),
        "SMTP_STARTTLS": "false",
    }


def test_two_worker_processes_racing_for_one_email_send_it_once(
    settings: Settings, database: Database, smtp_server: SmtpServer
) -> None:
    outbox_id = queued(database, settings)
    queue = Queue("email", connection=connect(settings.redis_url))
    command = [str(TOUCHPOINT), "worker", "--queues", "email"]
    workers = [subprocess.Popen(command, env=worker_environment(settings)) for _ in range(2)]
    try:
        wait_until(lambda: len(Worker.all(queue=queue)) == 2, what="two worker processes")
        jobs = [  # different ids: RQ's uniqueness cannot keep the second out
            queue.enqueue(send_email, outbox_id, job_id=job_id)
            for job_id in ("race-first", "race-second")
        ]
        wait_until(lambda: all(job.is_finished for job in jobs), what="both sends")
        took = sorted(worker.successful_job_count for worker in Worker.all(queue=queue))
    finally:
        for worker in workers:
            worker.terminate()  # a warm shutdown: the worker stops between jobs
            worker.wait(timeout=15)

    assert sorted(str(job.return_value()) for job in jobs) == ["sent", "skipped"]
    assert took == [1, 1]  # each process took one: they raced
    assert len(smtp_server.wait_for(1)) == 1
    assert stored(database, outbox_id).sent_at is not None


def enqueued_twice(
    settings: Settings, queue_name: str, job: Callable[[int], Any], arg: int
) -> list[Job]:
    """Enqueue the same job twice under different ids, as a double dispatch would."""
    queue = Queue(queue_name, connection=connect(settings.redis_url))
    return [
        queue.enqueue(job, arg, job_id=f"{queue_name}-{arg}-{copy}") for copy in ("first", "second")
    ]


def occurrences(database: Database) -> list[tuple[str, datetime]]:
    with database.unit() as session:
        query = select(StoredOccurrence).order_by(StoredOccurrence.uid, StoredOccurrence.start)
        return [(row.uid, row.start) for row in session.scalars(query)]


def test_a_sync_enqueued_twice_stores_each_event_once(
    settings: Settings, database: Database, box: SecretBox
) -> None:
    with serving() as feeds:
        feeds.feeds[SECRET_PATH] = Feed()
        connection_id = add_feed(database, box, add_user(database, ALICE, []), feeds.url())
        jobs = enqueued_twice(settings, "sync", sync_connection_job, connection_id)
        work(settings, "sync", max_jobs=1)
        after_one = occurrences(database)
        work(settings, "sync", max_jobs=1)

    assert [job.return_value() for job in jobs] == ["updated", "unchanged"]
    assert after_one
    assert len(after_one) == len(set(after_one))
    assert occurrences(database) == after_one


def test_a_note_plan_enqueued_twice_emails_one_prep_note(
    settings: Settings, database: Database, smtp_server: SmtpServer
) -> None:
    user_id = add_user(database, ALICE, [lunch(datetime.now(UTC) + timedelta(minutes=30))])

    enqueued_twice(settings, "notes", plan_user, user_id)
    work(settings, "notes", "email")

    (message,) = smtp_server.wait_for(1)
    assert message["Subject"].startswith("Prep: lunch with Carol")
    time.sleep(0.2)  # nothing else arrives
    assert len(smtp_server.messages) == 1
    assert statuses(database) == ["sent"]
