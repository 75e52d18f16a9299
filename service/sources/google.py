"""Google Calendar as a calendar source: store a grant, sync its events, revoke it on disconnect.

Google's event JSON already speaks RFC 5545 for what is hard (RRULE, EXDATE and RDATE lines;
changed and cancelled instances keyed by their original start), so each event is written as a
VEVENT with the icalendar library (which escapes hostile text) and expanded by the same reader as
an ICS feed: both sources agree on every recurrence rule and time zone.

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
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

import icalendar
from google.oauth2.credentials import Credentials
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.adapters.google import (
    CredentialsRevoked,
    GoogleError,
    PermanentGoogleError,
    SyncTokenExpired,
    build_calendar_service,
    credentials_from_refresh_token,
    list_events,
    revoke,
)
from service.adapters.google.client import Service
from service.adapters.secrets import SecretBox
from service.calendars.convert import clean
from service.calendars.ics import CalendarError, IcsCalendar
from service.calendars.zones import resolve_zone
from service.config import Settings
from service.models import Connection, User
from service.sources.calendar import store_occurrences, sync_span
from service.sources.connect import Outcome, SourceError, SyncResult, count_events

log = logging.getLogger(__name__)

Event = Mapping[str, Any]
REVOKED = "Google access was revoked: reconnect"
PERMISSIONS_PAGE = "https://myaccount.google.com/permissions"
REVOKE_FAILED = (
    "Google could not be reached to withdraw Touchpoint's access to your calendar. "
    f"Remove it yourself at {PERMISSIONS_PAGE}"
)
_PARTSTAT = {
    "accepted": "ACCEPTED",
    "declined": "DECLINED",
    "tentative": "TENTATIVE",
    "needsAction": "NEEDS-ACTION",
}
_RECURRENCE = ("RRULE", "EXRULE", "RDATE", "EXDATE")
# Entries Google keeps on a calendar that are no meeting: where you work today, birthdays.
_NOT_MEETINGS = frozenset({"workingLocation", "birthday"})
_UNREADABLE = (KeyError, TypeError, ValueError, AttributeError)


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
    connection.status, connection.last_error, connection.sync_token = "ok", "", ""
    # A new grant: the old one's push channel and "we told you it broke" no longer apply.
    connection.broken_notified_at = connection.channel_expires_at = None
    connection.channel_id = connection.channel_resource_id = connection.channel_token = ""
    session.flush()
    return connection


def sync_google(
    session: Session, settings: Settings, box: SecretBox, connection: Connection, now: datetime
) -> SyncResult:
    """Sync a Google connection: nothing when nothing changed, else the whole span again.

    Raises SourceError when the grant is gone or Google refuses for good (sync_connection then
    marks the connection broken with the reason); transient errors propagate to be retried.
    """
    try:
        service = calendar_service(settings, box, connection)
        if _unchanged(service, connection, now):
            connection.synced_at = now
            return SyncResult(connection, "unchanged", count_events(session, connection))
        return _full_sync(session, service, connection, now)
    except CredentialsRevoked:
        raise SourceError(REVOKED) from None
    except PermanentGoogleError as error:
        raise SourceError(f"Google refused to share the calendar: {error}") from None


def revoke_grant(
    session: Session, settings: Settings, box: SecretBox, connection: Connection
) -> str | None:
    """Withdraw Touchpoint's access at Google before the connection is deleted.

    Deleting goes on when Google cannot be told; the returned notice then asks the user to
    remove the access themselves.
    """
    try:
        revoke(box.open(connection.secret or b""), revoke_uri=settings.google.revoke_uri)
    except (GoogleError, ValueError) as error:  # ValueError: sealed with a retired key
        log.warning("could not revoke the Google grant of connection %s: %s", connection.id, error)
        return REVOKE_FAILED
    return None


def calendar_service(settings: Settings, box: SecretBox, connection: Connection) -> Service:
    """Return a Calendar API client acting for a Google connection (the sync, the booking)."""
    endpoint = settings.google.api_endpoint or None
    return build_calendar_service(_credentials(settings, box, connection), endpoint=endpoint)


def _credentials(settings: Settings, box: SecretBox, connection: Connection) -> Credentials:
    try:
        refresh_token = box.open(connection.secret or b"")
    except ValueError:  # sealed with a key no longer configured: as good as revoked
        raise CredentialsRevoked("the saved Google access can no longer be read") from None
    return credentials_from_refresh_token(
        refresh_token,
        client_id=settings.google.client_id,
        client_secret=settings.google.client_secret,
        token_uri=settings.google.token_uri,
        scopes=connection.scopes.split(),  # the granted ones: asking for more is refused
    )


def _unchanged(service: Service, connection: Connection, now: datetime) -> bool:
    """Ask Google for changes since the last sync; True (keeping the new token) if none."""
    last = connection.synced_at
    if not connection.sync_token or last is None:
        return False
    if sync_span(last.astimezone(now.tzinfo)) != sync_span(now):
        return False  # the span moved: new days need expanding whatever changed
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
    start, end = sync_span(now)
    # The same singleEvents (False) as every incremental sync, as Google requires.
    events, token = list_events(service, time_min=start, time_max=end, single_events=False)
    text, skipped = to_icalendar(events)
    try:
        calendar = IcsCalendar.from_bytes(text)
    except CalendarError as error:  # only on text we wrote ourselves: a bug, said plainly
        raise SourceError(f"The Google calendar could not be read: {error}.") from None
    tz = connection.user.zone
    found = calendar.occurrences(start, end, tz, connection.label.lower())
    kept = [occurrence for occurrence in found if not occurrence.cancelled]
    stored = store_occurrences(session, connection, kept, start, end)
    outcome: Outcome = "connected" if connection.synced_at is None else "updated"
    connection.sync_token, connection.synced_at = token, now
    return SyncResult(connection, outcome, stored, [*skipped, *calendar.warnings])


def to_icalendar(events: Iterable[Event]) -> tuple[bytes, list[str]]:
    """Write Google events as one iCalendar text; return it and a warning per event left out."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Touchpoint//Google Calendar//EN")
    calendar.add("version", "2.0")
    warnings = []
    for event in events:
        try:
            component = vevent(event)
        except _UNREADABLE:
            title = clean(str(event.get("summary", "")), 60) or str(event.get("id", ""))[:60]
            warnings.append(f"skipped event {title!r}: its times cannot be read")
            continue
        if component is not None:
            calendar.add_component(component)
    return calendar.to_ical(), warnings


