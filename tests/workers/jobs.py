"""Running queued jobs in a test: in this process with the worker the deployments run (`work`),
or in `touchpoint worker` processes that are stopped again at the end (`started_workers`)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
from rq import Queue
from rq.job import Job

from service.config import Settings
from workers.schedule import build_worker
from workers.sync import dispatch_syncs


def work(
    queues: Queue | Sequence[Queue], *, scheduler: bool = False, max_jobs: int | None = None
) -> None:
    """Run the jobs queued on these queues (all, or max_jobs of them), then stop.

    With scheduler=True the jobs whose retry is due go back on their queue first, as RQ's
    scheduler would move them.
    """
    queues = [queues] if isinstance(queues, Queue) else list(queues)
    worker = build_worker(queues[0].connection, [queue.name for queue in queues], fork=False)
    worker.work(burst=True, with_scheduler=scheduler, max_jobs=max_jobs, logging_level="WARNING")


def synced(queue: Queue) -> list[str | None]:
    """Dispatch the syncs that are due, run them, and return what each did."""
    dispatch_syncs()
    jobs = [Job.fetch(job_id, connection=queue.connection) for job_id in queue.job_ids]
    work(queue)
    return [job.return_value() for job in jobs]


def let_retry_waits_pass(queue: Queue) -> None:
    """Make every job scheduled for a retry due now, as if its wait had passed."""
    registry = queue.scheduled_job_registry
    for job_id in registry.get_job_ids():
        job = Job.fetch(job_id, connection=queue.connection)
        registry.schedule(job, datetime.now(UTC) - timedelta(seconds=1))


TOUCHPOINT = Path(sys.executable).with_name("touchpoint")
STOP_SECONDS = 5  # a worker stops this soon after SIGTERM, once its current job is done


def worker_environment(settings: Settings) -> dict[str, str]:
    """The environment a `touchpoint worker` (or scheduler) needs to reach this test's services."""
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


@contextlib.contextmanager
def started_workers(
    settings: Settings, count: int, *queue_names: str
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Run `touchpoint worker` processes on these queues for the block; stop them at its end.

    Each is asked to stop (SIGTERM, a warm shutdown) and given STOP_SECONDS; what still runs
    then, with anything it started, is killed, so no test leaves a worker behind.
    """
    command = [str(TOUCHPOINT), "worker", "--queues", ",".join(queue_names)]
    env = worker_environment(settings)
    workers = [subprocess.Popen(command, env=env) for _ in range(count)]
    try:
        yield workers
    finally:
        for worker in workers:
            stop(worker)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Ask a process to stop; kill it and its descendants if it has not within STOP_SECONDS."""
    if process.poll() is not None:
        return
    family = psutil.Process(process.pid).children(recursive=True)
    process.terminate()
    try:
        process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    _gone, alive = psutil.wait_procs(family, timeout=STOP_SECONDS)
    for child in alive:
        child.kill()
