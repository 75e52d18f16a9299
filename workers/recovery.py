"""Jobs whose worker died: handed back to RQ's retries about 90 seconds after its last heartbeat,
and jobs a worker took and never started put back on their queue.

RQ settles a job that a dead worker had started (retried when it has retries left, failed
otherwise) when someone cleans the queue's started registry: a live worker does so every 10
minutes, and enqueue_once for the job it enqueues. A sync cut off mid-way would otherwise wait
for its connection's lease (15 minutes) or for that maintenance. The scheduler, of which one
runs, cleans every queue's registry every 15 seconds (a few Redis reads).

A worker that dies, or loses Redis, between taking a job off its queue and marking it started
leaves the job "queued" in no queue, where no worker will ever see it. The sweeps put back what
the database says is due (emails, syncs, due notes), but a job with no row behind it (planning
a user's notes after a sync changed their calendar) would be lost: once a minute the scheduler
looks for such jobs and puts them back on their queue (a job is safe to run twice).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from datetime import datetime, timedelta

from redis import Redis, RedisError
from rq import Queue
from rq.job import Job
from rq.registry import ScheduledJobRegistry, StartedJobRegistry
from rq.scheduler import RQScheduler
from rq.utils import current_timestamp, utcparse
from rq.utils import now as rq_now

log = logging.getLogger(__name__)
EVERY = 15  # seconds: a dead worker's job is back within about two minutes of its death
ORPHANS_EVERY = 4  # rounds: look for orphaned jobs once a minute (a scan of the job keys)
ORPHAN_AFTER = timedelta(minutes=1)  # queued this long in no queue: its worker is gone


def settle_abandoned(connection: Redis, queues: Iterable[str]) -> None:
    """Retry (or fail) every job started by a worker whose heartbeat lapsed, in these queues."""
    for name in queues:
        StartedJobRegistry(name, connection=connection).cleanup()


def release_due_retries(connection: Redis, queues: Iterable[str]) -> int:
    """Enqueue the retries now due on each queue whose RQ scheduler no worker runs; return how
    many.

    A worker runs RQ's scheduler for a queue while it holds that queue's lock; after a worker
    died, or Redis restarted under them, the others take the lock back only at their next
    10-minute maintenance, and every retry waits until then.
    """
    moved = 0
    for name in queues:
        if connection.exists(RQScheduler.get_locking_key(name)):
            continue  # a worker's scheduler does it
        registry = ScheduledJobRegistry(name, connection=connection)
        job_ids = registry.get_jobs_to_schedule(current_timestamp())
        if not job_ids:
            continue
        queue = Queue(name, connection=connection)
        with connection.pipeline() as pipeline:
            for job in Job.fetch_many(job_ids, connection=connection):
                if job is not None:  # (RQ's own scheduler does the same: rq/scheduler.py)
                    queue._enqueue_job(
                        job, pipeline=pipeline, at_front=job.should_enqueue_at_front()
                    )
            for job_id in job_ids:
                registry.remove(job_id, pipeline=pipeline)
            pipeline.execute()
        moved += len(job_ids)
    return moved


def requeue_orphans(connection: Redis, now: datetime | None = None) -> list[str]:
    """Put back on its queue each job queued over a minute ago that no queue (or a worker's
    intermediate list) holds; return their ids."""
    cutoff = (now or rq_now()) - ORPHAN_AFTER
    found = []
    batch: list[bytes] = []
    for key in connection.scan_iter(match="rq:job:*", count=1000, _type="HASH"):
        batch.append(key)
        if len(batch) == 500:
            found += _requeue(connection, batch, cutoff)
            batch = []
    found += _requeue(connection, batch, cutoff)
    if found:
        log.warning("put back %d job(s) taken by a worker that never started them", len(found))
    return found


def _requeue(connection: Redis, keys: list[bytes], cutoff: datetime) -> list[str]:
    with connection.pipeline(transaction=False) as pipeline:
        for key in keys:
            pipeline.hmget(key, "status", "origin", "enqueued_at")
        fields = pipeline.execute()
    found = []
    for key, (status, origin, enqueued_at) in zip(keys, fields, strict=True):
        if status != b"queued" or not origin or not enqueued_at:
            continue
        if utcparse(enqueued_at.decode()) > cutoff:
            continue
        job_id = key.decode().removeprefix("rq:job:")
        queue = Queue(origin.decode(), connection=connection)
        # The queue first: a worker moves a job from it to its intermediate list atomically.
        if connection.lpos(queue.key, job_id) is not None:
            continue
        if connection.lpos(queue.intermediate_queue_key, job_id) is not None:
            continue
        queue.push_job_id(job_id)
        found.append(job_id)
    return found


def keep_settling(
    connection: Redis, queues: Iterable[str], every: float = EVERY
) -> threading.Event:
    """Settle abandoned jobs every so often from a thread; set the returned event to stop."""
    names, stop = tuple(queues), threading.Event()

    def settling() -> None:
        rounds = 0
        while not stop.wait(every):
            rounds += 1
            try:
                settle_abandoned(connection, names)
                release_due_retries(connection, names)
                if rounds % ORPHANS_EVERY == 0:
                    requeue_orphans(connection)
            except RedisError as error:  # Redis away for a moment: the next round settles them
                log.warning("could not settle abandoned jobs: %s", error)

    threading.Thread(target=settling, name="settle-abandoned", daemon=True).start()
    return stop