def vevent(event: Event) -> icalendar.Event | None:
    """Return a Google event as a VEVENT: a series with its rules, an instance as an override."""
    if event.get("eventType") in _NOT_MEETINGS:
        return None
    instance = "recurringEventId" in event
    cancelled = event.get("status") == "cancelled"
    if cancelled and not instance:
        return None  # a deleted event: nothing left to expand
    component = icalendar.Event()
    component.add("uid", str(event["recurringEventId"] if instance else event["id"]))
    if instance:
        component.add("recurrence-id", _when(event["originalStartTime"]))
    if cancelled:  # Google sends little more than which instance it was
        component.add("dtstart", _when(event["originalStartTime"]))
        component.add("status", "CANCELLED")
        return component
    component.add("dtstart", _when(event["start"]))
    component.add("dtend", _when(event["end"]))
    _describe(component, event)
    _recur(component, event.get("recurrence", []))
    return component


def _describe(component: icalendar.Event, event: Event) -> None:
    """Add what the engine reads: title, place, status, busy or free, people and answers."""
    component.add("summary", clean(str(event.get("summary", "")), 255))
    if location := clean(str(event.get("location", "")), 255):
        component.add("location", location)
    tentative = event.get("status") == "tentative"
    component.add("status", "TENTATIVE" if tentative else "CONFIRMED")
    free = event.get("transparency") == "transparent"
    component.add("transp", "TRANSPARENT" if free else "OPAQUE")
    if organizer := _address(event.get("organizer", {}), {}):
        component.add("organizer", organizer)
    for person in event.get("attendees", []):
        if attendee := _address(person, _attendance(person)):
            component.add("attendee", attendee)


def _attendance(person: Mapping[str, Any]) -> dict[str, str]:
    status = _PARTSTAT.get(str(person.get("responseStatus")), "NEEDS-ACTION")
    params = {"PARTSTAT": status}
    if person.get("resource"):
        params["CUTYPE"] = "RESOURCE"
    if person.get("optional"):
        params["ROLE"] = "OPT-PARTICIPANT"
    return params


def _address(person: Mapping[str, Any], params: Mapping[str, str]) -> icalendar.vCalAddress | None:
    email = clean(str(person.get("email", "")), 254).replace(" ", "")
    if "@" not in email:
        return None
    address = icalendar.vCalAddress(f"mailto:{email}")
    if name := clean(str(person.get("displayName", "")), 200):
        address.params["CN"] = name
    address.params.update(params)
    return address


def _recur(component: icalendar.Event, lines: Iterable[str]) -> None:
    """Copy Google's RRULE/EXDATE/RDATE lines, parsed one by one; unreadable ones are left out."""
    for line in lines:
        name = str(line).split(":", 1)[0].split(";", 1)[0].upper()
        if name not in _RECURRENCE or not str(line).isprintable():
            continue  # a line break would let one line smuggle in others
        parsed = icalendar.Event.from_ical(f"BEGIN:VEVENT\r\n{line}\r\nEND:VEVENT\r\n")
        if not parsed.errors and name in parsed:
            component.add(name, parsed[name])


def _when(value: Mapping[str, str]) -> date | datetime:
    """Return a Google start or end: a date (all day) or a time in the event's own zone."""
    if "dateTime" not in value:
        return date.fromisoformat(value["date"])
    moment = datetime.fromisoformat(value["dateTime"])
    zone = resolve_zone(str(value.get("timeZone") or "")) or UTC
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment.astimezone(zone)
