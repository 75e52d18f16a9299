"""Expand parsed components into the instances a window needs, series by series, within a budget.

Each series (a master with its moved or cancelled instances) is expanded on its own, lazily, and
stops at the budget's per-series limit; the read stops at its total limit or its deadline. A
series that cannot be expanded is skipped alone. What is left out is said in the warnings.

An instance is its source component (the master or the override that moved it) with its own
times: nothing is copied per instance, so what depends only on the component is worked out once.
"""

from __future__ import annotations

import warnings as python_warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any

import icalendar
import recurring_ical_events

from service.calendars import rules
from service.calendars.budget import Budget, Deadline

COMPONENTS = ("VEVENT", "VTODO", "VJOURNAL")
# Anything a third-party parser may raise on broken input; we isolate it to one event.
BROKEN = (ValueError, TypeError, KeyError, AttributeError, IndexError, ArithmeticError)


@dataclass(frozen=True, slots=True)
class Instance:
    """One instance of a series: the component it comes from and its own start and end."""

    component: Any
    start: Any
    end: Any


@dataclass
class Tally:
    """What one read has taken so far: instances per series, and in all."""

    per_series: Counter[str] = field(default_factory=Counter)
    total: int = 0


def expand(
    calendar: icalendar.Calendar,
    start: datetime,
    end: datetime,
    budget: Budget,
    deadline: Deadline,
    warnings: list[str],
    tally: Tally,
    focus: datetime | None = None,
    keep_past: Callable[[list[Any]], bool] | None = None,
    plainly: rules.Plainly | None = None,
) -> list[Instance | rules.Taken]:
    """Return every instance overlapping [start, end), within the budget.

    From focus on is what matters most (the days ahead): a series over its limit keeps its
    instances there first, then the earliest before it. keep_past, given a series' components,
    says whether its instances before focus are wanted at all (cadence looks back only for what
    can be a career conversation); the others are expanded from focus on. plainly: the plain
    series read from their lines, expanded with dateutil alongside, in the file's order.
    """
    found: list[Instance | rules.Taken] = []
    for label, series, components in _series(calendar, warnings, plainly or rules.Plainly()):
        if deadline.passed():
            warnings.append("stopped reading after the time allowed: the rest is left out")
            break
        if tally.total >= budget.occurrences:
            warnings.append(f"kept the first {budget.occurrences} events: the rest is left out")
            break
        uid = str(series.uid)
        limit = min(budget.per_series - tally.per_series[uid], budget.occurrences - tally.total)
        begin = start
        if focus is not None and start < focus and keep_past and not keep_past(components):
            begin = focus
        span = (begin, focus if begin < (focus or begin) else None, end)
        taken = _instances(label, series, span, limit, warnings, budget.per_series)
        tally.per_series[uid] += len(taken)
        tally.total += len(taken)
        found.extend(taken)
    return found


def _instances(
    label: str,
    series: Any,
    span: tuple[datetime, datetime | None, datetime],
    limit: int,
    warnings: list[str],
    per_series: int,
) -> list[Instance | rules.Taken]:
    start, _, end = span
    limit = max(limit, 0)
    try:
        with python_warnings.catch_warnings():
            python_warnings.simplefilter("ignore")
            taken = list(islice(series.between(start, end), limit + 1))
            if len(taken) > limit:
                taken = _ahead_first(series, span, limit)
                if limit == per_series:
                    warnings.append(
                        f"{label} repeats more than {per_series} times here: kept {per_series}"
                    )
            if type(series) is rules.PlainSeries:  # its instances already are (component, times)
                return taken
            return [Instance(_source(o), o.start, o.end) for o in taken]
    except BROKEN as exc:
        warnings.append(f"skipped {label}: {why_not(exc)}")
        return []


def _ahead_first(
    series: Any, span: tuple[datetime, datetime | None, datetime], limit: int
) -> list[Any]:
    """Return at most limit instances: from focus on first, then the earliest before it."""
    start, focus, end = span
    if focus is None or not start < focus < end:
        return sorted(islice(series.between(start, end), limit + 1))[:limit]
    ahead = sorted(islice(series.between(focus, end), limit + 1))[:limit]
    known = {o.start for o in ahead}  # an instance across focus is in both spans
    behind = [o for o in islice(series.between(start, focus), limit) if o.start not in known]
    return ahead + sorted(behind)[: limit - len(ahead)]


