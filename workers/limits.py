"""Jobs run in the worker's own process, with no fork per job, and still a hard time limit.

RQ's forking worker pays for a fork, a fresh database connection and the child's first touches
of the parent's memory on every job: 75-95 ms of CPU, six times an unchanged sync itself. Here
a job runs in the worker process, reusing its pooled connections, under two limits:
- the job's timeout (RQ's own, a SIGALRM that raises in the job): a job waiting on the network
  or looping in Python is stopped, recorded as failed (or retried), and the worker goes on;
- HARD_GRACE seconds later, a C-level watchdog (faulthandler, no GIL needed) prints every
  thread's stack and ends the process: a job stuck inside C code that never lets the signal
  through cannot hold the worker. Its process manager starts it again (Kubernetes, Compose,
  `touchpoint run`), and the job, abandoned with its heartbeat, is retried or failed by RQ's
  cleanup of the started registry (at the next sweep of that kind, or a worker's).
While a job runs, a thread keeps its heartbeat, so a worker killed mid-job (SIGKILL, its
machine gone) leaves a job that is picked up again about 90 seconds later, as with forking.
"""

from __future__ import annotations

import contextlib
import faulthandler
import logging
import sys
import threading
from collections.abc import Iterator
from typing import Any

from rq.job import Job
from rq.queue import Queue
from rq.worker import SimpleWorker, WorkerStatus

log = logging.getLogger("workers.jobs")

HARD_GRACE = 5  # seconds past a job's timeout before the process is ended


class LimitedSimpleWorker(SimpleWorker):
    """RQ's worker that runs jobs in its own process, with a soft and a hard time limit."""

    def execute_job(self, job: Job, queue: Queue) -> None:
        # Reference: rq/worker/worker_classes.py SimpleWorker.execute_job (RQ 3.0), with limits.
        execution = self.prepare_execution(job)
        with hard_limit(job.timeout), self._heartbeats(job, execution):
            self.perform_job(job, queue, execution)
        self.set_state(WorkerStatus.IDLE)

    def get_heartbeat_ttl(self, job: Job, working_time: float = 0.0) -> int:
        # The forking worker's rule (heartbeats come while the job runs), not SimpleWorker's
        # (the job's whole timeout, so a killed worker's job would wait four minutes).
        if job.timeout and job.timeout > 0:
            remaining = job.timeout - working_time
            return int(min(remaining, self.job_monitoring_interval)) + 60
        return self.job_monitoring_interval + 60

    @contextlib.contextmanager
    def _heartbeats(self, job: Job, execution: Any) -> Iterator[None]:
        done = threading.Event()

        def beat() -> None:
            while not done.wait(self.job_monitoring_interval):
                try:
                    self.maintain_heartbeats(job, execution)
                except Exception:  # Redis away for a moment: the next beat tries again
                    log.warning("heartbeat of job %s failed", job.id, exc_info=True)

        beating = threading.Thread(target=beat, name=f"heartbeat-{job.id}", daemon=True)
        beating.start()
        try:
            yield
        finally:
            done.set()
            beating.join()


@contextlib.contextmanager
def hard_limit(timeout: float | None) -> Iterator[None]:
    """End this process if the block runs HARD_GRACE seconds past timeout (None, -1: no limit)."""
    stream = sys.__stderr__
    if not timeout or timeout < 0 or stream is None:
        yield
        return
    try:
        faulthandler.dump_traceback_later(timeout + HARD_GRACE, exit=True, file=stream)
    except (ValueError, OSError):  # no usable stderr to report on: the soft limit alone
        yield
        return
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()
