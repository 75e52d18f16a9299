"""Connect an ICS feed or an uploaded calendar (no Flask here); service.sources.feeds syncs them.

The caller commits, so one connect or sync is one transaction: on an error it rolls back and
nothing is half-written. Messages name the host of an address, never the address itself: a
secret iCal address is as good as a password. Which syncer serves which kind of connection,
and what a failed sync does to it, is service.sources.sync's to say.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal
from urllib.parse import unquote, urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.adapters.http import (
    FetchError,
    FetchResult,
    MiB,
    RefusedURL,
    TooLarge,
    fetch,
    fetchable_url,
)
from service.adapters.secrets import SecretBox
from service.calendars.guard import Ceiling, Tripped, guarded
from service.calendars.ics import CalendarError, IcsCalendar
from service.config import Settings
from service.engine.i18n import gettext as _
from service.engine.i18n import ngettext
from service.engine.model import Occurrence
from service.models import Connection, StoredOccurrence, User
from service.sources.calendar import store_occurrences, stored_span
from service.sources.kept import keep
from service.sources.schedule import connected, refresh_minutes

log = logging.getLogger(__name__)

MAX_BYTES = 10 * MiB
Outcome = Literal["connected", "updated", "unchanged", "failed", "reading"]
# A last path segment shown in a label: a plain word and a calendar suffix ("basic.ics").
# Anything else may be the secret part of the address, so it is masked.
_PUBLIC_NAME = re.compile(r"[A-Za-z][A-Za-z_-]{0,23}\.(ics|ical|ifb|ifc|vcs)", re.IGNORECASE)
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
# What the reader's warnings say when its budget left something out (calendars/budget.py).
TOO_OFTEN = "more often than anyone meets"
_EVERY = re.compile(r"it repeats (every [a-z0-9 ]+), more often")
_CAPPED = (" times here: kept ", "more than anyone attends in a day")
_STOPPED = ("kept the first ", "stopped reading ")


class SourceError(ValueError):
    """A calendar could not be connected or synced; str() is one sentence for the user."""


class SourceUnavailable(Exception):
    """The source did not answer for now (Google busy or down): a sync later may work."""


@dataclass
class SyncResult:
    """What one connect or sync did, and the reader's warnings to show the user."""

    connection: Connection
    outcome: Outcome
    events: int = 0
    warnings: list[str] = field(default_factory=list)
    error: str = ""
    broken: bool = False  # a failure that stopped the syncing: tell the user
    away: SourceUnavailable | None = None  # a source that did not answer: retry soon

    @property
    def skipped(self) -> int:
        """Return how many broken events the reader left out."""
        return sum(1 for w in self.warnings if w.startswith("skipped ") and TOO_OFTEN not in w)

    def notices(self) -> list[str]:
        """Return the warnings as short sentences that never quote the calendar's text."""
        often = [w for w in self.warnings if TOO_OFTEN in w]
        capped = [
            w for w in self.warnings if any(c in w for c in _CAPPED) or w.startswith(_STOPPED)
        ]
        skipped = self.skipped
        partial = len(self.warnings) - skipped - len(often) - len(capped)
        found = []
        if often:
            every = _EVERY.search(often[0])
            how = f" ({every.group(1)})" if every else ""
            found.append(
                ngettext(
                    "%(num)d event repeats more often than anyone meets%(how)s: skipped.",
                    "%(num)d events repeat more often than anyone meets%(how)s: skipped.",
                    len(often),
                    how=how,
                )
            )
        if capped:
            found.append(
                _("The calendar holds more than Touchpoint reads at once: the rest was left out.")
            )
        if skipped:
            found.append(
                ngettext(
                    "%(num)d broken event was skipped.",
                    "%(num)d broken events were skipped.",
                    skipped,
                )
            )
        if partial:
            found.append(
                ngettext(
                    "%(num)d part of the calendar could not be read.",
                    "%(num)d parts of the calendar could not be read.",
                    partial,
                )
            )
        return found


def _capped(warning: str) -> bool:
    return any(part in warning for part in _CAPPED) or warning.startswith(_STOPPED)


