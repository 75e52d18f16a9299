"""All periodic work in one list, and the processes that run the jobs: workers and one scheduler.

The scheduler (RQ's CronScheduler) only enqueues; workers run what it enqueued. Run exactly one
scheduler: a second would enqueue everything twice (harmless, as every job is idempotent, but
wasted). Cron expressions are read in the scheduler's local time (RQ's rule): UTC on servers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from redis import Redis
from rq import Queue, Worker
from rq.cron import CronJob, CronScheduler
from rq.job import Job
from rq.registry import StartedJobRegistry
from rq.worker import BaseWorker

from service.adapters.redis import redis_reachable
from service.config import ConfigError, Settings, finish, from_env
from workers import notes, proposals, sync
from workers.booking import QUEUE as BOOKING_QUEUE
from workers.email import QUEUE as EMAIL_QUEUE
from workers.email import sweep_outbox
from workers.limits import LimitedSimpleWorker
from workers.maintenance import QUEUE as MAINTENANCE_QUEUE
from workers.maintenance import purge, sweep_bookings
from workers.reflections import dispatch_reflections

log = logging.getLogger("workers.jobs")

# Every queue a worker listens to unless told otherwise, most urgent first.
QUEUES = ("dispatch", "email", "booking", "notes", "sync", "proposals", "maintenance")
MINUTE = 60
PUBSUB_WAIT = 0.1  # seconds a worker's command listener waits per read (see _PromptStop)


@dataclass(frozen=True, slots=True)
class Periodic:
    """One periodic job: what runs, on which queue, and how often (seconds, or a cron line)."""

    name: str
    func: Callable[[], Any]
    queue: str
    interval: int | None = None
    cron: str | None = None
    timeout: int | None = None  # seconds; RQ's default (180) otherwise

    @property
    def ttl(self) -> int:
        """How long a run may wait in its queue before it is dropped for the next one."""
        return self.interval or 60 * MINUTE


PERIODIC: tuple[Periodic, ...] = (
    Periodic(
        "dispatch-syncs", sync.dispatch_syncs, sync.DISPATCH_QUEUE, interval=sync.DISPATCH_EVERY
    ),
    Periodic("renew-channels", sync.renew_channels, sync.QUEUE, interval=sync.RENEW_EVERY),
    Periodic("dispatch-notes", notes.dispatch_notes, notes.QUEUE, interval=notes.DISPATCH_EVERY),
    # Hourly: it proposes to the users whose local morning it is.
    Periodic(
        "dispatch-proposals", proposals.dispatch_proposals, proposals.QUEUE, interval=60 * MINUTE
    ),
    Periodic("dispatch-reflections", dispatch_reflections, proposals.QUEUE, interval=15 * MINUTE),
    Periodic("sweep-outbox", sweep_outbox, EMAIL_QUEUE, interval=MINUTE),
    Periodic("sweep-bookings", sweep_bookings, BOOKING_QUEUE, interval=5 * MINUTE),
    # At night (the scheduler's local time: UTC on servers), when the database is quiet.
    Periodic("purge", purge, MAINTENANCE_QUEUE, cron="30 3 * * *", timeout=30 * MINUTE),
)


def register(scheduler: CronScheduler) -> list[CronJob]:
    """Register each periodic job on the scheduler once, however often this runs."""
    known = {job.name for job in scheduler.get_jobs()}
    return [_register(scheduler, entry) for entry in PERIODIC if entry.name not in known]


def _register(scheduler: CronScheduler, entry: Periodic) -> CronJob:
    # The ttl drops a run that waited past the next one (workers down): no pile of sweeps.
    return scheduler.register(
        entry.func,
        entry.queue,
        interval=entry.interval,
        cron=entry.cron,
        job_timeout=entry.timeout,
        ttl=entry.ttl,
        name=entry.name,
    )


def build_scheduler(connection: Redis) -> CronScheduler:
    """Return a scheduler with every periodic job registered."""
    scheduler = CronScheduler(connection=connection)
    register(scheduler)
    return scheduler


def running_schedulers(connection: Redis) -> list[str]:
    """Return the names of the schedulers alive on this Redis (stale ones are cleaned up)."""
    return [scheduler.name for scheduler in CronScheduler.all(connection)]


def background_settings() -> Settings:
    """Read the settings of a worker or the scheduler; raise ConfigError saying what is wrong."""
    settings = finish(from_env())
    if not settings.redis_url:
        # The embedded Redis belongs to `touchpoint run`, where web, worker and scheduler share it.
        raise ConfigError("REDIS_URL is not set (e.g. redis://127.0.0.1:6379/0)")
    if not redis_reachable(settings.redis_url):
        raise ConfigError("Redis is not reachable at REDIS_URL")
    return settings


def configure_logging() -> None:
    """Log one readable line per event to stderr: time, level, message."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")


