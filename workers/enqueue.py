"""Handing work to the RQ workers: one function per job, enqueued by reference under a stable id.

A job id names the work ("book-proposal-42"), so asking twice while the first is still waiting,
running or scheduled for a retry adds nothing. A job that already ended (done or failed) is
replaced: running it again is safe, as every job is idempotent.
"""

from __future__ import annotations

from redis import RedisError
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus

from service.adapters.redis import connect
from service.config import Settings
from workers.booking import QUEUE as BOOKING_QUEUE
from workers.booking import book_proposal

# Google or the mail server away for a while: retried over about 20 minutes, then the periodic
# sweep picks the proposal up again (it is accepted and still has no booking).
BOOKING_RETRY = Retry(max=5, interval=[10, 30, 60, 300, 900])
_ENDED = frozenset({JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED})


class QueueUnavailable(Exception):
    """Redis is not configured or not reachable: the work was not handed over."""


def enqueue_booking(settings: Settings, proposal_id: int) -> Job:
    """Ask the workers to book an accepted proposal; return its job (an existing one if queued)."""
    if not settings.redis_url:
        raise QueueUnavailable("REDIS_URL is not set")
    try:
        queue = Queue(BOOKING_QUEUE, connection=connect(settings.redis_url))
        return _enqueue_once(queue, f"book-proposal-{proposal_id}", proposal_id)
    except RedisError as error:
        raise QueueUnavailable(f"Redis is not reachable: {error}") from error


def _enqueue_once(queue: Queue, job_id: str, proposal_id: int) -> Job:
    try:
        return _enqueue(queue, job_id, proposal_id)
    except DuplicateJobError:
        pass
    try:
        existing = Job.fetch(job_id, connection=queue.connection)
    except NoSuchJobError:  # it ended and expired in between
        return _enqueue(queue, job_id, proposal_id)
    if existing.get_status() not in _ENDED:
        return existing
    existing.delete()
    try:
        return _enqueue(queue, job_id, proposal_id)
    except DuplicateJobError:  # someone else replaced it first
        return Job.fetch(job_id, connection=queue.connection)


def _enqueue(queue: Queue, job_id: str, proposal_id: int) -> Job:
    # unique=True: Redis checks and saves the id in one step, so two callers cannot both add it.
    return queue.enqueue(
        book_proposal, proposal_id, job_id=job_id, retry=BOOKING_RETRY, unique=True
    )
