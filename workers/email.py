"""Sending the outbox from the workers: one job per email, and a sweep that leaves none behind.

Every email is sent by adapters.mail_delivery.deliver, which claims the row first, so a job that
runs twice, or two senders racing, send it once. A transient failure (server down, a 4xx reply)
raises and RQ's Retry runs the job again later; a permanent one (a 5xx reply) is recorded on the
row and fails the job without a retry.

A sender that stops mid-send (killed, its machine gone) leaves its row claimed and unsent. A
claim older than STALE_CLAIM is such a stop: no send takes that long. The row is released and
sent again under the same Message-ID, whatever error an earlier try left on it (a mail server
outage, say), unless the server refused it for good (refused_at: it keeps its claim). A sender
that stopped before handing the message over cannot have delivered it, so its row is released
every time; one that stopped after may have, so its row is sent again once (resends counts that):
at most one duplicate, which mail servers and clients that deduplicate by Message-ID show once.
A row whose second send also stopped after handing over keeps its claim and its error.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from rq import Queue, Retry
from rq.job import Job
from sqlalchemy import case, or_, select, update
from sqlalchemy.orm import Session

from service import clock
from service.adapters.db import Database
from service.adapters.mail_delivery import PermanentMailError, deliver
from service.adapters.redis import enqueue_once, never_retry, queue_for
from service.config import Settings
from service.models import OutboxEmail
from workers.runtime import current

log = logging.getLogger(__name__)

QUEUE = "email"
# A mail server away for a while: retried over about two and a half hours; after that the sweep
# hands the email over again, until it is SEND_WINDOW old.
EMAIL_RETRY = Retry(max=6, interval=[30, 60, 300, 900, 3600, 3600])
# Longer than any sender holds a claim: a send waits at most 10 seconds for each SMTP reply, and
# RQ stops every job that sends (email, booking, sync) 180 seconds after it started, which is
# before it claimed. The sweep runs every minute, so a stopped send goes again within 4 minutes.
STALE_CLAIM = timedelta(minutes=3)
# An email not sent after two days is stale: the meeting it prepares has passed, the link expired.
SEND_WINDOW = timedelta(days=2)
SWEEP_BATCH = 500
INTERRUPTED = "interrupted mid-send (the sender stopped); sent again with the same Message-ID"


def send_email(outbox_id: int) -> str:
    """Send one outbox email unless it is sent or claimed already; return "sent" or "skipped"."""
    runtime = current()
    try:
        return deliver(runtime.database, outbox_id, runtime.settings, clock.now())
    except PermanentMailError:
        never_retry()
        raise


def enqueue_email(settings: Settings, outbox_id: int) -> Job:
    """Ask the workers to send one outbox email; return its job (an existing one if waiting)."""
    return _enqueue_email(queue_for(settings.redis_url, QUEUE), outbox_id)


def _enqueue_email(queue: Queue, outbox_id: int) -> Job:
    return enqueue_once(queue, f"email-{outbox_id}", send_email, outbox_id, retry=EMAIL_RETRY)[0]


def sweep_outbox() -> int:
    """Hand every email still due to the sender (periodic); return how many."""
    runtime = current()
    return len(sweep(runtime.database, runtime.settings, clock.now()))


def sweep(database: Database, settings: Settings, now: datetime) -> list[int]:
    """Release interrupted sends, then enqueue every unsent, unclaimed recent email; return ids."""
    with database.unit() as session:
        released = release_interrupted(session, now)
        due = due_emails(session, now)
    queue = queue_for(settings.redis_url, QUEUE)
    for outbox_id in due:
        _enqueue_email(queue, outbox_id)
    if released or due:
        log.info("outbox sweep: %d interrupted sends released, %d due", released, len(due))
    return due


def release_interrupted(session: Session, now: datetime) -> int:
    """Unclaim each row whose sender stopped mid-send (see above); return how many."""
    handed = OutboxEmail.handed_over.is_(True)
    released = session.connection().execute(
        update(OutboxEmail)
        .where(
            OutboxEmail.sent_at.is_(None),
            OutboxEmail.refused_at.is_(None),
            OutboxEmail.claimed_at < now - STALE_CLAIM,
            OutboxEmail.created_at >= now - SEND_WINDOW,
            or_(~handed, OutboxEmail.resends == 0),  # at most one copy the server may have had
        )
        .values(
            claimed_at=None,
            handed_over=False,
            resends=OutboxEmail.resends + case((handed, 1), else_=0),
            attempts=OutboxEmail.attempts + 1,
            last_error=INTERRUPTED,
        )
    )
    return released.rowcount


def due_emails(session: Session, now: datetime) -> list[int]:
    """Return the ids of emails nobody is sending that are recent enough to send, oldest first."""
    query = (
        select(OutboxEmail.id)
        .where(OutboxEmail.sent_at.is_(None), OutboxEmail.claimed_at.is_(None))
        .where(OutboxEmail.created_at >= now - SEND_WINDOW)
        .order_by(OutboxEmail.id)
        .limit(SWEEP_BATCH)
    )
    return list(session.scalars(query))
