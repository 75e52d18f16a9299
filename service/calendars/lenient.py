"""Keep an event when one minor part of it is broken: drop that part, say which, keep the rest.

A train ticket's alarm with a TRIGGER icalendar cannot read, a SEQUENCE that is not a number, a
PRIORITY left empty: none of these changes when a meeting is or who is in it. The event is parsed
again without the broken part; only what an occurrence needs (its times, its series) is essential.
"""

from __future__ import annotations

import warnings
from typing import Any

import icalendar

from service.calendars.expand import BROKEN

# What an occurrence cannot do without; everything else may be dropped when it is unreadable.
ESSENTIAL = frozenset(
    {"BEGIN", "END", "UID", "DTSTART", "DTEND", "DUE", "DURATION", "RRULE", "RDATE", "EXDATE",
     "EXRULE", "RECURRENCE-ID"}
)  # fmt: skip
MAX_RETRIES = 40  # properties tried one by one before the event is given up
# Retrying re-parses the event: only for events the size of a real one (a hostile 100,000-line
# event would cost 40 full parses); a larger broken one is skipped at once.
MAX_RETRY_LINES = 500
_PARTS = {"VALARM": "alarm"}


def parse(lines: list[str]) -> tuple[Any, list[str]]:
    """Return the component and what was dropped to read it; (None, []) when it cannot be read."""
    try:
        return _parse(lines), []
    except BROKEN:
        if len(lines) > MAX_RETRY_LINES:
            return None, []
    top, nested = _without_nested(lines)
    dropped = sorted({_PARTS.get(name, name.lower()) for name in nested})
    candidates = [i for i, line in enumerate(top) if _key(line) not in ESSENTIAL]
    attempts: list[tuple[list[str], list[str]]] = [(top, [])] if nested else []
    attempts += [(top[:i] + top[i + 1 :], [_key(top[i])]) for i in candidates[:MAX_RETRIES]]
    for kept, removed in attempts:
        try:
            return _parse(kept), dropped + removed
        except BROKEN:
            continue
    return None, []


def drop_broken(component: Any) -> list[str]:
    """Remove the minor properties icalendar could not read; return their names."""
    broken = [
        name
        for name in list(component.keys())
        if name not in ESSENTIAL and _is_broken(component[name])
    ]
    for name in broken:
        del component[name]
    return broken


def _is_broken(value: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    return any(isinstance(v, icalendar.prop.vBroken) for v in values)


def _parse(lines: list[str]) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # icalendar warns on guessed vendor TZIDs
        return icalendar.Component.from_ical("\r\n".join(lines) + "\r\n")


def _without_nested(lines: list[str]) -> tuple[list[str], list[str]]:
    """Return the component's own lines without nested components, and the names removed."""
    kept, removed, depth = [lines[0]], [], 0
    for line in lines[1:-1]:
        key, _, value = line.partition(":")
        key = key.split(";", 1)[0].strip().upper()
        if key == "BEGIN":
            depth += 1
            if depth == 1:
                removed.append(value.strip().upper())
        elif key == "END" and depth:
            depth -= 1
        elif not depth:
            kept.append(line)
    return [*kept, lines[-1]], removed


def _key(line: str) -> str:
    return line.partition(":")[0].split(";", 1)[0].strip().upper()
