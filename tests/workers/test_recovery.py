"""A job whose worker died goes back to RQ's retries at the scheduler's next round."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from rq import Queue, Retry
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry

from service.adapters.redis import connect
from service.config import Settings
from tests.redis_server import take_and_start
from workers.recovery import (
    keep_settling,
    release_due_retries,
    requeue_orphans,
    settle_abandoned,
)
from workers.schedule import build_worker

QUEUES = ("sync",)


def report(value: str) -> str:
    return value


def test_a_job_started_by_a_dead_worker_is_retried_or_failed(settings: Settings) -> None:
    connection = connect(settings.redis_url)
    queue = Queue("sync", connection=connection)
    queue.enqueue(report, "x", job_id="sync-1", retry=Retry(max=3, interval=30))
    queue.enqueue(report, "y", job_id="once")
    take_and_start(queue, "sync-1", heartbeat_lapses_in=-1)  # its worker died a while ago
    take_and_start(queue, "once", heartbeat_lapses_in=-1)

    settle_abandoned(connection, ["sync"])

    retried = Job.fetch("sync-1", connection=connection)
    assert retried.get_status() == JobStatus.SCHEDULED  # back in 30 s, as after an error
    assert retried.retries_left == 2
    assert "once" in FailedJobRegistry("sync", connection=connection).get_job_ids()


def test_a_job_whose_worker_is_alive_is_left_alone(settings: Settings) -> None:
    connection = connect(settings.redis_url)
    queue = Queue("sync", connection=connection)
    queue.enqueue(report, "x", job_id="sync-2", retry=Retry(max=3, interval=30))
    take_and_start(queue, "sync-2", heartbeat_lapses_in=60)  # still sending heartbeats

    settle_abandoned(connection, ["sync"])

    assert Job.fetch("sync-2", connection=connection).get_status() == JobStatus.STARTED


def test_the_scheduler_settles_them_on_its_own(settings: Settings) -> None:
    connection = connect(settings.redis_url)
    queue = Queue("sync", connection=connection)
    queue.enqueue(report, "x", job_id="sync-3", retry=Retry(max=3, interval=30))
    take_and_start(queue, "sync-3", heartbeat_lapses_in=-1)

    stop = keep_settling(connection, ["sync"], every=0.05)
    try:
        deadline = time.monotonic() + 10
        while Job.fetch("sync-3", connection=connection).get_status() == JobStatus.STARTED:
            assert time.monotonic() < deadline, "not settled within 10 s"
            time.sleep(0.05)
    finally:
        stop.set()

    assert Job.fetch("sync-3", connection=connection).get_status() == JobStatus.SCHEDULED


def test_a_job_taken_and_never_started_goes_back_on_its_queue_after_a_minute(
    settings: Settings,
) -> None:
    connection = connect(settings.redis_url)
    notes = Queue("notes", connection=connection)
    notes.enqueue(report, "plan", job_id="plan-notes-131")
    notes.enqueue(report, "waiting", job_id="plan-notes-132")
    assert notes.pop_job_id() == "plan-notes-131"  # a worker took it, then died (or lost Redis)
    taken = Job.fetch("plan-notes-131", connection=connection)
    soon, later = taken.enqueued_at, taken.enqueued_at + timedelta(minutes=2)  # type: ignore[operator]

    assert requeue_orphans(connection, now=soon) == []  # a worker may be starting it right now
    assert requeue_orphans(connection, now=later) == ["plan-notes-131"]
    assert requeue_orphans(connection, now=later) == []  # once
    assert notes.get_job_ids() == ["plan-notes-132", "plan-notes-131"]
    worked = build_worker(connection, ["notes"], fork=False)
    worked.work(burst=True)
    assert Job.fetch("plan-notes-131", connection=connection).return_value() == "plan"


def test_a_retry_due_is_enqueued_when_no_worker_runs_the_queues_scheduler(
    settings: Settings,
) -> None:
    connection = connect(settings.redis_url)
    queue = Queue("sync", connection=connection)
    job = queue.enqueue_at(datetime.now(UTC) - timedelta(seconds=5), report, "retry")

    assert release_due_retries(connection, ["sync"]) == 1
    assert queue.get_job_ids() == [job.id]
    assert release_due_retries(connection, ["sync"]) == 0
