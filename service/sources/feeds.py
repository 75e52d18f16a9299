"""Sync a calendar address or an upload again: ask conditionally, read only what changed.

- Unchanged (a 304, or the same bytes): nothing is read or written, unless the days stored
  ahead no longer reach the planner's horizon; then the kept copy (service.sources.kept) is
  expanded over the missing days only, without a download. That happens about once a week per
  calendar, each at its own time: no midnight re-read of every feed.
- Changed: the new calendar is cut into components (cheap) and compared series by series (all
  the components of one UID) with the kept copy; only the series that changed are parsed and
  expanded, and only their rows are written (service.sources.calendar.store_occurrences). A
  change to a time zone or the calendar's own properties reads everything again.

The caller commits, so a sync is one transaction; the caller also records the outcome.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from service.adapters.secrets import SecretBox
from service.calendars import raw
from service.calendars.guard import Tripped
from service.calendars.ics import IcsCalendar
from service.config import Settings
from service.engine.i18n import gettext as _
from service.models import Connection
from service.sources.calendar import stale_span, store_occurrences, stored_span, sync_span
from service.sources.connect import (
    Outcome,
    SourceError,
    SyncResult,
    _conditional,
    _digest,
    _download,
    _host,
    _opened,
    _read,
    _remember,
    count_events,
    over_budget,
)
from service.sources.kept import kept
from service.sources.schedule import refresh_minutes

_STAMP = ("DTSTAMP:", "DTSTAMP;")


def sync_ics_url(
    session: Session, settings: Settings, box: SecretBox, connection: Connection, now: datetime
) -> SyncResult:
    """Fetch a connected address again, conditionally; unchanged rewrites nothing."""
    address = _opened(box, connection)
    copy = bool(connection.content)  # without a kept copy, a 304 would leave nothing to expand
    feed = _download(address, settings, _conditional(connection) if copy else None)
    if copy and (feed.status == 304 or _digest(feed.content) == connection.content_hash):
        connection.synced_at = now
        if not stale_span(connection, now):  # the common case: not even the copy is opened
            return SyncResult(connection, "unchanged", count_events(session, connection))
        before = kept(connection)
        if before is not None:
            return _extended(session, settings, connection, before, now)
        feed = _download(address, settings)  # the copy is unreadable: the whole feed again
    before = kept(connection) if copy else None
    calendar = _read(feed.content, _host(address))
    _remember(connection, feed, now)
    connection.refresh_minutes = refresh_minutes(calendar)
    return _changed(session, settings, connection, calendar, before, now)


def sync_ics_upload(
    session: Session, settings: Settings, box: SecretBox, connection: Connection, now: datetime
) -> SyncResult:
    """Expand a kept upload again, so its weekly meetings reach the days that came since."""
    content = kept(connection)
    if content is None and stale_span(connection, now):  # uploaded before files were kept
        raise SourceError(_("This upload is too old to refresh: upload the file again."))
    connection.synced_at = now
    return _extended(session, settings, connection, content or b"", now)


def _extended(
    session: Session, settings: Settings, connection: Connection, content: bytes, now: datetime
) -> SyncResult:
    """Expand the kept copy over the days ahead the stored span lacks, if any."""
    if not stale_span(connection, now):
        return SyncResult(connection, "unchanged", count_events(session, connection))
    calendar = _read(content, None)
    start = connection.expanded_until or sync_span(now)[0]
    end = stored_span(now)[1]
    _expand(session, settings, connection, calendar, (start, end), now)
    connection.expanded_until = end
    return _noted(
        SyncResult(connection, "updated", count_events(session, connection), calendar.warnings)
    )


def _changed(
    session: Session,
    settings: Settings,
    connection: Connection,
    calendar: IcsCalendar,
    before: bytes | None,
    now: datetime,
) -> SyncResult:
    """Store a changed calendar: its changed series alone while the stored span still serves."""
    until = connection.expanded_until
    fresh = before is not None and until is not None and not stale_span(connection, now)
    changed = _changes(before, calendar) if fresh and before is not None else None
    outcome: Outcome = "unchanged" if changed is not None and not changed.series else "updated"
    if changed is None or until is None:
        span = stored_span(now)
        _expand(session, settings, connection, calendar, span, now)
        connection.expanded_until = span[1]
    elif changed.series:
        span = (stored_span(now)[0], until)
        only = _only(calendar, changed.series)
        _expand(session, settings, connection, only, span, now, series=changed.series)
        calendar.warnings += only.warnings
    return _noted(
        SyncResult(connection, outcome, count_events(session, connection), calendar.warnings)
    )


def _noted(result: SyncResult) -> SyncResult:
    """Keep what the read left out on the connection, for the connect page (issue 8)."""
    result.connection.read_notes = "\n".join(result.notices())
    return result


def _expand(
    session: Session,
    settings: Settings,
    connection: Connection,
    calendar: IcsCalendar,
    span: tuple[datetime, datetime],
    now: datetime,
    *,
    series: set[str] | None = None,
) -> None:
    # The calendar's own zone only matters for floating times; the user's zone is where they live.
    user = connection.user
    start, end = span
    try:  # in a guarded child: no calendar can take the worker down (calendars/guard.py)
        found = calendar.read(start, end, user.zone, user.email.lower(), settings.budget, now)
    except Tripped as tripped:
        raise over_budget(tripped) from None
    store_occurrences(session, connection, found, start, end, series=series)


@dataclass(frozen=True, slots=True)
class Changes:
    """The uids whose components changed, appeared or vanished since the kept copy."""

    series: set[str]


def _changes(before: bytes, calendar: IcsCalendar) -> Changes | None:
    """Compare series by series with the kept copy; None when everything must be read again."""
    try:
        old = IcsCalendar.from_bytes(before)
    except ValueError:
        return None
    old_shared, old_series = _fingerprints(old)
    new_shared, new_series = _fingerprints(calendar)
    if old_shared != new_shared:
        return None  # a time zone or the calendar's properties changed: every series may
    uids = old_series.keys() | new_series.keys()
    return Changes({uid for uid in uids if old_series.get(uid) != new_series.get(uid)})


def _fingerprints(calendar: IcsCalendar) -> tuple[str, dict[str, str]]:
    """Return a digest of what every series shares, and one digest per uid."""
    shared = hashlib.sha256()
    series: dict[str, Any] = defaultdict(hashlib.sha256)
    for found in calendar.calendars:
        shared.update(repr((sorted(found.properties.items()), found.complete)).encode())
        for block in found.blocks:
            digest = shared if block.name == "VTIMEZONE" or not block.uid else series[block.uid]
            for line in block.lines:
                # Many servers stamp every event with the time of the request: no change.
                if not line.upper().startswith(_STAMP):
                    digest.update(line.encode() + b"\n")
    return shared.hexdigest(), {uid: digest.hexdigest() for uid, digest in series.items()}


def _only(calendar: IcsCalendar, uids: set[str]) -> IcsCalendar:
    """Return the calendar with only these series (and every time zone)."""
    return IcsCalendar(
        [
            raw.RawCalendar(
                properties=found.properties,
                blocks=[b for b in found.blocks if b.name == "VTIMEZONE" or b.uid in uids],
                complete=found.complete,
            )
            for found in calendar.calendars
        ]
    )
