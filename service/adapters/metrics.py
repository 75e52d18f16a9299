"""Prometheus metrics: what each process counts, and how a process shows them.

Counters live in the process that does the work (a web worker, an RQ worker and the job
processes it forks). Under gunicorn, and in a worker, PROMETHEUS_MULTIPROC_DIR names a folder
of this machine where every process of the group writes its counts; a scrape adds them up
(prometheus_client's multi-process mode). Labels are names from the code (a queue, a job
function, a Flask endpoint), never a path or a title: nothing a user typed, nothing secret.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

JOBS = Counter("touchpoint_jobs", "Jobs run, by outcome", ["queue", "job", "outcome"])
JOB_SECONDS = Histogram(
    "touchpoint_job_seconds",
    "How long each job ran",
    ["queue", "job"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 180),
)
EMAILS = Counter("touchpoint_emails", "Emails handed to the mail server, by outcome", ["outcome"])
GOOGLE_CALLS = Counter("touchpoint_google_calls", "Requests made to Google's APIs", ["call"])
REQUESTS = Counter(
    "touchpoint_http_requests", "Web requests answered", ["method", "endpoint", "status"]
)
REQUEST_SECONDS = Histogram(
    "touchpoint_http_request_seconds",
    "How long the web took to answer",
    ["endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


def count_job(queue: str, job: str, outcome: str, seconds: float | None) -> None:
    """Count one run of a job: "done" (whatever it returned), "retry" or "failed"."""
    kind = "done"
    if outcome.startswith("will retry"):
        kind = "retry"
    elif outcome.startswith("failed"):
        kind = "failed"
    JOBS.labels(queue, job, kind).inc()
    if seconds is not None:
        JOB_SECONDS.labels(queue, job).observe(seconds)


def registry(extra: Iterable[Collector] = (), *, counts: bool = True) -> CollectorRegistry:
    """Return a registry adding up every process of the group, plus the given collectors."""
    found = CollectorRegistry()
    if counts and os.environ.get(MULTIPROC_DIR):
        MultiProcessCollector(found)
    elif counts:  # one process: its own counts
        for own in (JOBS, JOB_SECONDS, EMAILS, GOOGLE_CALLS, REQUESTS, REQUEST_SECONDS):
            found.register(own)
    for collector in extra:
        found.register(collector)
    return found


def exposition(extra: Iterable[Collector] = ()) -> bytes:
    """Return the metrics in Prometheus's text format."""
    return generate_latest(registry(extra))


def serve(port: int, host: str, extra: Iterable[Collector] = (), *, counts: bool = True) -> None:
    """Serve the metrics on host:port from a thread (a worker's or the scheduler's own port)."""
    from prometheus_client import start_http_server

    start_http_server(port, addr=host, registry=registry(extra, counts=counts))
