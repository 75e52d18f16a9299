"""gunicorn's settings for the web app: gunicorn -c gunicorn.conf.py 'service.web:create_app()'.

Threads, so one slow request (connecting a calendar address waits for its server: at most
30 seconds to fetch and 10 to read) never holds the whole site; a worker timeout above that
deadline; a graceful stop shorter than Kubernetes' 30 s; counts of every process added up
for /metrics; logs as the rest of Touchpoint writes them (JSON with TOUCHPOINT_LOG_FORMAT=json).
A bad setting stops start-up with one line naming it, before any worker starts.

Every value can be changed from the environment: PORT or TOUCHPOINT_BIND, WEB_CONCURRENCY,
WEB_THREADS, WEB_TIMEOUT.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from typing import Any

# Set before anything imports prometheus_client (it decides where counts live on import, and
# the workers inherit what this process imported): the folder every worker writes its counts.
_own_metrics_dir = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _own_metrics_dir:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="touchpoint-metrics-")
metrics_folder = os.environ["PROMETHEUS_MULTIPROC_DIR"]


def _number(name: str, default: int) -> int:
    value = os.environ.get(name, str(default)).strip()
    if not value.isdigit() or int(value) < 1:
        print(
            f"touchpoint: {name} must be a whole number of at least 1, not {value!r}",
            file=sys.stderr,
        )
        sys.exit(2)
    return int(value)


bind = [os.environ.get("TOUCHPOINT_BIND") or f"0.0.0.0:{_number('PORT', 8000)}"]
workers = _number("WEB_CONCURRENCY", 2)  # (gunicorn reads it first: deploy/entrypoint.sh checks it)
worker_class = "gthread"
threads = _number("WEB_THREADS", 8)
# Above the longest request: a calendar address fetched (30 s) and read (10 s) in the request.
timeout = _number("WEB_TIMEOUT", 60)
graceful_timeout = 20  # under Kubernetes' default 30 s grace period, so no request is cut off
keepalive = 5
max_requests, max_requests_jitter = 10_000, 1_000  # a slow leak never grows for ever
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108 (heartbeats)
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms id=%({x-request-id}o)s'


def _logging() -> dict[str, Any]:
    log_format = os.environ.get("TOUCHPOINT_LOG_FORMAT", "text").strip() or "text"
    handler = {
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stderr",
        "formatter": "touchpoint",
        "filters": ["context", "secrets"],
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"touchpoint": {"()": "service.adapters.logs.formatter", "fmt": log_format}},
        "filters": {
            "context": {"()": "service.adapters.logs.Context", "part": "web"},
            "secrets": {"()": "service.adapters.logs.CleanRecords", "terminal": False},
        },
        "handlers": {"console": handler, "error_console": handler},
        "root": {"level": "INFO", "handlers": ["console"]},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["console"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": ["console"], "propagate": False},
            "alembic": {"level": "WARNING"},
        },
    }


logconfig_dict = _logging()


def _refuse_bad_settings() -> None:
    """Stop here, in one line naming the variable, when a setting is wrong (no worker boots)."""
    from service.config import ConfigError, finish, from_env

    try:
        finish(from_env())
    except ConfigError as problem:
        print(f"touchpoint: {problem}", file=sys.stderr, flush=True)
        sys.exit(2)  # a SystemExit passes through gunicorn's reading of this file


_refuse_bad_settings()


def on_starting(server: Any) -> None:
    for leftover in os.listdir(metrics_folder):  # counts of an earlier run of this server
        os.unlink(os.path.join(metrics_folder, leftover))


def post_worker_init(worker: Any) -> None:
    """Report errors to SENTRY_DSN, when one is set, from each worker."""
    from service.adapters.errors import start_reporting
    from service.config import from_env

    start_reporting(from_env(), "web")


def post_request(worker: Any, req: Any, environ: Any, resp: Any) -> None:
    """Forget the request's id once its access line is written (the thread serves others)."""
    from service.adapters.logs import request_id

    request_id.set("")


def child_exit(server: Any, worker: Any) -> None:
    """Forget a stopped worker's live gauges (its counts stay in the total)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server: Any) -> None:
    if _own_metrics_dir:
        shutil.rmtree(metrics_folder, ignore_errors=True)
