"""One note per series, not per occurrence: which meeting of a series gets the week's note.

A recurring meeting (one uid, several starts) gets at most one note per calendar week of the
user's zone: its first occurrence of the week, or, when a career conversation is booked or
proposed that week, the last occurrence before it, so the note comes right before the chat. A
week whose first occurrence is already past (its note went out) gets no other note. Single
meetings always get theirs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from service.engine.model import Touchpoint


def week_of(moment: datetime, tz: ZoneInfo) -> date:
    """Return the Monday of moment's week in the user's zone."""
    day = moment.astimezone(tz).date()
    return day - timedelta(days=day.weekday())


def noted_occurrences(
    past: Sequence[Touchpoint],
    upcoming: Sequence[Touchpoint],
    tz: ZoneInfo,
    anchors: Sequence[datetime] = (),
) -> set[int]:
    """Return the indices of the upcoming touchpoints that get a note."""
    weeks: dict[tuple[str, date], list[tuple[datetime, int]]] = defaultdict(list)
    chosen: set[int] = set()
    mondays = _Mondays(tz)
    for i, tp in enumerate(upcoming):
        if tp.occurrence.recurring:
            start = _start(tp, tz)
            weeks[(tp.occurrence.uid, mondays.of(start))].append((start, i))
        else:
            chosen.add(i)
    earlier = {(tp.occurrence.uid, mondays.of(_start(tp, tz))) for tp in past}
    for key, found in weeks.items():
        if key in earlier:  # this week's note was the one before the window
            continue
        found.sort()
        chosen.add(_pick(found, [a for a in anchors if week_of(a, tz) == key[1]]))
    return chosen


class _Mondays:
    """week_of for many moments: the zone's conversion once, the Monday once per day."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self.days: dict[date, date] = {}

    def of(self, moment: datetime) -> date:
        day = moment.astimezone(self.tz).date()
        monday = self.days.get(day)
        if monday is None:
            monday = self.days[day] = day - timedelta(days=day.weekday())
        return monday


def _pick(found: list[tuple[datetime, int]], anchors: Sequence[datetime]) -> int:
    """Return the week's first occurrence, or the last one before a chat that week."""
    for anchor in sorted(a.astimezone(UTC) for a in anchors):
        before = [i for start, i in found if start < anchor]
        if before:
            return before[-1]
    return found[0][1]


def series_starts(touchpoints: Sequence[Touchpoint], tz: ZoneInfo) -> dict[str, datetime]:
    """Return the first start (UTC) the calendar shows of each recurring series."""
    firsts: dict[str, datetime] = {}
    for tp in touchpoints:
        if tp.occurrence.recurring:
            start = _start(tp, tz)
            uid = tp.occurrence.uid
            firsts[uid] = min(start, firsts.get(uid, start))
    return firsts


def _start(tp: Touchpoint, tz: ZoneInfo) -> datetime:
    return tp.occurrence.starts_at(tz).astimezone(UTC)
