"""How the dashboard lays out what the engine found: a timeline, grouped series, people, charts.

Plain functions of touchpoints, the profile and "now" (passed in): no Flask, no database, no
wording beyond what the templates need to pick their sentences, so the pages can be translated.
Each function is small and takes plain data, so a new source (a person model, series grouped
upstream) can be put behind the same shapes.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from service.dashboard.insights import (
    CATEGORIES,
    PersonCount,
    Tally,
    card_people,
    category_of,
)
from service.engine.model import Profile, Touchpoint

TIMELINE_DAYS = 14
PEOPLE_SHOWN = 8
AVATAR_COLOURS = 6  # .avatar-0 to .avatar-5 in the stylesheet
STRIP_WEEKS = 52


@dataclass(frozen=True, slots=True)
class Day:
    """One day of the timeline and the touchpoints starting on it."""

    day: date
    offset: int  # 0 today, 1 tomorrow
    touchpoints: tuple[Touchpoint, ...]
    more: int = 0  # touchpoints (or events not read) beyond what the day shows

    @property
    def weekend(self) -> bool:
        return self.day.weekday() >= 5


@dataclass(frozen=True, slots=True)
class Person:
    """Someone the user meets, as a small card shows them."""

    email: str
    name: str
    initials: str
    colour: int
    relationship: str  # one of CATEGORIES
    meetings: int
    last_career: datetime | None
    next_meeting: Touchpoint | None


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar of the people-mix chart, in the chart's own units."""

    category: str
    count: int
    width: float
    y: int


@dataclass(frozen=True, slots=True)
class Week:
    """One cell of the year strip: a week and its career conversations."""

    start: date
    count: int
    x: int


def start_of(touchpoint: Touchpoint, profile: Profile) -> datetime:
    """Return when a touchpoint starts, in the user's zone."""
    return touchpoint.occurrence.starts_at(profile.tz).astimezone(profile.tz)


def timeline(
    touchpoints: Iterable[Touchpoint],
    profile: Profile,
    now: datetime,
    days: int = TIMELINE_DAYS,
    *,
    limit: int | None = None,
    unread: Mapping[date, int] | None = None,
) -> list[Day]:
    """Return every day from today for `days` days, each with its touchpoints in order.

    limit: the most a day shows, the others counted in its `more` with the events of that day
    the page did not read (unread).
    """
    today = now.astimezone(profile.tz).date()
    found: dict[date, list[Touchpoint]] = {}
    for touchpoint in touchpoints:
        found.setdefault(start_of(touchpoint, profile).date(), []).append(touchpoint)
    span = [today + timedelta(days=n) for n in range(days)]
    timeline = []
    for d in span:
        ordered = _in_order(found.get(d, ()), profile)
        shown = ordered[:limit] if limit is not None else ordered
        more = len(ordered) - len(shown) + (unread or {}).get(d, 0)
        timeline.append(Day(d, (d - today).days, tuple(shown), more))
    return timeline


def listed(
    days: Sequence[Day], touchpoints: Iterable[Touchpoint], profile: Profile
) -> list[Touchpoint]:
    """Return the touchpoints the list under the timeline shows: those of the timeline's days it
    shows, and any after its last day."""
    span = {day.day for day in days}
    shown = {id(touchpoint) for day in days for touchpoint in day.touchpoints}
    return [t for t in touchpoints if id(t) in shown or start_of(t, profile).date() not in span]


def _in_order(touchpoints: Iterable[Touchpoint], profile: Profile) -> list[Touchpoint]:
    return sorted(touchpoints, key=lambda t: start_of(t, profile))


def anchor(touchpoint: Touchpoint) -> str:
    """Return the id of a touchpoint's card: one per series, one per single meeting."""
    occurrence = touchpoint.occurrence
    key = occurrence.uid if occurrence.recurring else f"{occurrence.uid} {occurrence.start}"
    return "tp-" + hashlib.sha256(key.encode()).hexdigest()[:12]


def weeks_of(days: Sequence[Day]) -> list[Sequence[Day]]:
    """Cut the timeline into rows of seven days."""
    return [days[n : n + 7] for n in range(0, len(days), 7)]


