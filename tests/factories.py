"""Fixed personas and builders for tests: alice is the user, bob her manager, carol a peer."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from service.engine.model import Attendee, Occurrence, Profile

BERLIN = ZoneInfo("Europe/Berlin")
ALICE = "alice@example.com"
BOB = "bob@example.com"  # alice's manager
CAROL = "carol@example.com"  # a peer on alice's team
DAN = "dan@example.com"  # another colleague, cross-team
ERIN = "erin@partner.org"  # someone outside the company

# Frozen "now": Monday 2026-03-02 08:00 in Berlin.
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=BERLIN)


def alice(**changes: object) -> Profile:
    """Return alice's profile, with any field changed."""
    fields: dict[str, object] = {"me": ALICE, "tz": BERLIN, "manager": BOB}
    fields.update(changes)
    return Profile(**fields)  # type: ignore[arg-type]


def person(email: str, status: str = "accepted", cutype: str = "individual") -> Attendee:
    return Attendee(email=email, name=email.split("@")[0].title(), status=status, cutype=cutype)


def meeting(
    title: str,
    start: datetime | date,
    minutes: int = 30,
    with_: tuple[str, ...] = (BOB,),
    *,
    uid: str | None = None,
    organizer: str = ALICE,
    my_response: str | None = "accepted",
    **changes: object,
) -> Occurrence:
    """Return an occurrence alice attends with the given people (she is always listed)."""
    if isinstance(start, datetime):
        end: datetime | date = start + timedelta(minutes=minutes)
        all_day = False
    else:
        end, all_day = start + timedelta(days=1), True
    attendees = (person(ALICE, my_response or "needs-action"), *(person(e) for e in with_))
    fields: dict[str, object] = {
        "uid": uid or f"{title}-{start.isoformat()}@test",
        "start": start,
        "end": end,
        "title": title,
        "all_day": all_day,
        "organizer": organizer,
        "attendees": attendees,
        "my_response": my_response,
    }
    fields.update(changes)
    return Occurrence(**fields)  # type: ignore[arg-type]


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    """Return a Berlin time in 2026 (March by default)."""
    return datetime(2026, month, day, hour, minute, tzinfo=BERLIN)
