"""How much work one calendar may cost, whoever hands it over (a file, a URL, an upload, a sync).

A person's calendar holds a few thousand events a year and series that repeat at most a few
times a day. The limits sit well above that and far below what a hostile file can ask for: a
series that repeats more often than anyone meets (every second, every minute) is skipped whole,
any other series gives at most `per_series` occurrences in the window, one day at most
`per_day` (a shared team calendar holds a few hundred), a whole read at most `occurrences`,
and reading stops after `seconds`. Whatever is left out is named in the warnings. Those checks
run between series and blocks; the hard ceiling around all of it (guard.py) stops a read that
passes `hard_seconds` or grows by `megabytes` inside one library call.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

HOUR = 3600
_UNITS = {"SECONDLY": 1, "MINUTELY": 60, "HOURLY": HOUR}


@dataclass(frozen=True, slots=True)
class Budget:
    """The limits of one read (settings: TOUCHPOINT_MAX_PER_SERIES and the two below)."""

    per_series: int = 1000
    per_day: int = 500
    occurrences: int = 20_000
    seconds: float = 10.0
    hard_seconds: float = 20.0
    megabytes: int = 256
    # A web request reads for this long at most; a calendar that needs longer is read by a job.
    quick_seconds: float = 1.0

    def clock(self) -> Deadline:
        """Start the read's clock."""
        return Deadline(time.monotonic() + self.seconds)


@dataclass(frozen=True, slots=True)
class Deadline:
    """The moment (time.monotonic) a read must stop."""

    at: float

    def passed(self) -> bool:
        return time.monotonic() >= self.at


def too_frequent(component: Any) -> str:
    """Return how often a series repeats when that is more often than hourly, else ''."""
    rule = component.get("RRULE")
    for one in rule if isinstance(rule, list) else [rule] if rule is not None else []:
        period = _period(one)
        if period is not None and period < HOUR:
            return _every(period)
    return ""


def _period(rule: Any) -> int | None:
    try:
        unit = _UNITS.get(str(rule.get("FREQ", [""])[0]).upper())
        interval = int(rule.get("INTERVAL", [1])[0] or 1)
    except (TypeError, ValueError, IndexError, AttributeError):
        return None
    return unit * max(interval, 1) if unit else None


def _every(seconds: int) -> str:
    if seconds == 1:
        return "every second"
    if seconds < 60:
        return f"every {seconds} seconds"
    minutes = seconds // 60
    return "every minute" if minutes == 1 else f"every {minutes} minutes"


DEFAULT = Budget()