def initials(name: str, email: str) -> str:
    """Return one or two capital letters for an avatar: "Carol Example" -> "CE"."""
    words = [w for w in name.replace(".", " ").split() if w[:1].isalpha()]
    if not words:
        words = [email.split("@")[0]]
    letters = [w[0] for w in words[:1] + words[1:][-1:]]
    return "".join(letters).upper()


def colour_of(email: str) -> int:
    """Return a stable avatar colour for a person (the same address, the same colour)."""
    return hashlib.sha256(email.lower().encode()).digest()[0] % AVATAR_COLOURS


def people(
    year: Sequence[Touchpoint],
    upcoming: Sequence[Touchpoint],
    profile: Profile,
    names: dict[str, str],
    limit: int = PEOPLE_SHOWN,
) -> list[Person]:
    """Return the people met most over the past year (in order) and the coming weeks, as cards."""
    return cards(Tally.of(year, (), profile), upcoming, profile, names, limit)


def cards(
    year: Tally,
    upcoming: Sequence[Touchpoint],
    profile: Profile,
    names: dict[str, str],
    limit: int = PEOPLE_SHOWN,
) -> list[Person]:
    """Return the people cards from the past year's tally and the coming weeks' touchpoints."""
    met = year.met + Counter(e for t in upcoming for e in others(t, profile))
    mentors, peers = set(year.career_with), year.worked_with
    ahead = _next_with(upcoming, profile)
    ranked = sorted(met.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return [
        Person(
            email=email,
            name=names.get(email, ""),
            initials=initials(names.get(email, ""), email),
            colour=colour_of(email),
            relationship=category_of(email, profile, mentors=mentors, peers=peers),
            meetings=count,
            last_career=year.career_with.get(email),
            next_meeting=ahead.get(email),
        )
        for email, count in ranked
    ]


others = card_people  # the people of a touchpoint other than the user, as the cards count them


def _next_with(upcoming: Sequence[Touchpoint], profile: Profile) -> dict[str, Touchpoint]:
    ahead: dict[str, Touchpoint] = {}
    for touchpoint in _in_order(upcoming, profile):
        for email in others(touchpoint, profile):
            ahead.setdefault(email, touchpoint)
    return ahead


def mix_bars(mix: dict[str, list[PersonCount]], width: int = 200, row: int = 28) -> list[Bar]:
    """Return the bars of the people-mix chart: one per category, the longest `width` wide."""
    counts = {category: sum(p.count for p in mix[category]) for category in CATEGORIES}
    most = max(counts.values(), default=0) or 1
    return [
        Bar(category, counts[category], round(width * counts[category] / most, 1), n * row)
        for n, category in enumerate(CATEGORIES)
    ]


def year_strip(
    year: Sequence[Touchpoint], profile: Profile, now: datetime, cell: int = 12
) -> list[Week]:
    """Return the last 52 weeks (Monday to Sunday, this week last) with career conversations.

    year: the touchpoints of the year before now (insights.past_year).
    """
    careers = [start_of(t, profile) for t in year if t.kind == "career"]
    return strip(careers, profile, now, cell)


def strip(
    careers: Iterable[datetime], profile: Profile, now: datetime, cell: int = 12
) -> list[Week]:
    """Return the year strip from when the career conversations of the year started."""
    today = now.astimezone(profile.tz).date()
    this_monday = today - timedelta(days=today.weekday())
    first = this_monday - timedelta(weeks=STRIP_WEEKS - 1)
    counts = Counter((start.astimezone(profile.tz).date() - first).days // 7 for start in careers)
    return [
        Week(first + timedelta(weeks=n), counts.get(n, 0), n * cell) for n in range(STRIP_WEEKS)
    ]


def month_marks(weeks: Sequence[Week]) -> list[Week]:
    """Return the weeks of the strip in which a month begins (where its label goes)."""
    return [w for n, w in enumerate(weeks) if n == 0 or w.start.month != weeks[n - 1].start.month]


def career_count(weeks: Sequence[Week]) -> int:
    return sum(w.count for w in weeks)
