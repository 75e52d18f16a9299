"""The door into the workers from the web and the command line: hand one job over, once.

Each job's id and retry policy live beside the job (workers/<job>.py); every one of them goes
through service.adapters.redis.enqueue_once. The web app imports nothing else from workers/, so a
page never loads a job's dependencies (Google's client for an email, say).
"""

from __future__ import annotations

from service.adapters.redis import QueueUnavailable
from workers.booking import enqueue_booking
from workers.email import enqueue_email
from workers.notes import enqueue_plan
from workers.sync import enqueue_sync, sync_queue

__all__ = [
    "QueueUnavailable",
    "enqueue_booking",
    "enqueue_email",
    "enqueue_plan",
    "enqueue_sync",
    "sync_queue",
]
