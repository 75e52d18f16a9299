"""Plain data the engine works on: occurrences in, touchpoints, notes and proposals out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

Kind = Literal["meal", "coffee", "one_on_one", "project", "career"]
KINDS: tuple[Kind, ...] = ("meal", "coffee", "one_on_one", "project", "career")

Stage = Literal["new_project", "internal_move", "external_move", "growth"]
STAGES: tuple[Stage, ...] = ("new_project", "internal_move", "external_move", "growth")

# The owner's own answer to an invitation (PARTSTAT, lower-cased).
Response = Literal["accepted", "tentative", "declined", "needs-action", "delegated"]


@dataclass(frozen=True, slots=True)
class Attendee:
    """One person (or room) on an occurrence."""

    email: str
    name: str = ""
    status: str = "needs-action"
    cutype: str = "individual"
    role: str = "req-participant"

    @property
    def is_person(self) -> bool:
        return self.cutype in ("individual", "unknown", "")


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One concrete instance of a calendar event, times zone-aware (or dates when all-day)."""

    uid: str
    start: datetime | date
    end: datetime | date
    title: str
    all_day: bool = False
    location: str = ""
    description: str = ""
    organizer: str = ""
    attendees: tuple[Attendee, ...] = ()
    status: str = "confirmed"
    transparent: bool = False
    component: str = "VEVENT"
    recurring: bool = False
    my_response: str | None = None

    @property
    def duration(self) -> timedelta:
        return _as_datetime(self.end) - _as_datetime(self.start)

    @property
    def cancelled(self) -> bool:
        return self.status == "cancelled"

    def starts_at(self, tz: ZoneInfo) -> datetime:
        """Return the start as an aware datetime (midnight in tz for all-day events)."""
        return to_datetime(self.start, tz)

    def ends_at(self, tz: ZoneInfo) -> datetime:
        return to_datetime(self.end, tz)


def _as_datetime(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.combine(value, time())


def to_datetime(value: datetime | date, tz: ZoneInfo) -> datetime:
    """Return value as an aware datetime; a date becomes midnight in tz."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    return datetime.combine(value, time(), tzinfo=tz)


@dataclass(frozen=True, slots=True)
class WorkingHours:
    """When the user is willing to be booked, in their own time zone."""

    start: time = time(9, 0)
    end: time = time(17, 30)
    days: frozenset[int] = frozenset(range(5))  # Monday == 0


@dataclass(frozen=True, slots=True)
class Profile:
    """Who the user is and what they want, as the engine needs it."""

    me: str
    tz: ZoneInfo
    manager: str = ""
    stage: Stage = "growth"
    goal: str = ""
    hours: WorkingHours = field(default_factory=WorkingHours)
    ideal_days: int = 45
    max_days: int = 60
    never_suggest: frozenset[str] = frozenset()
    # Marks the user gave by hand: uid -> kind, or None for "not a touchpoint".
    overrides: tuple[tuple[str, Kind | None], ...] = ()

    @property
    def domain(self) -> str:
        return self.me.rpartition("@")[2].lower() if "@" in self.me else ""


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the classifier thinks of one occurrence: a kind or None, with its reasons."""

    kind: Kind | None
    score: float
    reasons: tuple[str, ...]
    people: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PrepNote:
    subject: str
    text: str
    person: str = ""  # whom the note is about (an address), "" for nobody in particular
    prompts: tuple[str, ...] = ()  # the question bank's keys it used, so none repeats soon


@dataclass(frozen=True, slots=True)
class Touchpoint:
    """An occurrence that is a good moment for a career conversation."""

    occurrence: Occurrence
    kind: Kind
    score: float
    reasons: tuple[str, ...]
    people: tuple[str, ...]
    note: PrepNote | None = None
    # A touchpoint beyond the notes' horizon that will get a note: when it comes within it.
    note_from: datetime | None = None


@dataclass(frozen=True, slots=True)
class Slot:
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Proposal:
    """A suggested 15-minute career chat in one slot."""

    start: datetime
    end: datetime
    partner: str | None
    reason: str

    @property
    def minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)


@dataclass(frozen=True, slots=True)
class Cadence:
    """How long since the last career conversation, and whether one is due."""

    last: datetime | None
    days_since: int | None
    due: bool
    booked_ahead: datetime | None = None


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime
    end: datetime

    def overlaps(self, start: datetime, end: datetime) -> bool:
        if end <= start:  # zero-length events count when they sit inside the window
            return self.start <= start < self.end
        return start < self.end and end > self.start
