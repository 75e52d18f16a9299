"""The one enqueue-once, on a real Redis: a job is waiting once, and never lost to a stale hash."""

from __future__ import annotations

import pytest
from rq import Queue
from rq.job import JobStatus

from service.adapters.redis import QueueUnavailable, connect, enqueue_once, queue_for
from tests.redis_server import take_and_start


def remember(value: int) -> int:
    """The job these tests enqueue (never run here)."""
    return value


@pytest.fixture
def queue(redis_url: str) -> Queue:
    return queue_for(redis_url, "email")


def test_asking_twice_while_the_job_waits_adds_nothing(queue: Queue) -> None:
    first, added = enqueue_once(queue, "email-1", remember, 1)
    second, added_again = enqueue_once(queue, "email-1", remember, 1)

    assert (added, added_again) == (True, False)
    assert second.id == first.id
    assert queue.count == 1


def test_a_job_that_ended_is_replaced_and_waits_again(queue: Queue) -> None:
    job, _ = enqueue_once(queue, "email-2", remember, 2)
    queue.pop_job_id()
    job.set_status(JobStatus.FINISHED)

    again, added = enqueue_once(queue, "email-2", remember, 2)

    assert added
    assert again.get_status() == JobStatus.QUEUED
    assert queue.job_ids == ["email-2"]


def test_a_job_taken_by_a_worker_that_died_before_starting_it_is_queued_again(
    queue: Queue,
) -> None:
    enqueue_once(queue, "email-3", remember, 3)
    assert queue.pop_job_id() == "email-3"  # a worker took it off the queue, then was killed
    assert queue.fetch_job("email-3").get_status() == JobStatus.QUEUED  # its hash still says so

    job, added = enqueue_once(queue, "email-3", remember, 3)

    assert added
    assert queue.job_ids == ["email-3"]
    assert job.args == (3,)


def test_a_job_a_live_worker_is_running_is_left_alone(queue: Queue) -> None:
    enqueue_once(queue, "email-5", remember, 5)
    take_and_start(queue, "email-5", heartbeat_lapses_in=60)

    job, added = enqueue_once(queue, "email-5", remember, 5)

    assert not added
    assert job.get_status() == JobStatus.STARTED
    assert queue.job_ids == []


def test_a_job_whose_worker_died_mid_run_is_handed_over_again(queue: Queue) -> None:
    enqueue_once(queue, "email-6", remember, 6)
    take_and_start(queue, "email-6", heartbeat_lapses_in=-1)

    _job, added = enqueue_once(queue, "email-6", remember, 6)

    assert added  # no retries left: RQ failed the run, so the job is replaced
    assert queue.job_ids == ["email-6"]
    assert queue.fetch_job("email-6").get_status() == JobStatus.QUEUED


def test_without_redis_the_caller_is_told_the_work_was_not_handed_over() -> None:
    with pytest.raises(QueueUnavailable, match="REDIS_URL is not set"):
        queue_for("", "email")
    unreachable = Queue("email", connection=connect("redis://127.0.0.1:1/0"))
    with pytest.raises(QueueUnavailable, match="not reachable"):
        enqueue_once(unreachable, "email-4", remember, 4)