def connect_ics_url(
    session: Session,
    settings: Settings,
    box: SecretBox,
    user: User,
    url: str,
    now: datetime,
    *,
    quick: bool = False,
) -> SyncResult:
    """Fetch and read a calendar address now, then store it (sealed) with its occurrences.

    quick: read for the budget's quick_seconds at most (a web request); a calendar that needs
    longer is stored unread ("reading") for a sync job to read within the full budget.
    """
    try:
        address = fetchable_url(url)
    except RefusedURL as refusal:
        raise SourceError(str(refusal)) from None
    _refuse_twice(session, box, user, address)
    feed = _download(address, settings)
    if quick:
        read = _quick_read(feed.content, _host(address), settings, user, now)
    else:
        read = _full_read(_read(feed.content, _host(address)), settings, user, now)
    connection = Connection(
        user=user, kind="ics_url", label=masked_label(address), secret=box.seal(address)
    )
    connection.refresh_minutes = read.refresh  # REFRESH-INTERVAL, 15 minutes at least
    connected(connection)
    _remember(connection, feed, now)
    session.add(connection)
    session.flush()  # the occurrences need its id
    log.info("user %s connected %s", user.id, connection.label)
    return _stored(session, connection, read, now, "connected")


def connect_ics_upload(
    session: Session,
    settings: Settings,
    user: User,
    filename: str,
    data: bytes,
    now: datetime,
    *,
    quick: bool = False,
) -> SyncResult:
    """Read an uploaded calendar and store its occurrences; the file is kept for re-expanding.

    quick: as for connect_ics_url.
    """
    if len(data) > MAX_BYTES:
        raise SourceError(_("That file is too big (10 MiB at most)."))
    if quick:
        read = _quick_read(data, None, settings, user, now)
    else:
        read = _full_read(_read(data, None), settings, user, now)
    connection = Connection(user=user, kind="ics_upload", label=upload_label(filename))
    connected(connection)
    connection.content_hash, connection.synced_at = _digest(data), now
    connection.content = data
    session.add(connection)
    session.flush()
    return _stored(session, connection, read, now, "connected")


def count_events(session: Session, connection: Connection) -> int:
    """Return how many occurrences are stored for a connection."""
    query = select(func.count()).where(StoredOccurrence.connection_id == connection.id)
    return int(session.scalar(query) or 0)


def masked_label(url: str) -> str:
    """Name an address by its host and, when it looks harmless, its file name."""
    parts = urlsplit(url)
    host = parts.hostname or "calendar"
    segments = [unquote(s) for s in parts.path.split("/") if s]
    if not segments:
        return host
    last = segments[-1]
    if not _PUBLIC_NAME.fullmatch(last):
        return f"{host}/…"
    return f"{host}/{last}" if len(segments) == 1 else f"{host}/…/{last}"


def upload_label(filename: str) -> str:
    """Return the name an uploaded file is shown under: no folders, no control characters."""
    name = re.split(r"[\\/]", filename)[-1]
    name = " ".join(_UNPRINTABLE.sub(" ", name).split())
    return name[:120] or _("uploaded calendar")


def _refuse_twice(session: Session, box: SecretBox, user: User, address: str) -> None:
    """Refuse an address the user already connected: its events would count twice."""
    query = select(Connection).where(Connection.user_id == user.id, Connection.kind == "ics_url")
    for existing in session.scalars(query):
        if _address_of(box, existing) == address:
            raise SourceError(
                _("That calendar is already connected as %(label)s.", label=existing.label)
            )


def _download(
    address: str, settings: Settings, headers: Mapping[str, str] | None = None
) -> FetchResult:
    """Fetch through the SSRF-safe chokepoint, turning its errors into sentences for the user."""
    try:
        return fetch(
            address, allow_networks=settings.allow_networks, max_bytes=MAX_BYTES, headers=headers
        )
    except TooLarge as error:
        raise SourceError(_("That calendar is too big: %(error)s", error=error)) from None
    except RefusedURL as error:
        raise SourceError(
            _("Touchpoint will not fetch that address: %(error)s", error=error)
        ) from None
    except FetchError as error:
        raise SourceError(
            _("That address did not answer with a calendar: %(error)s", error=error)
        ) from None


def _read(data: bytes, host: str | None) -> IcsCalendar:
    """Cut the data into a calendar, or say in one sentence why it is none (host None: a file)."""
    if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"<":
        if host:
            raise SourceError(
                _(
                    "%(host)s sent a web page, not a calendar: use the secret iCal address.",
                    host=host,
                )
            )
        raise SourceError(
            _("That file is a web page, not a calendar: export the calendar as .ics.")
        )
    try:
        return IcsCalendar.from_bytes(data)
    except CalendarError as error:
        raise SourceError(_("That calendar cannot be read: %(error)s.", error=error)) from None


