"""`touchpoint worker` runs jobs in its own process and still stops one that hangs."""

from __future__ import annotations

import operator
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from rq import Queue
from rq.job import Job, JobStatus

from service.adapters.redis import connect
from service.config import Settings
from tests.workers.jobs import STOP_SECONDS, TOUCHPOINT, started_workers, worker_environment
from workers.limits import HARD_GRACE

QUEUES = ("maintenance",)


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """SQLite alone: these jobs never touch the database."""
    path = tmp_path / "touchpoint.db"
    shutil.copy(request.getfixturevalue("sqlite_template"), path)
    return f"sqlite:///{path}"


def burst(settings: Settings, timeout: float) -> subprocess.CompletedProcess[str]:
    """Run `touchpoint worker --burst` on the maintenance queue until it is empty (or ends)."""
    command = [str(TOUCHPOINT), "worker", "--burst", "--queues", "maintenance"]
    return subprocess.run(
        command,
        env=worker_environment(settings),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_a_job_that_waits_past_its_timeout_is_stopped_and_the_worker_goes_on(
    settings: Settings, queue: Queue
) -> None:
    hanging = queue.enqueue(time.sleep, 600, job_timeout=1)
    after = queue.enqueue(operator.add, 1, 2)

    done = burst(settings, timeout=60)

    assert done.returncode == 0, done.stderr
    assert hanging.get_status(refresh=True) == JobStatus.FAILED
    assert "JobTimeoutException" in (hanging.latest_result().exc_string or "")
    assert after.return_value(refresh=True) == 3


def test_a_job_stuck_where_no_signal_reaches_it_is_ended_with_its_process(
    settings: Settings, queue: Queue
) -> None:
    # A sum in C over a huge range never lets the timeout's signal through.
    stuck = queue.enqueue(sum, range(10**15), job_timeout=1)
    started = time.monotonic()

    done = burst(settings, timeout=60)

    assert done.returncode != 0
    assert time.monotonic() - started < 1 + HARD_GRACE + 10  # not the sum's years
    assert f"Timeout (0:00:0{1 + HARD_GRACE})!" in done.stderr  # every thread's stack
    assert stuck.get_status(refresh=True) == JobStatus.STARTED  # left for RQ's cleanup


def test_a_worker_finishes_its_job_then_stops_within_seconds_of_sigterm(
    settings: Settings, queue: Queue
) -> None:
    job = queue.enqueue(time.sleep, 2)
    with started_workers(settings, 1, "maintenance") as (worker,):
        while job.get_status(refresh=True) != JobStatus.STARTED:
            time.sleep(0.02)
        asked = time.monotonic()

        worker.terminate()

        assert worker.wait(timeout=30) == 0
        assert time.monotonic() - asked < 2 + STOP_SECONDS
    assert Job.fetch(job.id, connection=connect(settings.redis_url)).is_finished
