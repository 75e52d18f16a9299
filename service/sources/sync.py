"""Sync any kind of connection and record how it went; list, find and disconnect connections.

One path for the web's Refresh and the workers' scheduled sync: a syncer per kind (ICS feed,
upload, Google) reads the source, and every outcome goes through service.sources.schedule's
transitions, so a failed manual refresh retries on the scheduler's clock like any other failure.
The caller commits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from service.adapters.secrets import SecretBox
from service.config import Settings
from service.engine.i18n import gettext
from service.models import Connection, StoredOccurrence, User
from service.sources.calendar import touched
from service.sources.connect import SourceError, SourceUnavailable, SyncResult
from service.sources.feeds import sync_ics_upload, sync_ics_url
from service.sources.schedule import failed, may_come_back, synced

log = logging.getLogger(__name__)

Syncer = Callable[[Session, Settings, SecretBox, Connection, datetime], SyncResult]
# What happens before a connection is deleted; it may return a notice for the user
# (e.g. "remove the access yourself").
DisconnectHook = Callable[[Settings, SecretBox, Connection], str | None]


# Imported when used: the Google client libraries are needed only by accounts that use Google.
def _sync_google(
    session: Session, settings: Settings, box: SecretBox, connection: Connection, now: datetime
) -> SyncResult:
    from service.sources.google import sync_google

    return sync_google(session, settings, box, connection, now)


def _revoke_google(settings: Settings, box: SecretBox, connection: Connection) -> str | None:
    from service.sources.google import PERMISSIONS_PAGE, REVOKE_FAILED, revoke_grant

    revoked = revoke_grant(settings, box, connection)
    return None if revoked else gettext(REVOKE_FAILED, url=PERMISSIONS_PAGE)


SYNCERS: dict[str, Syncer] = {
    "ics_url": sync_ics_url,
    "ics_upload": sync_ics_upload,
    "google": _sync_google,
}
DISCONNECT_HOOKS: dict[str, DisconnectHook] = {"google": _revoke_google}


def sync_connection(
    session: Session, settings: Settings, box: SecretBox, connection: Connection, now: datetime
) -> SyncResult:
    """Sync one connection and record the outcome; its old events stay when it fails.

    Raises SourceUnavailable when the source did not answer (nothing is recorded then: the
    caller rolls back first, see refresh).
    """
    try:
        result = SYNCERS[connection.kind](session, settings, box, connection, now)
    except SourceError as error:
        log.warning("sync of connection %s failed: %s", connection.id, error)
        broken = failed(connection, str(error), now, transient=may_come_back(connection))
        return SyncResult(connection, "failed", error=str(error), broken=broken)
    synced(connection)
    return result


def refresh(
    session: Session, settings: Settings, box: SecretBox, connection: Connection, now: datetime
) -> SyncResult:
    """Sync a connection and record every failure, raising none (the user's Refresh, a worker).

    A source that did not answer rolls back what this transaction wrote so far, is recorded as
    a failure that may pass, and comes back in result.away for a worker to retry.
    """
    try:
        return sync_connection(session, settings, box, connection, now)
    except SourceUnavailable as away:
        session.rollback()
        log.warning("sync of connection %s failed for now: %s", connection.id, away)
        broken = failed(connection, str(away), now, transient=True)
        return SyncResult(connection, "failed", error=str(away), broken=broken, away=away)


def disconnect(
    session: Session, settings: Settings, box: SecretBox, connection: Connection
) -> tuple[str, list[str]]:
    """Delete a connection and everything synced from it; return its label and any notices."""
    hook = DISCONNECT_HOOKS.get(connection.kind)
    notice = hook(settings, box, connection) if hook is not None else None
    mine = StoredOccurrence.connection_id == connection.id
    touched(
        session,
        connection.user_id,
        session.scalars(select(StoredOccurrence.start).where(mine)).all(),
    )
    session.execute(delete(StoredOccurrence).where(mine))
    session.delete(connection)
    log.info("user %s disconnected %s", connection.user_id, connection.label)
    return connection.label, [notice] if notice else []


def can_refresh(connection: Connection) -> bool:
    """Say whether a connection can be synced again (every kind can today)."""
    return connection.kind in SYNCERS


def connection_of(session: Session, user: User, connection_id: int) -> Connection | None:
    """Return the user's connection with this id, or None (someone else's is None too)."""
    query = select(Connection).where(Connection.id == connection_id)
    return session.scalars(query.where(Connection.user_id == user.id)).first()


def connections_of(session: Session, user: User) -> list[tuple[Connection, int]]:
    """Return the user's connections, oldest first, each with how many events it stored."""
    mine = select(Connection).where(Connection.user_id == user.id)
    connections = session.scalars(mine.order_by(Connection.created_at, Connection.id)).all()
    per_connection = (
        select(StoredOccurrence.connection_id, func.count())
        .where(StoredOccurrence.user_id == user.id)
        .group_by(StoredOccurrence.connection_id)
    )
    counts = {connection_id: int(n) for connection_id, n in session.execute(per_connection)}
    return [(connection, counts.get(connection.id, 0)) for connection in connections]
