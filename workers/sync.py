"""Sync jobs: keep every connected calendar current, cheaply, and never stop silently.

dispatch_syncs (every minute, on its own queue) enqueues a sync of each connection that is due,
in batches of DISPATCH_BATCH that any worker may take, with no cap on how many; a Google push
notification enqueues one at once (service.web.push). One job id per connection ("sync-42"), so
a slow sync is never queued twice. renew_channels (hourly) keeps a push channel open for each
Google calendar. When a sync is due and what a failure means is service.sources.schedule's to say.

A feed whose server is down is not retried by RQ: the failure is recorded on the connection
("failing", with the reason the user sees) and the dispatcher tries again after a growing wait.
A Google outage is recorded the same way and then raised, so RQ's Retry runs the job again soon.
The sync itself, and what it does to the connection's status, is service.sources.sync's: the
same as the web's Refresh.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from rq import Queue, Retry

from service import clock
from service.adapters.google import (
    CredentialsRevoked,
    GoogleError,
    TransientGoogleError,
    stop_channel,
    watch_events,
)
from service.adapters.mail_delivery import send_now
from service.adapters.redis import QueueUnavailable, enqueue_many_once, enqueue_once, queue_for
from service.config import Settings
from service.dashboard import past
from service.engine.i18n import language
from service.models import Connection
from service.sources.connect import SourceUnavailable
from service.sources.google import calendar_service
from service.sources.schedule import (
    BROKEN,
    channels_to_renew,
    claim_due,
    count_due,
    lease,
    mark_due,
    needs_channel,
    notify_broken,
    poll_instead,
    push_address,
    schedule_next,
    unclaim,
)
from service.sources.sync import refresh
from workers.notes import enqueue_plan, plan_user
from workers.runtime import Runtime, current

log = logging.getLogger(__name__)

QUEUE = "sync"
# The dispatcher's own queue, first in every worker's list: a tick never waits behind the
# syncs it enqueued.
DISPATCH_QUEUE = "dispatch"
# Connections one dispatch step claims and enqueues at once (one Redis round trip).
DISPATCH_BATCH = 1000
# For the periodic schedule: how often the dispatcher and the channel renewal run, in seconds.
DISPATCH_EVERY = 60
RENEW_EVERY = 60 * 60
# Google away for a moment (429, 5xx): three more tries over about 12 minutes, then the
# dispatcher's growing wait takes over.
SYNC_RETRY = Retry(max=3, interval=[30, 120, 600])
CHANNEL_TTL = timedelta(days=7)
CHANGED = frozenset({"connected", "updated"})


@dataclass(frozen=True, slots=True)
class Synced:
    """What one sync job did: its outcome, whose calendar it was, and an email to send."""

    outcome: str
    user_id: int = 0
    notice: int | None = None
    away: SourceUnavailable | None = None


def sync_connection_job(connection_id: int) -> str:
    """Sync one connection and schedule its next sync; return what the sync did."""
    runtime, now = current(), clock.now()
    with runtime.database.unit() as session:
        connection = session.get(Connection, connection_id)
        if connection is None or connection.status == BROKEN:
            return "gone" if connection is None else BROKEN  # reconnecting resumes it
        leased = lease(connection, now)
    done = _sync(runtime, connection_id, leased, now)
    _tell(runtime, done.notice)
    if done.away is not None:
        raise done.away  # recorded on the connection and committed; RQ's Retry runs it again
    if done.outcome in CHANGED:
        after_sync(done.user_id)
    if done.outcome == "connected":
        push_soon(runtime, connection_id)
    log.info("connection %s: %s", connection_id, done.outcome)
    return done.outcome


def after_sync(user_id: int) -> None:
    """Re-plan a user's prep notes after a sync changed their events (one job per user).

    When Redis is away, plan here and now: nothing in the database says the change still needs
    planning (the notes dispatcher finds only notes planned already), and the sync that saw it
    is done. The emails it queues wait in the outbox for the sweep.
    """
    try:
        enqueue_plan(current().settings, user_id)
    except QueueUnavailable as error:
        log.warning("could not enqueue planning for user %s (%s): planning now", user_id, error)
        # Its notes are planned and in the outbox even if their emails cannot be handed over:
        # the outbox sweep sends them.
        with contextlib.suppress(QueueUnavailable):
            plan_user(user_id)


def push_soon(runtime: Runtime, connection_id: int) -> None:
    """Open a push channel for a newly connected Google calendar now, not at the hourly renewal.

    Push is the default wherever Google can reach the site (https): a pushed calendar is polled
    every 6 hours instead of every 15 minutes. renew_channel skips any other kind.
    """
    if push_address(runtime.settings) is None:
        return
    try:
        queue = sync_queue(runtime.settings)
        enqueue_once(
            queue, f"channel-{connection_id}", renew_channel, connection_id, retry=SYNC_RETRY
        )
    except QueueUnavailable as error:  # the hourly renewal opens it
        log.warning("could not enqueue a push channel for connection %s: %s", connection_id, error)


def _sync(runtime: Runtime, connection_id: int, leased: datetime, now: datetime) -> Synced:
    with runtime.database.unit() as session:
        connection = session.get(Connection, connection_id)
        if connection is None:
            return Synced("gone")  # disconnected while it waited
        assert connection.user is not None  # loaded now: the sync reads its zone after the fetch
        # No transaction stays open through the download and the parse: the sync writes in a
        # new one once it has read what changed (objects outlive the commit, see db.Database).
        session.commit()
        # Its errors and notes are stored for the user to read: in their language.
        with language(connection.user.language):
            result = refresh(session, runtime.settings, runtime.box, connection, now)
        if result.outcome != "failed":
            schedule_next(session, connection, leased, now)
            if result.outcome in CHANGED:  # the days it touched, for the dashboard
                past.refresh(session, connection.user, now)
            return Synced(result.outcome, connection.user_id)
        settings = runtime.settings
        notice = notify_broken(session, settings, connection, now) if result.broken else None
        outcome = BROKEN if result.broken else "failing"
        return Synced(outcome, connection.user_id, notice, result.away)


def _tell(runtime: Runtime, outbox_id: int | None) -> None:
    """Send a reconnect email now; if the mail server is away, the outbox keeps it for later."""
    if outbox_id is not None:
        send_now(runtime.database, runtime.settings, outbox_id)


def dispatch_syncs() -> int:
    """Enqueue a sync of every connection that is due, however many (every minute).

    The tick counts what is due: one batch it claims and enqueues itself; more, it enqueues a
    dispatch_batch job per DISPATCH_BATCH on the dispatch queue, so any number of workers share
    a large tick and the tick itself stays short. Return how many syncs it enqueued itself.
    """
    runtime, now = current(), clock.now()
    with runtime.database.unit() as session:
        due = count_due(session, now)
    if due <= DISPATCH_BATCH:
        return dispatch_batch() if due else 0
    batches = -(-due // DISPATCH_BATCH)
    queue = queue_for(runtime.settings.redis_url, DISPATCH_QUEUE)
    enqueue_many_once(queue, dispatch_batch, [(f"dispatch-syncs-{n}", ()) for n in range(batches)])
    log.info("sync dispatch: %d due, %d batches enqueued", due, batches)
    return 0


def dispatch_batch() -> int:
    """Claim up to DISPATCH_BATCH due connections and enqueue their syncs; return how many."""
    runtime, now = current(), clock.now()
    with runtime.database.unit() as session:
        claimed = claim_due(session, now, DISPATCH_BATCH)
    if not claimed:
        return 0
    calls = [(f"sync-{connection_id}", (connection_id,)) for connection_id in claimed]
    try:
        return enqueue_many_once(
            sync_queue(runtime.settings), sync_connection_job, calls, retry=SYNC_RETRY
        )
    except QueueUnavailable:
        with runtime.database.unit() as session:
            unclaim(session, claimed, now)  # due again for the next tick, not after the lease
        raise


def renew_channels() -> int:
    """Enqueue a channel renewal for each Google calendar whose push channel is gone or ending."""
    runtime, now = current(), clock.now()
    if push_address(runtime.settings) is None:
        return 0  # Google pushes to https only: polling every 15 minutes does the work
    with runtime.database.unit() as session:
        ending = channels_to_renew(session, now)
    queue = sync_queue(runtime.settings)
    jobs = [(f"channel-{connection_id}", connection_id) for connection_id in ending]
    return sum(enqueue_once(queue, j, renew_channel, arg, retry=SYNC_RETRY)[1] for j, arg in jobs)


def renew_channel(connection_id: int) -> str:
    """Open a new push channel for one Google calendar, then stop the old one."""
    runtime, now = current(), clock.now()
    address = push_address(runtime.settings)
    failure: TransientGoogleError | None = None
    with runtime.database.unit() as session:
        connection = session.get(Connection, connection_id)
        if connection is None or address is None or not needs_channel(connection, now):
            return "skipped"  # gone, broken, or renewed by an earlier run
        try:
            outcome = _open_channel(runtime, connection, address)
        except CredentialsRevoked:
            mark_due(connection, now)  # the sync marks it broken and tells the user
            outcome = "revoked"
        except GoogleError as error:
            poll_instead(connection, now)
            log.warning("no push channel for connection %s: %s", connection_id, error)
            failure = error if isinstance(error, TransientGoogleError) else None
            outcome = "polling"
    if failure is not None:
        raise failure  # committed the polling fallback first; RQ's Retry tries again
    return outcome


def _open_channel(runtime: Runtime, connection: Connection, address: str) -> str:
    service = calendar_service(runtime.settings, runtime.box, connection)
    token, ttl = secrets.token_urlsafe(32), int(CHANNEL_TTL.total_seconds())
    channel = watch_events(service, "primary", str(uuid.uuid4()), address, token, ttl)
    old = (connection.channel_id, connection.channel_resource_id)
    connection.channel_id, connection.channel_resource_id = channel.id, channel.resource_id
    connection.channel_token, connection.channel_expires_at = token, channel.expires_at
    if not all(old):
        return "opened"
    try:
        stop_channel(service, *old)
    except GoogleError as error:  # it ends by itself within a day; its pushes now answer 404
        log.warning("could not stop channel %s: %s", old[0], error)
    return "renewed"


def sync_queue(settings: Settings) -> Queue:
    """Return the queue sync jobs run on."""
    return queue_for(settings.redis_url, QUEUE)


def enqueue_sync(queue: Queue, connection_id: int) -> bool:
    """Enqueue a sync of one connection; False when one is already waiting, running or retrying."""
    job_id = f"sync-{connection_id}"
    return enqueue_once(queue, job_id, sync_connection_job, connection_id, retry=SYNC_RETRY)[1]
