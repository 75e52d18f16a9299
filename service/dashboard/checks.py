"""Does a connected calendar look like the user's own, current calendar? What to tell them if not.

Read from what was stored (one user's rows, a bounded sample), never by fetching again, so the
check is cheap enough for every page that shows a calendar. The templates turn a finding into a
sentence with what to do.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, defer

from service.models import Connection, StoredOccurrence

Problem = Literal["empty", "old", "stale", "not_yours"]
SAMPLE = 200  # the latest meetings with other people looked at for the owner
MIN_MEETINGS = 5  # fewer meetings with others than this say nothing about the owner
OWNER_SHARE = 0.6  # someone else on this share of the meetings looks like the owner
_DTSTART = re.compile(rb"\nDTSTART[^:\r\n]*:(\d{8})")


@dataclass(frozen=True, slots=True)
class Finding:
    """What the check found about one connection."""

    connection: Connection
    events: int
    problem: Problem | None = None
    latest: date | None = None  # the last event on it (for "old" and "stale")
    owner: str = ""  # whose calendar it looks like (for "not_yours")


def check_calendars(session: Session, user_id: int, me: str, now: datetime) -> list[Finding]:
    """Return a finding for each of the user's connections, oldest first."""
    # The kept upload (up to 10 MiB) is read only when a check needs it: deferred.
    query = (
        select(Connection).where(Connection.user_id == user_id).options(defer(Connection.content))
    )
    connections = session.scalars(query.order_by(Connection.created_at, Connection.id)).all()
    totals = _totals(session, user_id, now)
    return [check_one(session, c, totals.get(c.id, (0, None, 0)), me) for c in connections]


def _totals(
    session: Session, user_id: int, now: datetime
) -> dict[int, tuple[int, datetime | None, int]]:
    """Return per connection: how many events, the latest start, how many are still to come."""
    ahead = func.sum(case((StoredOccurrence.start >= now, 1), else_=0))
    query = (
        select(
            StoredOccurrence.connection_id, func.count(), func.max(StoredOccurrence.start), ahead
        )
        .where(StoredOccurrence.user_id == user_id)
        .group_by(StoredOccurrence.connection_id)
    )
    return {
        cid: (int(n), latest, int(later or 0)) for cid, n, latest, later in session.execute(query)
    }


def check_one(
    session: Session, connection: Connection, totals: tuple[int, datetime | None, int], me: str
) -> Finding:
    """Return what is wrong with one connection, if anything a user should hear about."""
    events, latest, ahead = totals
    if connection.status != "ok" or connection.synced_at is None:
        return Finding(connection, events)  # the connect page says why it is not syncing
    if events == 0:
        found = latest_in_file(connection.content)
        return Finding(connection, 0, "old" if found else "empty", found)
    if ahead == 0:
        return Finding(connection, events, "stale", _day(latest))
    owner = owner_if_not(session, connection, me)
    if owner:
        return Finding(connection, events, "not_yours", owner=owner)
    return Finding(connection, events)


def latest_in_file(content: bytes | None) -> date | None:
    """Return the date of the last event start in a kept upload, or None (none, or no file)."""
    if not content:
        return None
    stamps = _DTSTART.findall(content.replace(b"\r\n", b"\n"))
    days = [_parse_day(s) for s in stamps]
    return max((d for d in days if d is not None), default=None)


def _parse_day(stamp: bytes) -> date | None:
    try:
        return datetime.strptime(stamp.decode(), "%Y%m%d").date()
    except ValueError:
        return None


def _day(moment: datetime | None) -> date | None:
    if moment is None:
        return None
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).date()


def owner_if_not(session: Session, connection: Connection, me: str) -> str:
    """Return whose calendar this looks like when the user is on none of its meetings, else ""."""
    query = (
        select(StoredOccurrence.organizer, StoredOccurrence.attendees)
        # The user's (user_id, start) index, read from the latest: 200 rows, not the calendar.
        .where(StoredOccurrence.user_id == connection.user_id)
        .where(StoredOccurrence.connection_id == connection.id)
        .order_by(StoredOccurrence.start.desc())
        .limit(SAMPLE)
    )
    rows = [
        (_people(organizer, attendees), organizer)
        for organizer, attendees in session.execute(query)
    ]
    meetings = [
        (people, (organizer or "").lower()) for people, organizer in rows if len(people) > 1
    ]
    return likely_owner(meetings, me.lower())


def _people(organizer: str, attendees: Sequence[dict[str, Any]]) -> set[str]:
    found = {str(a.get("email", "")).lower() for a in attendees or ()}
    found.add((organizer or "").lower())
    return {e for e in found if "@" in e}


def likely_owner(meetings: Sequence[tuple[set[str], str]], me: str) -> str:
    """Return who is on most meetings (the organiser first among equals) when the user is on
    none of them, else ""."""
    if len(meetings) < MIN_MEETINGS or any(me in people for people, _ in meetings):
        return ""
    on = Counter(e for people, _ in meetings for e in people)
    organised = Counter(organizer for _, organizer in meetings)
    owner = max(on, key=lambda e: (on[e], organised[e], e))
    return owner if on[owner] >= OWNER_SHARE * len(meetings) else ""


def problems(findings: Sequence[Finding]) -> list[Finding]:
    return [f for f in findings if f.problem is not None]