@dataclass
class _Read:
    """What reading a calendar gave: its occurrences over the sync span (None: left for a job,
    too big to read in a request), the warnings, and how often its feed asks to be fetched."""

    occurrences: list[Occurrence] | None
    warnings: list[str] = field(default_factory=list)
    refresh: int = 15


def _store(
    session: Session,
    settings: Settings,
    connection: Connection,
    calendar: IcsCalendar,
    now: datetime,
    outcome: Outcome,
) -> SyncResult:
    """Read the calendar within the full budget and store it (a sync)."""
    return _stored(
        session, connection, _full_read(calendar, settings, connection.user, now), now, outcome
    )


def _full_read(calendar: IcsCalendar, settings: Settings, user: User, now: datetime) -> _Read:
    """Read the sync span under the guard (a child with a time and memory ceiling), in the
    user's time zone; a calendar past the ceiling is a SourceError in plain words."""
    # The calendar's own zone only matters for floating times; the user's zone is where they live.
    start, end = stored_span(now)
    try:
        found = calendar.read(start, end, user.zone, user.email.lower(), settings.budget, now)
    except Tripped as tripped:
        raise over_budget(tripped) from None
    return _Read(found, list(calendar.warnings), refresh_minutes(calendar))


def _quick_read(
    data: bytes, host: str | None, settings: Settings, user: User, now: datetime
) -> _Read:
    """Cut and read the data within the budget's quick_seconds, all of it in the guarded child
    (a 10 MiB file takes longer than that just to cut); a calendar that needs longer is left
    for a sync job, one that is no calendar raises SourceError as at once."""
    seconds = settings.budget.quick_seconds
    quick = replace(settings.budget, seconds=seconds)
    start, end = stored_span(now)
    tz, me = user.zone, user.email.lower()

    def work() -> _Read:
        calendar = _read(data, host)
        found = calendar.occurrences(start, end, tz, me, quick, now)
        return _Read(found, list(calendar.warnings), refresh_minutes(calendar))

    try:
        read = guarded(work, Ceiling(seconds + 0.5, quick.megabytes))
    except Tripped:
        return _Read(None)
    if any(w.startswith(_STOPPED[1]) for w in read.warnings):
        return _Read(None, refresh=read.refresh)
    return read


def _stored(
    session: Session, connection: Connection, read: _Read, now: datetime, outcome: Outcome
) -> SyncResult:
    """Replace the connection's occurrences over the sync span with what was read."""
    if read.occurrences is None:
        return _read_later(connection, now)
    start, end = stored_span(now)
    result = SyncResult(connection, outcome, 0, read.warnings)
    result.events = store_occurrences(session, connection, read.occurrences, start, end)
    connection.expanded_until = end
    connection.read_notes = "\n".join(result.notices())
    return result


def over_budget(tripped: Tripped) -> SourceError:
    """Say in one sentence that a calendar was stopped by the read's ceiling."""
    return SourceError(
        _("That calendar asks for more than Touchpoint reads: %(what)s.", what=tripped)
    )


def _read_later(connection: Connection, now: datetime) -> SyncResult:
    """Leave a calendar too big to read in a request for a sync job, due at once."""
    connection.synced_at, connection.next_sync_at = None, now
    connection.content_hash = ""  # so the job's fetch is read even when unchanged
    connection.expanded_until = stored_span(now)[0]  # nothing stored yet: the whole span is due
    return SyncResult(connection, "reading")


def _remember(connection: Connection, feed: FetchResult, now: datetime) -> None:
    """Keep what makes the next fetch conditional, dropping validators too long to store."""
    etag, modified = feed.etag or "", feed.last_modified or ""
    connection.etag = etag if len(etag) <= 200 else ""
    connection.last_modified = modified if len(modified) <= 100 else ""
    connection.content_hash = _digest(feed.content)
    connection.synced_at = now
    keep(connection, feed.content)  # the next sync asks conditionally, and re-expands from it


def _conditional(connection: Connection) -> dict[str, str]:
    headers = {"If-None-Match": connection.etag, "If-Modified-Since": connection.last_modified}
    return {name: value for name, value in headers.items() if value}


def _opened(box: SecretBox, connection: Connection) -> str:
    if (address := _address_of(box, connection)) is None:
        raise SourceError(_("The saved address can no longer be read (its key was retired)."))
    return address


def _address_of(box: SecretBox, connection: Connection) -> str | None:
    """Return the sealed address of a connection, or None when no configured key opens it."""
    try:
        return box.open(connection.secret or b"")
    except ValueError:
        return None


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _host(url: str) -> str:
    return urlsplit(url).hostname or "the calendar server"
