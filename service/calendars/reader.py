"""Turn a calendar's components into occurrences: each component once, however many instances.

Plain single events are read straight from their lines (simple.py); a series whose other lines
are plain is read in two parts, its recurrence by icalendar and the rest here, tied by a
reference line only this read knows. Anything else goes through template_of (convert.py).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from service.calendars import raw, rules, simple
from service.calendars.convert import template_of, times_at
from service.calendars.expand import Instance
from service.engine.model import Occurrence

REFERENCE = "X-TOUCHPOINT-REF"


class Reader:
    """Turn components into occurrences for one calendar: each component once, however many
    instances it has, and plain events straight from their lines."""

    def __init__(self, tz: ZoneInfo, me: str, cancelled: bool, series: set[str]) -> None:
        self.tz, self.me, self.cancelled, self.series = tz, me, cancelled, series
        self.templates: dict[int, Occurrence | None] = {}
        self.variants: dict[tuple[int, bool], Occurrence] = {}
        # The rest of each component read in part, by a reference its lines carry (the expander
        # may copy components, e.g. for X-WR-TIMEZONE); a random prefix no file can forge.
        self.details: dict[str, simple.Details] = {}
        self.secret = secrets.token_hex(8)

    def refer(self, details: simple.Details) -> str:
        """Return the line that ties a component read in part to the rest of it."""
        reference = f"{self.secret}-{len(self.details)}"
        self.details[reference] = details
        return f"{REFERENCE}:{reference}"

    def _template(self, component: Any) -> Occurrence | None:
        if isinstance(component, simple.Details):  # a series read from its lines (rules.py)
            details: simple.Details | None = component
        else:
            details = self.details.get(str(component.get(REFERENCE, "")))
        if details is None:
            return template_of(
                component, self.tz, self.me, cancelled=self.cancelled, series=self.series
            )
        uid = str(details.found.get("UID", ({}, ""))[1]).strip()
        return details.template(self.me, self.cancelled, uid in self.series)

    def wanted(self, keep_past: Callable[[Occurrence], bool]) -> Callable[[list[Any]], bool]:
        """Return whether any of a series' components is wanted before focus."""

        def any_wanted(components: list[Any]) -> bool:
            for component in components:
                template = self.templates.get(id(component))
                if template is None:
                    template = self.templates[id(component)] = self._template(component)
                if template is not None and keep_past(template):
                    return True
            return not components  # nothing to judge by: keep it

        return any_wanted

    def plain(self, block: raw.Block) -> Occurrence | None:
        return simple.read(block, self.tz, self.me, cancelled=self.cancelled)

    def timed(self, instance: Instance | rules.Taken) -> tuple[Occurrence, date, date] | None:
        """Return an instance as (its component's occurrence, its start, its end) in the zone,
        without building an occurrence for it (None without a usable start)."""
        key = id(instance.component)
        if key not in self.templates:
            self.templates[key] = self._template(instance.component)
        template = self.templates[key]
        times = times_at(instance.start, instance.end, self.tz) if template else None
        if template is None or times is None:
            return None
        begins, ends = times
        all_day = not isinstance(begins, datetime)
        if template.all_day != all_day:  # a component read without its times says timed
            variant = self.variants.get((key, all_day))
            if variant is None:
                variant = self.variants[(key, all_day)] = replace(template, all_day=all_day)
            template = variant
        return template, begins, ends
