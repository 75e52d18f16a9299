"""Google Calendar as a calendar source: store a grant, sync its events, revoke the grant.

Each event is written as a VEVENT (service.calendars.google_events) and expanded by the same
reader as an ICS feed: both sources agree on every recurrence rule and time zone.

How a sync decides what to do (a trade-off, kept simple on purpose): an incremental sync (the
stored sync token) tells which events changed, but re-expanding a changed series needs the whole
series, and a moved instance needs its series too. Rather than keep every series here, a sync
asks Google for changes and, when there are none and the stored span has not moved (a new day
brings new instances into it), rewrites nothing; otherwise it lists the span again in full and
re-expands everything. A 410 (token too old) is the same full list. The workers issue may keep
the series locally to patch them instead.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from google.oauth2.credentials import Credentials
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.adapters.google import (
    CredentialsRevoked,
    GoogleError,
    PermanentGoogleError,
    SyncTokenExpired,
    TransientGoogleError,
    build_calendar_service,
    credentials_from_refresh_token,
    list_events,
    revoke,
)
from service.adapters.google.client import Service
from service.adapters.secrets import SecretBox
from service.calendars.google_events import to_icalendar
from service.calendars.guard import Tripped
from service.calendars.ics import CalendarError, IcsCalendar
from service.config import Settings
from service.engine.i18n import N_
from service.engine.i18n import gettext as _
from service.models import Connection, User
from service.sources.calendar import stale_span, store_occurrences, stored_span
from service.sources.connect import (
    Outcome,
    SourceError,
    SourceUnavailable,
    SyncResult,
    count_events,
    over_budget,
)
from service.sources.schedule import connected

log = logging.getLogger(__name__)

REVOKED = N_("Google access was revoked: reconnect")
PERMISSIONS_PAGE = "https://myaccount.google.com/permissions"
REVOKE_FAILED = N_(
    "Google could not be reached to withdraw Touchpoint's access to your calendar. "
    "Remove it yourself at %(url)s"
)


class GoogleUnavailable(SourceUnavailable, TransientGoogleError):
    """Google did not answer a sync for now: a source away, and still a transient Google error."""


def save_connection(
    session: Session, box: SecretBox, user: User, email: str, refresh_token: str, scopes: set[str]
) -> Connection:
    """Store a grant as the user's connection to that Google account, renewing an earlier one.

    Only the refresh token is kept, sealed: a credentials blob would embed the client secret.
    """
    label = email.strip().lower()
    mine = select(Connection).where(Connection.user_id == user.id, Connection.kind == "google")
    connection = session.scalars(mine.where(Connection.label == label)).first()
    if connection is None:
        connection = Connection(user=user, kind="google", label=label)
        session.add(connection)
    connection.secret = box.seal(refresh_token)
    connection.scopes = " ".join(sorted(scopes))
    connection.sync_token = ""
    connection.access_token, connection.access_token_expires_at = None, None
    connected(connection)
    # A new grant: the old one's push channel no longer applies.
    connection.channel_expires_at = None
    connection.channel_id = connection.channel_resource_id = connection.channel_token = ""
    session.flush()
    return connection


def sync_google(
    session: Session, settings: Settings, box: SecretBox, connection: Connection, now: datetime
) -> SyncResult:
    """Sync a Google connection: nothing when nothing changed, else the whole span again.

    Raises SourceError when the grant is gone or Google refuses for good (sync_connection then
    marks the connection broken with the reason), GoogleUnavailable when Google is away for now.
    """
    try:
        service = calendar_service(settings, box, connection)
        if _unchanged(service, connection, now):
            connection.synced_at = now
            return SyncResult(connection, "unchanged", count_events(session, connection))
        return _full_sync(session, service, connection, now)
    except CredentialsRevoked:
        raise SourceError(_(REVOKED)) from None
    except PermanentGoogleError as error:
        raise SourceError(
            _("Google refused to share the calendar: %(error)s", error=error)
        ) from None
    except TransientGoogleError as error:
        message = _("Google is unavailable for now (%(error)s).", error=error)
        raise GoogleUnavailable(message, status=error.status, reason=error.reason) from error


def revoke_grant(settings: Settings, box: SecretBox, connection: Connection) -> bool:
    """Withdraw Touchpoint's access at Google, before a connection or account is deleted.

    Returns False when Google could not be told: deleting goes on, and the user is asked to
    remove the access themselves (REVOKE_FAILED).
    """
    if connection.secret is None:
        return True  # no grant was ever stored
    try:
        revoke(box.open(connection.secret), revoke_uri=settings.google.revoke_uri)
    except (GoogleError, ValueError) as error:  # ValueError: sealed with a retired key
        log.warning("could not revoke the Google grant of connection %s: %s", connection.id, error)
        return False
    return True


def revoke_grants(
    settings: Settings, box: SecretBox, connections: Iterable[Connection]
) -> list[str]:
    """Withdraw every Google grant among connections; return the labels Google was not told of."""
    google = [connection for connection in connections if connection.kind == "google"]
    return [c.label or "Google Calendar" for c in google if not revoke_grant(settings, box, c)]


def calendar_service(settings: Settings, box: SecretBox, connection: Connection) -> Service:
    """Return a Calendar API client acting for a Google connection (the sync, the booking)."""
    endpoint = settings.google.api_endpoint or None
    return build_calendar_service(_credentials(settings, box, connection), endpoint=endpoint)


def _credentials(settings: Settings, box: SecretBox, connection: Connection) -> Credentials:
    try:
        refresh_token = box.open(connection.secret or b"")
    except ValueError:  # sealed with a key no longer configured: as good as revoked
        raise CredentialsRevoked("the saved Google access can no longer be read") from None

    def remember(token: str, expires_at: datetime) -> None:
        # Saved with the job's transaction: the next sync within the hour refreshes nothing.
        connection.access_token = box.seal(token)
        connection.access_token_expires_at = expires_at

    token, expires_at = _access_token(box, connection)
    return credentials_from_refresh_token(
        refresh_token,
        client_id=settings.google.client_id,
        client_secret=settings.google.client_secret,
        token_uri=settings.google.token_uri,
        scopes=connection.scopes.split(),  # the granted ones: asking for more is refused
        access_token=token,
        expires_at=expires_at,
        on_refresh=remember,
    )


def _access_token(box: SecretBox, connection: Connection) -> tuple[str | None, datetime | None]:
    """Return the kept access token and when it expires, if it can still be used."""
    expires_at = connection.access_token_expires_at
    if connection.access_token is None or expires_at is None:
        return None, None
    try:
        return box.open(connection.access_token), expires_at
    except ValueError:  # sealed with a retired key: fetch a new one
        return None, None


def _unchanged(service: Service, connection: Connection, now: datetime) -> bool:
    """Ask Google for changes since the last sync; True (keeping the new token) if none."""
    last = connection.synced_at
    if not connection.sync_token or last is None:
        return False
    if stale_span(connection, now):
        return False  # the days stored ahead run short: list the span again (about weekly)
    try:
        changes, token = list_events(service, sync_token=connection.sync_token)
    except SyncTokenExpired:
        return False  # Google forgot where we were: list everything again
    if changes:
        return False
    connection.sync_token = token
    return True


def _full_sync(
    session: Session, service: Service, connection: Connection, now: datetime
) -> SyncResult:
    """List the stored span at Google and replace what the connection stored with it."""
    start, end = stored_span(now)
    # The same singleEvents (False) as every incremental sync, as Google requires.
    events, token = list_events(service, time_min=start, time_max=end, single_events=False)
    text, skipped = to_icalendar(events)
    try:
        calendar = IcsCalendar.from_bytes(text)
    except CalendarError as error:  # only on text we wrote ourselves: a bug, said plainly
        raise SourceError(
            _("The Google calendar could not be read: %(error)s.", error=error)
        ) from None
    tz = connection.user.zone
    try:
        found = calendar.read(start, end, tz, connection.label.lower(), focus=now)
    except Tripped as tripped:
        raise over_budget(tripped) from None
    kept = [occurrence for occurrence in found if not occurrence.cancelled]
    stored = store_occurrences(session, connection, kept, start, end)
    outcome: Outcome = "connected" if connection.synced_at is None else "updated"
    connection.sync_token, connection.synced_at = token, now
    connection.expanded_until = end
    return SyncResult(connection, outcome, stored, [*skipped, *calendar.warnings])
