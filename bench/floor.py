"""Parse and expand a calendar with icalendar and recurring-ical-events alone: the scan's floor."""

from __future__ import annotations

import argparse
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events


def count_occurrences(path: Path, start: datetime, end: datetime) -> int:
    """Return how many occurrences the calendar has in [start, end)."""
    calendar = icalendar.Calendar.from_ical(path.read_bytes())
    return len(recurring_ical_events.of(calendar).between(start, end))


def moment(text: str, tz: ZoneInfo) -> datetime:
    """Return an ISO date or date-time as an aware datetime; a date is midnight in tz."""
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), datetime.min.time(), tz)
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=tz)


def main(argv: list[str] | None = None) -> None:
    """Print the number of occurrences between START and END."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("file", type=Path, help="the .ics file")
    parser.add_argument("start", help="ISO date or date-time, inclusive")
    parser.add_argument("end", help="ISO date or date-time, exclusive")
    parser.add_argument("--tz", default="Europe/Berlin", help="zone for dates and naive times")
    args = parser.parse_args(argv)
    tz = ZoneInfo(args.tz)
    print(count_occurrences(args.file, moment(args.start, tz), moment(args.end, tz)))


if __name__ == "__main__":
    main()
