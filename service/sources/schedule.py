"""A connection's status and when it syncs next: the only code that writes either.

No queue here: workers.sync and the web's Refresh ask these functions what is due and record
what each sync did through the named transitions (connected, synced, failed), so a manual
refresh and a scheduled sync mean the same. The policy:
- A working connection syncs every refresh interval: 15 minutes at least, longer when its feed
  asks (REFRESH-INTERVAL or X-PUBLISHED-TTL, at most a day). A Google calendar with a live push
  channel is polled every 6 hours only, in case a notification was lost.
- A failed fetch of a feed (its server down or slow) or a Google outage makes the connection
  "failing": its events stay, and it is tried again after a wait as long as the outage so far
  (15 minutes, doubling, at most 2 hours). A feed is marked "broken" only when it fails again
  after failing for a day: servers go down for a while, and one failed fetch says little.
- A revoked grant, or anything else retrying cannot fix, breaks the connection at once.
- A broken connection is not synced until the user reconnects or refreshes it, and its user is
  emailed once, with a link to reconnect: a sync that stops silently is the worst failure.

A connection table has no failure counter, so an outage is measured from when the first failed
sync was due: the last successful sync plus the refresh interval.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from datetime import datetime, timedelta

import icalendar
from sqlalchemy import ColumnElement, and_, func, not_, or_, select, update
from sqlalchemy.orm import Session

from service.adapters.mail import queue_to
from service.calendars.ics import IcsCalendar
from service.config import Settings
from service.engine.i18n import N_, language
from service.engine.i18n import gettext as _
from service.models import Connection

FLOOR = timedelta(minutes=15)
LONGEST_REFRESH = timedelta(days=1)
PUSH_POLL = timedelta(hours=6)
LONGEST_WAIT = timedelta(hours=2)
GIVE_UP_AFTER = timedelta(days=1)
RENEW_BEFORE = timedelta(days=1)
# How long the dispatcher holds a connection back while its sync waits in a queue: the sync's
# own lease replaces it when it starts; a sync lost with its queue is dispatched again after it.
DISPATCH_LEASE = timedelta(minutes=10)
PUSH_PATH = "/google/push"
OK, FAILING, BROKEN = "ok", "failing", "broken"
SYNCED = (OK, FAILING)
# RFC 7986 names the first; Outlook and many older publishers send only the second.
_REFRESH_PROPERTIES = ("REFRESH-INTERVAL", "X-PUBLISHED-TTL")
# Only a feed's server may be away for a while without saying so: every other SourceError is
# final (a revoked grant, Google refusing for good, an upload too old to read again), and
# Google's passing failures raise TransientGoogleError instead.
_MAY_COME_BACK = frozenset({"ics_url"})
_KIND_NAMES = {
    "google": N_("Google Calendar"),
    "ics_url": N_("calendar"),
    "ics_upload": N_("uploaded calendar"),
}
_FIX_OTHER = N_("Connect it again")
_FIXES = {
    "google": N_("Connect your Google Calendar again"),
    "ics_url": N_("Check the calendar's address and connect it again"),
    "ics_upload": N_("Upload the calendar file again"),
}


def refresh_minutes(calendar: IcsCalendar) -> int:
    """Return how many minutes a feed asks between fetches: 15 at least, a day at most."""
    for found in calendar.calendars:
        for name in _REFRESH_PROPERTIES:
            interval = _duration(found.properties.get(name, ""))
            if interval is not None:
                bounded = min(max(interval, FLOOR), LONGEST_REFRESH)
                return int(bounded.total_seconds() // 60)
    return int(FLOOR.total_seconds() // 60)


def _duration(value: str) -> timedelta | None:
    """Read an iCalendar DURATION ("P1D", "PT30M"); None when absent, unreadable or not ahead."""
    try:
        interval = icalendar.vDuration.from_ical(value.strip()) if value.strip() else None
    except ValueError:
        return None
    return interval if isinstance(interval, timedelta) and interval > timedelta(0) else None


def _due(now: datetime) -> ColumnElement[bool]:
    # Both halves read ix_connections_due (partial on the working statuses).
    when = or_(Connection.next_sync_at.is_(None), Connection.next_sync_at <= now)
    return and_(Connection.status.in_(SYNCED), when)


_LONGEST_WAITING = (Connection.next_sync_at.asc().nulls_first(), Connection.id)


def due_connections(session: Session, now: datetime, limit: int | None = None) -> list[int]:
    """Return the ids of the connections due for a sync, the longest waiting first."""
    query = select(Connection.id).where(_due(now)).order_by(*_LONGEST_WAITING)
    return list(session.scalars(query.limit(limit)))


def count_due(session: Session, now: datetime) -> int:
    """Return how many connections are due for a sync."""
    return int(session.scalar(select(func.count()).where(_due(now))) or 0)


def claim_due(session: Session, now: datetime, limit: int) -> list[int]:
    """Hold back up to limit due connections for DISPATCH_LEASE; return their ids.

    The dispatcher's step: a claimed connection is not due again while its sync waits in a
    queue, so each tick reads only what became due since. A sync that was lost with its queue
    (Redis restarted empty) comes back once the lease ends. Two dispatchers claim different rows
    (SKIP LOCKED on PostgreSQL; SQLite writes one at a time). New connections first, then the
    longest waiting, each read in ix_connections_due's order: a claim costs its own rows, never
    a sort of everything due. The caller commits.
    """
    working = Connection.status.in_(SYNCED)
    claimed = _claim(session, now, limit, working, Connection.next_sync_at.is_(None))
    if len(claimed) < limit:
        late = and_(working, Connection.next_sync_at <= now)
        claimed += _claim(session, now, limit - len(claimed), late)
    return sorted(claimed)


def _claim(session: Session, now: datetime, limit: int, *due: ColumnElement[bool]) -> list[int]:
    pick = (
        select(Connection.id)
        .where(*due)
        .order_by(Connection.next_sync_at, Connection.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(
        session.scalars(
            update(Connection)
            .where(Connection.id.in_(pick.scalar_subquery()))
            .values(next_sync_at=now + DISPATCH_LEASE)
            .returning(Connection.id)
            .execution_options(synchronize_session=False)
        )
    )


def unclaim(session: Session, ids: Sequence[int], now: datetime) -> None:
    """Make claimed connections due again at once (their syncs could not be queued)."""
    session.execute(
        update(Connection)
        .where(Connection.id.in_(ids), Connection.next_sync_at == now + DISPATCH_LEASE)
        .values(next_sync_at=now)
        .execution_options(synchronize_session=False)
    )


def every(connection: Connection) -> timedelta:
    """Return the polling interval a connection asked for, never under the floor."""
    return max(FLOOR, timedelta(minutes=connection.refresh_minutes))


def interval(connection: Connection, now: datetime) -> timedelta:
    """Return how long a working connection waits for its next sync from now."""
    if connection.kind == "google" and has_live_channel(connection, now + PUSH_POLL):
        return max(every(connection), PUSH_POLL)
    return every(connection)


def has_live_channel(connection: Connection, at: datetime) -> bool:
    """Say whether Google will still push this connection's changes at that time."""
    expires = connection.channel_expires_at
    return bool(connection.channel_id) and expires is not None and expires > at


