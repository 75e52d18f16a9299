"""What the dashboard tells a user about their calendar: cadence clock, people mix, days ahead.

Plain functions of engine data and "now" (passed in), and the few queries the dashboard needs,
each scoped to one user: no Flask, no clock.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import chain
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.engine import dates
from service.engine.i18n import N_
from service.engine.i18n import gettext as _
from service.engine.model import Cadence, Kind, Occurrence, PrepNote, Profile, Touchpoint
from service.engine.people import display_name
from service.engine.plan import Judge
from service.engine.relations import is_person_address
from service.models import Connection, Proposal

YEAR_DAYS = 365
CATEGORIES = ("manager", "peers", "mentors", "cross_team", "external")
# In English here (N_ marks them for the catalog): the pages translate them where they show them.
CATEGORY_LABELS = {"manager": N_("Manager"), "peers": N_("Peers"), "mentors": N_("Mentors"),
                   "cross_team": N_("Cross-team"), "external": N_("External")}  # fmt: skip
KIND_LABELS = {"meal": N_("Meal"), "coffee": N_("Coffee"), "one_on_one": N_("1:1"),
               "project": N_("Project"), "career": N_("Career conversation")}  # fmt: skip


@dataclass(frozen=True, slots=True)
class PersonCount:
    """Someone the user met, how to call them, and in how many touchpoints."""

    email: str
    name: str
    count: int


@dataclass(frozen=True, slots=True)
class Clock:
    """The cadence clock as the dashboard shows it."""

    last: datetime | None
    days_since: int | None
    ideal_days: int
    max_days: int
    due: bool
    booked_ahead: datetime | None

    @property
    def ideally_by(self) -> datetime | None:
        return self.last + timedelta(days=self.ideal_days) if self.last else None

    @property
    def at_latest_by(self) -> datetime | None:
        return self.last + timedelta(days=self.max_days) if self.last else None

    @property
    def gauge(self) -> int:
        """Return the days to show on a bar that ends at max_days."""
        return min(self.days_since, self.max_days) if self.days_since is not None else 0


@dataclass(frozen=True, slots=True)
class SeriesRow:
    """A recurring meeting as one row: its next occurrence, the note of its week, how many more."""

    occurrence: Occurrence
    kind: Kind
    score: float
    reasons: tuple[str, ...]
    people: tuple[str, ...]
    note: PrepNote | None
    repeats: int  # further occurrences in the window after this one
    until: str  # the day of the last of them: "Fri 13 Mar"


def series_rows(
    touchpoints: Sequence[Touchpoint], profile: Profile
) -> list[Touchpoint | SeriesRow]:
    """Return the touchpoints in order with each recurring series folded into its next one."""
    series: dict[str | int, list[Touchpoint]] = {}
    for tp in sorted(touchpoints, key=lambda t: _start(t, profile)):
        series.setdefault(tp.occurrence.uid if tp.occurrence.recurring else id(tp), []).append(tp)
    rows: list[Touchpoint | SeriesRow] = []
    for group in series.values():
        first = group[0]
        if len(group) == 1:
            rows.append(first)
            continue
        note = next((tp.note for tp in group if tp.note is not None), None)
        until = dates.short_date(_start(group[-1], profile).astimezone(profile.tz))
        rows.append(SeriesRow(first.occurrence, first.kind, first.score, first.reasons,
                              first.people, note, len(group) - 1, until))  # fmt: skip
    return sorted(rows, key=lambda r: r.occurrence.starts_at(profile.tz).astimezone(UTC))


def touchpoints_of(occurrences: Iterable[Occurrence], profile: Profile) -> list[Touchpoint]:
    """Classify occurrences (the user's marks included) and keep the touchpoints.

    Once per component: a year of a weekly meeting is judged once (plan.Judge).
    """
    judge = Judge(profile)
    found = []
    for occ in occurrences:
        v = judge.verdict(occ)
        if v.kind is not None:
            found.append(Touchpoint(occ, v.kind, v.score, v.reasons, v.people))
    return found


def between(
    touchpoints: Iterable[Touchpoint], profile: Profile, start: datetime, end: datetime
) -> list[Touchpoint]:
    """Return the touchpoints starting in [start, end), in order."""
    inside = [t for t in touchpoints if start <= _start(t, profile) < end]
    return sorted(inside, key=lambda t: _start(t, profile))


def past_year(
    touchpoints: Iterable[Touchpoint], profile: Profile, now: datetime
) -> list[Touchpoint]:
    return between(touchpoints, profile, now - timedelta(days=YEAR_DAYS), now)


def people_mix(
    touchpoints: Sequence[Touchpoint], profile: Profile, now: datetime
) -> dict[str, int]:
    """Count, per category, the meetings with people in the year before now."""
    people = people_by_category(touchpoints, profile, now)
    return {category: sum(p.count for p in people[category]) for category in CATEGORIES}


def people_by_category(
    touchpoints: Sequence[Touchpoint], profile: Profile, now: datetime
) -> dict[str, list[PersonCount]]:
    """Group the people met in the year before now by category, most met first.

    Each person falls in one category, the first that fits: manager, mentors (career
    conversations other than with the manager), external (another domain), peers (a
    colleague on a shared project touchpoint), cross-team (any other colleague).
    """
    year = past_year(touchpoints, profile, now)
    return Tally.of(year, (t.occurrence for t in year), profile).by_category(profile)


@dataclass(slots=True)
class Tally:
    """What some days of touchpoints add up to, as the people mix, the cards, the clock and
    the year strip read it; Tally.total adds days up (service.dashboard.past keeps one a day).

    mix/mentors/peers: the people-mix addresses (people only) and their meetings; met/
    career_with/worked_with: the cards' addresses; careers: when each career conversation
    started (the user's zone); names: the names calendars give people in every event of those
    days, touchpoint_names in their touchpoints only (the first seen wins).
    """

    mix: Counter[str] = field(default_factory=Counter)
    mentors: set[str] = field(default_factory=set)
    peers: set[str] = field(default_factory=set)
    met: Counter[str] = field(default_factory=Counter)
    career_with: dict[str, datetime] = field(default_factory=dict)
    worked_with: set[str] = field(default_factory=set)
    careers: list[datetime] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    touchpoint_names: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(
        cls, touchpoints: Sequence[Touchpoint], occurrences: Iterable[Occurrence], profile: Profile
    ) -> Tally:
        """Return the tally of these touchpoints (in order) and the names in occurrences."""
        tally = cls(names=directory(occurrences))
        tally.touchpoint_names = directory(t.occurrence for t in touchpoints)
        for t in touchpoints:
            people, cards = _others(t, profile), card_people(t, profile)
            tally.mix.update(people)
            tally.met.update(cards)
            if t.kind == "career":
                start = t.occurrence.starts_at(profile.tz).astimezone(profile.tz)
                tally.mentors |= people
                tally.careers.append(start)
                tally.add_career(cards, start)
            elif t.kind == "project":
                tally.peers |= people
                tally.worked_with |= cards
        return tally

    def add_career(self, people: Iterable[str], start: datetime) -> None:
        """Remember a career conversation with these people, if it is their latest."""
        for email in people:
            if email not in self.career_with or start > self.career_with[email]:
                self.career_with[email] = start

    def last_career(self) -> datetime | None:
        return max(self.careers, key=lambda start: start.astimezone(UTC), default=None)

    def by_category(self, profile: Profile) -> dict[str, list[PersonCount]]:
        """Return the people-mix groups (see people_by_category)."""
        grouped: dict[str, list[PersonCount]] = {category: [] for category in CATEGORIES}
        names = self.touchpoint_names
        for email, count in sorted(self.mix.items(), key=lambda item: (-item[1], item[0])):
            category = category_of(email, profile, mentors=self.mentors, peers=self.peers)
            grouped[category].append(
                PersonCount(email, names.get(email) or display_name(email), count)
            )
        return grouped

    def to_json(self) -> dict[str, Any]:
        """Return the tally as JSON-safe data (times in UTC, so their text sorts as they do)."""
        return {
            "mix": sorted(self.mix.elements()),  # an address per meeting: counted at once
            "mentors": sorted(self.mentors),
            "peers": sorted(self.peers),
            "met": sorted(self.met.elements()),
            "career_with": {e: _utc_text(at) for e, at in self.career_with.items()},
            "worked_with": sorted(self.worked_with),
            "careers": [_utc_text(at) for at in self.careers],
            "names": self.names,
            "touchpoint_names": self.touchpoint_names,
        }

    @classmethod
    def total(cls, parts: Sequence[dict[str, Any]], tz: ZoneInfo) -> Tally:
        """Return the tally of days given as to_json data, in order: a year of them at once."""
        tally = cls(
            mix=Counter(chain.from_iterable(part["mix"] for part in parts)),
            met=Counter(chain.from_iterable(part["met"] for part in parts)),
        )
        latest: dict[str, str] = {}
        careers: list[str] = []
        for part in parts:
            tally.mentors.update(part["mentors"])
            tally.peers.update(part["peers"])
            tally.worked_with.update(part["worked_with"])
            careers += part["careers"]
            for email, at in part["career_with"].items():
                if at > latest.get(email, ""):
                    latest[email] = at
        for part in reversed(parts):  # the first name seen wins
            tally.names.update(part["names"])
            tally.touchpoint_names.update(part["touchpoint_names"])
        tally.careers = [datetime.fromisoformat(at).astimezone(tz) for at in careers]
        tally.career_with = {
            e: datetime.fromisoformat(at).astimezone(tz) for e, at in latest.items()
        }
        return tally


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def category_of(email: str, profile: Profile, *, mentors: set[str], peers: set[str]) -> str:
    """Return which category one person (a lower-case address) falls in for this user."""
    if email == profile.manager.lower():
        return "manager"
    if email in mentors:
        return "mentors"
    if _outside(email, profile.domain):
        return "external"
    return "peers" if email in peers else "cross_team"


def _others(touchpoint: Touchpoint, profile: Profile) -> set[str]:
    me = profile.me.lower()
    kinds = {a.email.lower(): a for a in touchpoint.occurrence.attendees}
    found = set()
    for email in (e.lower() for e in touchpoint.people):
        who = kinds.get(email)
        person = is_person_address(email, who.cutype, who.name) if who else is_person_address(email)
        if email != me and person:
            found.add(email)
    return found


def card_people(touchpoint: Touchpoint, profile: Profile) -> set[str]:
    """Return the lower-case addresses of the people in a touchpoint other than the user."""
    me = profile.me.lower()
    return {e.lower() for e in touchpoint.people if "@" in e and e.lower() != me}


def _outside(email: str, domain: str) -> bool:
    theirs = email.rpartition("@")[2]
    return bool(domain) and theirs != domain and not theirs.endswith("." + domain)


def directory(occurrences: Iterable[Occurrence]) -> dict[str, str]:
    """Return the names calendars give people, by lower-case address."""
    names: dict[str, str] = {}
    for occ in occurrences:
        for attendee in occ.attendees:
            name = " ".join(attendee.name.split())
            if name and "@" not in name:
                names.setdefault(attendee.email.lower(), name)
    return names


def clock_of(
    cadence: Cadence, touchpoints: Sequence[Touchpoint], profile: Profile, now: datetime
) -> Clock:
    """Return the clock: the engine's cadence, reaching back a year for the last conversation.

    The planner only looks back max_days; past that it knows a conversation is due but not
    when the last one was, which the stored year of history can still tell.
    """
    return clock(cadence, _last_career(past_year(touchpoints, profile, now), profile), profile, now)


def clock(
    cadence: Cadence, last_in_year: datetime | None, profile: Profile, now: datetime
) -> Clock:
    """Return the clock from the engine's cadence and the last career conversation of the
    year before now (Tally.last_career)."""
    last = cadence.last or last_in_year
    days = cadence.days_since
    if days is None and last is not None:
        days = (now.astimezone(UTC) - last.astimezone(UTC)).days
    local = last.astimezone(profile.tz) if last else None
    ahead = cadence.booked_ahead.astimezone(profile.tz) if cadence.booked_ahead else None
    return Clock(local, days, profile.ideal_days, profile.max_days, cadence.due, ahead)


def _last_career(touchpoints: Sequence[Touchpoint], profile: Profile) -> datetime | None:
    starts = [_start(t, profile) for t in touchpoints if t.kind == "career"]
    return max(starts, default=None)


def by_day(
    touchpoints: Sequence[Touchpoint | SeriesRow], profile: Profile, now: datetime
) -> list[tuple[str, list[Touchpoint | SeriesRow]]]:
    """Group touchpoints by local day, each day labelled ("Today", "Tuesday 3 March")."""
    today = now.astimezone(profile.tz).date()
    days: dict[str, list[Touchpoint | SeriesRow]] = {}
    for touchpoint in touchpoints:
        day = touchpoint.occurrence.starts_at(profile.tz).astimezone(profile.tz).date()
        days.setdefault(day_label(day, today), []).append(touchpoint)
    return list(days.items())


def day_label(day: date, today: date) -> str:
    """Return "Today", "Tomorrow", "Yesterday" or "Tuesday 3 March", in the current language."""
    names = {0: _("Today"), 1: _("Tomorrow"), -1: _("Yesterday")}
    return names.get((day - today).days) or dates.long_day(day)


def long_date(day: date) -> str:
    """Return "3 March" in the current language."""
    return dates.long_date(day)


def short_moment(moment: datetime, tz: ZoneInfo) -> str:
    """Return "Wed 4 Mar 13:05" in the user's zone and the current language."""
    return dates.moment(moment.astimezone(tz))


def local_time(touchpoint: Touchpoint | SeriesRow, profile: Profile) -> str:
    """Return "12:00 to 13:00" for a touchpoint (with an en dash), in the user's zone."""
    start = touchpoint.occurrence.starts_at(profile.tz).astimezone(profile.tz)
    end = touchpoint.occurrence.ends_at(profile.tz).astimezone(profile.tz)
    return f"{start:%H:%M}\u2013{end:%H:%M}"


def _start(touchpoint: Touchpoint, profile: Profile) -> datetime:
    return touchpoint.occurrence.starts_at(profile.tz).astimezone(UTC)


# What the dashboard reads and writes, always for one user ---------------------------------------


def has_calendar(session: Session, user_id: int) -> bool:
    query = select(Connection.id).where(Connection.user_id == user_id).limit(1)
    return session.scalar(query) is not None


def proposals_of(session: Session, user_id: int, now: datetime) -> Sequence[Proposal]:
    """Return the user's proposals still waiting for an answer, the newest first."""
    query = (
        select(Proposal)
        .where(Proposal.user_id == user_id, Proposal.status == "proposed")
        .where(Proposal.expires_at > now)
        .order_by(Proposal.created_at.desc(), Proposal.id)
    )
    return session.scalars(query).all()
