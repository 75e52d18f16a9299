"""Jobs whose worker died: handed back to RQ's retries about 90 seconds after its last heartbeat.

RQ settles a job that a dead worker had started (retried when it has retries left, failed
otherwise) when someone cleans the queue's started registry: a live worker does so every 10
minutes, and enqueue_once for the job it enqueues. A sync cut off mid-way would otherwise wait
for its connection's lease (15 minutes) or for that maintenance. The scheduler, of which one
runs, cleans every queue's registry every 15 seconds (a few Redis reads).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

from redis import Redis, RedisError
from rq.registry import StartedJobRegistry

log = logging.getLogger(__name__)
EVERY = 15  # seconds: a dead worker's job is back within about two minutes of its death


def settle_abandoned(connection: Redis, queues: Iterable[str]) -> None:
    """Retry (or fail) every job started by a worker whose heartbeat lapsed, in these queues."""
    for name in queues:
        StartedJobRegistry(name, connection=connection).cleanup()


def keep_settling(
    connection: Redis, queues: Iterable[str], every: float = EVERY
) -> threading.Event:
    """Settle abandoned jobs every so often from a thread; set the returned event to stop."""
    names, stop = tuple(queues), threading.Event()

    def settling() -> None:
        while not stop.wait(every):
            try:
                settle_abandoned(connection, names)
            except RedisError as error:  # Redis away for a moment: the next round settles them
                log.warning("could not settle abandoned jobs: %s", error)

    threading.Thread(target=settling, name="settle-abandoned", daemon=True).start()
    return stop