def outage(connection: Connection, now: datetime) -> timedelta:
    """Return how long a connection has been failing: since its first unsuccessful sync was due."""
    last = connection.synced_at or connection.created_at
    return now - (last + every(connection))


def retry_wait(connection: Connection, now: datetime) -> timedelta:
    """Return the wait before a failing connection is tried again: the outage so far, bounded."""
    return min(max(outage(connection, now), FLOOR), LONGEST_WAIT)


def lease(connection: Connection, now: datetime) -> datetime:
    """Hold a connection back while it syncs (if the sync dies, it waits as after a failure)."""
    connection.next_sync_at = now + retry_wait(connection, now)
    return connection.next_sync_at


def schedule_next(
    session: Session, connection: Connection, leased: datetime, now: datetime
) -> None:
    """After a good sync, set the next one, unless a push notification made it due meanwhile."""
    session.flush()
    session.connection().execute(
        update(Connection)
        .where(Connection.id == connection.id, Connection.next_sync_at == leased)
        .values(next_sync_at=now + interval(connection, now))
    )


def may_come_back(connection: Connection) -> bool:
    """Say whether a sync of this connection that failed with a SourceError may work later."""
    return connection.kind in _MAY_COME_BACK


def connected(connection: Connection) -> None:
    """A calendar was connected, or connected again with a new grant: it syncs, nothing broke."""
    connection.status, connection.last_error = OK, ""
    connection.broken_notified_at = None


