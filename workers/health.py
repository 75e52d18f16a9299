"""Is a worker or the scheduler alive on this machine? For a container's health check."""

from __future__ import annotations

import socket

from redis import Redis
from rq import Worker
from rq.cron import CronScheduler


def alive_here(connection: Redis, part: str, hostname: str | None = None) -> list[str]:
    """Return the names of this host's live workers (or schedulers) registered in Redis.

    A worker's registration expires when it stops sending heartbeats (it hangs, or died without
    a word), and a scheduler's the same way: an empty list means nothing here is at work.
    """
    host = hostname or socket.gethostname()
    if part == "worker":
        return [w.name for w in Worker.all(connection=connection) if w.hostname == host]
    return [s.name for s in CronScheduler.all(connection) if s.hostname == host]