def build_worker(
    connection: Redis, queue_names: Sequence[str], *, fork: bool = False
) -> BaseWorker:
    """Return a worker on the named queues that logs one line per job.

    fork=False (`touchpoint worker`, `touchpoint run`, tests) runs each job in this process,
    with a hard time limit (workers.limits); fork=True runs each in a child process, RQ's
    default, at 75-95 ms of CPU a job (kept for tests that kill a job's own process).
    """
    queues = [Queue(name, connection=connection) for name in queue_names]
    worker_class = LoggingWorker if fork else LoggingSimpleWorker
    return worker_class(queues, connection=connection)


class _JobLog:
    """One line per job: queue, function, id, outcome and duration."""

    def handle_job_success(
        self, job: Job, queue: Queue, started_job_registry: StartedJobRegistry, execution: Any
    ) -> None:
        super().handle_job_success(job, queue, started_job_registry, execution)  # type: ignore[misc]
        log_job(job, queue.name, _outcome(job.return_value(refresh=True)))

    def handle_job_failure(
        self,
        job: Job,
        queue: Queue,
        started_job_registry: StartedJobRegistry | None = None,
        exc_string: str = "",
        execution: Any = None,
    ) -> None:
        outcome = "will retry" if job.should_retry else "failed"
        super().handle_job_failure(  # type: ignore[misc]
            job, queue, started_job_registry, exc_string, execution
        )
        log_job(job, queue.name, f"{outcome}: {_last_line(exc_string)}", level=logging.WARNING)


class _PromptStop:
    """Stop at once when asked (SIGTERM, or the end of a burst), not up to a minute later.

    RQ listens for commands (kill a job, shut down) in a thread that waits up to 60 seconds per
    read, and stopping the worker waits for that thread. RQ unsubscribes first and tells the
    thread to end second: when the thread takes the unsubscribe reply in between, it goes back
    to waiting for a channel (redis-py 6 and later) and sits out the whole wait. Here it waits
    PUBSUB_WAIT per read, so stopping takes at most that long; a command still arrives at once.
    """

    def subscribe(self: Any) -> None:
        # Reference: rq/worker/base.py BaseWorker.subscribe (RQ 3.0), with a short wait.
        self.log.info("Worker %s: subscribing to channel %s", self.name, self.pubsub_channel_name)
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=PUBSUB_WAIT, daemon=True, exception_handler=self._pubsub_exception_handler
        )


class LoggingWorker(_JobLog, _PromptStop, Worker):
    """RQ's forking worker, logging one line per job."""


class LoggingSimpleWorker(_JobLog, _PromptStop, LimitedSimpleWorker):
    """A worker that runs jobs in its own process under a hard time limit, one line per job."""


def log_job(job: Job, queue: str, outcome: str, *, level: int = logging.INFO) -> None:
    """Log what one job run did and how long it took."""
    function = (job.func_name or "?").rsplit(".", 1)[-1]
    took = job.ended_at - job.started_at if job.ended_at and job.started_at else None
    seconds = f"{took.total_seconds():.2f}s" if took is not None else "?s"
    log.log(level, "%s %s %s: %s (%s)", queue, function, job.id, outcome, seconds)


def _outcome(value: Any) -> str:
    if value is None:
        return "done"
    if isinstance(value, dict):
        return ", ".join(f"{count} {kind}" for kind, count in value.items()) or "done"
    return str(value)[:80]


def _last_line(exc_string: str) -> str:
    lines = [line.strip() for line in exc_string.strip().splitlines() if line.strip()]
    return lines[-1][:200] if lines else "no error recorded"