def _source(occurrence: Any) -> Any:
    """Return the component an instance of recurring-ical-events comes from, uncopied."""
    if type(occurrence) is rules.Taken:
        return occurrence.component
    adapter = getattr(occurrence, "_adapter", None)  # recurring-ical-events 3.x keeps it here
    component = getattr(adapter, "_component", None)
    return component if component is not None else occurrence.as_component(False)


def _series(
    calendar: icalendar.Calendar, warnings: list[str], plainly: rules.Plainly
) -> Iterator[tuple[str, Any, list[Any]]]:
    """Yield each series of the calendar with its label, in the order recurring-ical-events
    gives them (events first, each kind in the file's order); a broken one alone is skipped."""
    grouped = by_uid(calendar)
    plain = [(label("VEVENT", s.title, s.uid), s, s.components) for s in plainly.series]
    try:
        all_series = _query(calendar).series
    except BROKEN:
        all_series = None
    if all_series is not None:
        found = [*_labelled(all_series, grouped), *plain]
        yield from sorted(found, key=lambda f: _place(f, plainly.positions, kinds=True))
        return
    for uid, components in grouped.items():
        try:
            series = _query(calendar_of(calendar, components)).series
        except BROKEN as exc:
            warnings.append(f"skipped {describe(components[0], uid)}: {why_not(exc)}")
            continue
        plain += _labelled(series, grouped)
    yield from sorted(plain, key=lambda f: _place(f, plainly.positions, kinds=False))


def _place(
    found: tuple[str, Any, list[Any]], positions: dict[str, int], *, kinds: bool
) -> tuple[int, int]:
    """Return where a series comes: by kind (events first) when asked, then by its first line."""
    _, series, components = found
    kind = getattr(components[0], "name", "VEVENT") if components else "VEVENT"
    rank = COMPONENTS.index(kind) if kinds and kind in COMPONENTS else 0
    return rank, positions.get(str(series.uid), len(positions))


def _query(calendar: icalendar.Calendar) -> Any:
    with python_warnings.catch_warnings():
        python_warnings.simplefilter("ignore")
        return recurring_ical_events.of(calendar, components=COMPONENTS)


def _labelled(
    all_series: Iterable[Any], grouped: dict[str, list[Any]]
) -> Iterator[tuple[str, Any, list[Any]]]:
    for series in all_series:
        uid = str(series.uid)
        components = grouped.get(uid, [])
        name = describe(components[0], uid) if components else label("VEVENT", "", uid)
        yield name, series, components


def by_uid(calendar: icalendar.Calendar) -> dict[str, list[Any]]:
    """Return the calendar's components grouped by UID (a series and its changed instances)."""
    series: dict[str, list[Any]] = defaultdict(list)
    for component in calendar.subcomponents:
        if component.name in COMPONENTS:
            series[str(component.get("UID", id(component)))].append(component)
    return series


def calendar_of(calendar: icalendar.Calendar, components: Iterable[Any]) -> icalendar.Calendar:
    """Return a calendar with the same properties and time zones, holding only these components."""
    single = icalendar.Calendar()
    for key, value in calendar.property_items(recursive=False):
        if key not in ("BEGIN", "END"):
            single.add(key, value)
    for component in calendar.subcomponents:
        if component.name == "VTIMEZONE":
            single.add_component(component)
    for component in components:
        single.add_component(component)
    return single


def describe(component: Any, uid: str) -> str:
    """Name a component for a warning: its kind and title (or UID)."""
    return label(component.name, str(component.get("SUMMARY", "")), uid)


def label(kind: str, summary: str, uid: str) -> str:
    noun = {"VEVENT": "event", "VTODO": "task", "VJOURNAL": "journal entry"}.get(kind, kind)
    title = " ".join("".join(ch for ch in summary if ch.isprintable()).split())[:60]
    if title:
        return f"{noun} {title!r}"
    return f"{noun} {uid[:60]!r}" if uid else noun


def why_not(exc: BaseException) -> str:
    """Say why a recurrence cannot be expanded: the library's words for a bad value, never
    Python's own (a TypeError from inside a library means nothing to the person reading)."""
    detail = f" ({first_line(exc)})" if type(exc) is ValueError else ""
    return f"its recurrence cannot be expanded{detail}"


def first_line(exc: BaseException) -> str:
    """Return the first line of an error, printable and short."""
    text = str(exc).strip().splitlines()
    message = text[0] if text else type(exc).__name__
    return "".join(ch for ch in message if ch.isprintable())[:120]