def synced(connection: Connection) -> None:
    """A sync worked: the connection is working again, whatever it was before."""
    connection.status, connection.last_error = OK, ""


def failed(connection: Connection, reason: str, now: datetime, *, transient: bool) -> bool:
    """Record a failed sync; return True when the connection is now broken (tell the user).

    A transient failure keeps it retrying after a growing wait, until it has failed for a day;
    anything else breaks it at once.
    """
    failing_before = connection.status == FAILING
    connection.last_error = reason[:500]
    given_up = failing_before and outage(connection, now) >= GIVE_UP_AFTER
    if transient and not given_up:
        connection.status = FAILING
        connection.next_sync_at = now + retry_wait(connection, now)
        return False
    connection.status, connection.next_sync_at = BROKEN, None
    return True


def mark_due(connection: Connection, now: datetime) -> None:
    """Make a connection due now (Google said it changed), unless it is broken."""
    if connection.status in SYNCED:
        connection.next_sync_at = now


def notify_broken(
    session: Session, settings: Settings, connection: Connection, now: datetime
) -> int | None:
    """Queue the reconnect email unless the user was told since the last good sync; its id."""
    session.flush()
    told = and_(
        Connection.broken_notified_at.is_not(None),
        or_(Connection.synced_at.is_(None), Connection.broken_notified_at >= Connection.synced_at),
    )
    claimed = session.connection().execute(
        update(Connection)
        .where(Connection.id == connection.id, not_(told))
        .values(broken_notified_at=now)
    )
    if claimed.rowcount != 1:
        return None  # told already, by this job's earlier run or by another worker
    return queue_reconnect_email(session, settings, connection)


def queue_reconnect_email(session: Session, settings: Settings, connection: Connection) -> int:
    """Queue the email saying a calendar stopped syncing and how to fix it; return its id."""
    with language(connection.user.language):
        return _queue_reconnect(session, settings, connection)


def _queue_reconnect(session: Session, settings: Settings, connection: Connection) -> int:
    context = {
        "label": connection.label,
        "kind": _(_KIND_NAMES.get(connection.kind, "calendar")),
        "reason": connection.last_error or _("It could not be read."),
        "fix": _(_FIXES.get(connection.kind, _FIX_OTHER)),
        "connect_url": f"{settings.base_url}/connect",
    }
    email = queue_to(session, settings, connection.user, "reconnect", context)
    return email.id


def push_address(settings: Settings) -> str | None:
    """Return where Google is to push changes, or None when it cannot (Google needs https)."""
    if not settings.google.enabled or not settings.base_url.startswith("https://"):
        return None
    return settings.base_url + PUSH_PATH


def channels_to_renew(session: Session, now: datetime) -> list[int]:
    """Return the Google connections whose push channel is missing or ends within a day."""
    ending = or_(
        Connection.channel_id == "",
        Connection.channel_expires_at.is_(None),
        Connection.channel_expires_at <= now + RENEW_BEFORE,
    )
    query = select(Connection.id).where(
        Connection.kind == "google", Connection.status.in_(SYNCED), ending
    )
    return list(session.scalars(query.order_by(Connection.id)))


def needs_channel(connection: Connection, now: datetime) -> bool:
    """Say whether a connection needs a new push channel now (none, or one ending within a day)."""
    working = connection.kind == "google" and connection.status in SYNCED
    return working and not has_live_channel(connection, now + RENEW_BEFORE)


def poll_instead(connection: Connection, now: datetime) -> None:
    """Fall back to polling every 15 minutes while no push channel can be opened."""
    if not has_live_channel(connection, now):
        connection.channel_id, connection.channel_resource_id = "", ""
        connection.channel_token, connection.channel_expires_at = "", None
    soon = now + FLOOR
    if connection.next_sync_at is None or connection.next_sync_at > soon:
        connection.next_sync_at = soon


def connection_for_channel(session: Session, channel_id: str, token: str) -> Connection | None:
    """Return the Google connection a push notification is for, when its token is right."""
    if not channel_id or not token:
        return None
    query = select(Connection).where(Connection.kind == "google")
    connection = session.scalars(query.where(Connection.channel_id == channel_id)).first()
    if connection is None or not connection.channel_token:
        return None
    # Constant time: the token is the only thing that tells Google's notifications from forgeries.
    if not hmac.compare_digest(connection.channel_token.encode(), token.encode()):
        return None
    return connection
