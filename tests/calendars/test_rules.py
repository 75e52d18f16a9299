"""Plain series expanded with dateutil (rules.py) give what recurring-ical-events gives.

Each calendar is read by the scan's reader and by icalendar plus recurring-ical-events alone,
over the same window; the instances (uid, start, end, title) must be the same, and the series
must really have gone the dateutil way (or, for the shapes it leaves alone, the usual way).
The shared corpus check (tests/test_corpus.py) does the same over 800 real series.
"""

from __future__ import annotations

import warnings
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events

from service.calendars import raw, rules
from service.calendars.budget import Budget
from service.calendars.ics import IcsCalendar

BERLIN = ZoneInfo("Europe/Berlin")
ROOMY = Budget(per_series=100_000, occurrences=1_000_000, per_day=10_000)
Row = tuple[str, object, object, str]


def calendar(*events: str, head: str = "") -> bytes:
    body = "".join(f"BEGIN:VEVENT\n{e.strip()}\nEND:VEVENT\n" for e in events)
    text = f"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//test//EN\n{head}{body}END:VCALENDAR\n"
    return text.replace("\n", "\r\n").encode()


def ours(data: bytes, start: datetime, end: datetime, tz: ZoneInfo = BERLIN) -> set[Row]:
    found = IcsCalendar.from_bytes(data).occurrences(start, end, tz, "", ROOMY)
    return {(o.uid, _instant(o.start), _instant(o.end), o.title) for o in found}


def theirs(data: bytes, start: datetime, end: datetime) -> set[Row]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = icalendar.Calendar.from_ical(data)
        found = recurring_ical_events.of(parsed).between(start, end)
    return {
        (str(e["UID"]), _instant(e["DTSTART"].dt), _instant(e["DTEND"].dt), str(e["SUMMARY"]))
        for e in found
    }


def plain_uids(data: bytes) -> set[str]:
    """Return the series rules.py reads itself (the others go through recurring-ical-events)."""
    taken = set()
    for cal in raw.split_calendars(raw.decode(data)):
        zone = rules.calendar_zone(cal.properties)
        groups: dict[str, list[raw.Block]] = {}
        for block in cal.blocks:
            groups.setdefault(block.uid, []).append(block)
        for uid, blocks in groups.items():
            if any(b.recurs for b in blocks) and rules.read(
                blocks, date(1990, 1, 1), date(2100, 1, 1), zone if zone else None
            ):
                taken.add(uid)
    return taken


def _instant(value: object) -> object:
    """Return a time comparably: in UTC (floating times are read in Berlin, as the scan's
    zone here), dates as they are."""
    if not isinstance(value, datetime):
        return value
    return (value if value.tzinfo else value.replace(tzinfo=BERLIN)).astimezone(UTC)


def at(*parts: int, tz: ZoneInfo = BERLIN) -> datetime:
    return datetime(*parts, tzinfo=tz)  # type: ignore[misc]


WEEKLY_ACROSS_DST = calendar(
    """
UID:standup@x
SUMMARY:Team sync
DTSTART;TZID=Europe/Berlin:20260302T093000
DTEND;TZID=Europe/Berlin:20260302T100000
RRULE:FREQ=WEEKLY;BYDAY=MO,TH
EXDATE;TZID=Europe/Berlin:20260309T093000,20260402T093000
""",
    """
UID:standup@x
RECURRENCE-ID;TZID=Europe/Berlin:20260312T093000
SUMMARY:Team sync (moved)
DTSTART;TZID=Europe/Berlin:20260313T140000
DTEND;TZID=Europe/Berlin:20260313T150000
""",
    """
UID:standup@x
RECURRENCE-ID;TZID=Europe/Berlin:20260330T093000
SUMMARY:Team sync
STATUS:CANCELLED
DTSTART;TZID=Europe/Berlin:20260330T093000
DTEND;TZID=Europe/Berlin:20260330T100000
""",
)

SHAPES = {
    "weekly, EXDATEs, a moved and a cancelled instance, across the change to summer time": (
        WEEKLY_ACROSS_DST
    ),
    "RDATEs and an EXDATE given in UTC": calendar("""
UID:rdate@x
SUMMARY:Coffee with Ana
DTSTART;TZID=Europe/Berlin:20260303T100000
DTEND;TZID=Europe/Berlin:20260303T103000
RRULE:FREQ=WEEKLY;INTERVAL=2
RDATE;TZID=Europe/Berlin:20260306T160000,20260320T160000
EXDATE:20260317T090000Z
"""),
    "New York, UNTIL in UTC, across both changes of time": calendar("""
UID:ny@x
SUMMARY:Client call
DTSTART;TZID=America/New_York:20260302T170000
DTEND;TZID=America/New_York:20260302T173000
RRULE:FREQ=DAILY;BYDAY=MO,WE,FR;UNTIL=20261104T220000Z
"""),
    "all-day weekly, EXDATE and UNTIL as dates": calendar("""
UID:allday@x
SUMMARY:Office day
DTSTART;VALUE=DATE:20260303
DTEND;VALUE=DATE:20260304
RRULE:FREQ=WEEKLY;UNTIL=20260428
EXDATE;VALUE=DATE:20260317,20260331
"""),
    "Google's UTC start with X-WR-TIMEZONE, across the change of time": calendar(
        """
UID:google@x
SUMMARY:Lunch with Bo
DTSTART:20260305T110000Z
DTEND:20260305T120000Z
RRULE:FREQ=WEEKLY
EXDATE:20260402T110000Z
""",
        head="X-WR-TIMEZONE:Europe/Berlin\n",
    ),
    "a start the rule does not match, then COUNT": calendar("""
UID:count@x
SUMMARY:Mentoring
DTSTART;TZID=Europe/Berlin:20260304T080000
DURATION:PT45M
RRULE:FREQ=MONTHLY;BYDAY=2TU;COUNT=4
"""),
    "an instance moved into the window from outside it": calendar(
        """
UID:moved@x
SUMMARY:Retro
DTSTART;TZID=Europe/Berlin:20260101T150000
DTEND;TZID=Europe/Berlin:20260101T160000
RRULE:FREQ=WEEKLY;COUNT=6
""",
        """
UID:moved@x
RECURRENCE-ID;TZID=Europe/Berlin:20260115T150000
SUMMARY:Retro (late)
DTSTART;TZID=Europe/Berlin:20260310T150000
DTEND;TZID=Europe/Berlin:20260310T160000
""",
    ),
    "every other week since 2023 (started again near the window), across the change of time": (
        calendar("""
UID:since2023@x
SUMMARY:Architecture review
DTSTART;TZID=Europe/Berlin:20230104T163000
DTEND;TZID=Europe/Berlin:20230104T173000
RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=WE,FR;WKST=SU
EXDATE;TZID=Europe/Berlin:20260311T163000
""")
    ),
    "a zero-length reminder series on a local time that does not exist once a year": calendar("""
UID:gap@x
SUMMARY:Backup check
DTSTART;TZID=Europe/Berlin:20260101T023000
RRULE:FREQ=DAILY
"""),
}


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(
    "window",
    [(at(2026, 3, 2), at(2026, 3, 16)), (at(2026, 1, 1), at(2027, 1, 1))],
    ids=["two weeks", "a year"],
)
def test_a_plain_series_expands_as_recurring_ical_events_does(
    shape: str, window: tuple[datetime, datetime]
) -> None:
    data = SHAPES[shape]
    assert plain_uids(data), "the series should be read by rules.py"
    expected = theirs(data, *window)
    assert ours(data, *window) == expected
    assert expected or shape.startswith("an instance moved")


def test_the_moved_instance_is_where_it_moved_to_with_its_own_title() -> None:
    found = ours(WEEKLY_ACROSS_DST, at(2026, 3, 9), at(2026, 3, 16))
    assert sorted((start, title) for _, start, _, title in found) == [
        (at(2026, 3, 13, 14).astimezone(UTC), "Team sync (moved)"),
    ]  # the 9th is an EXDATE, the 12th moved to the 13th


UNUSUAL = {
    "floating times": "DTSTART:20260302T100000\nDTEND:20260302T110000\nRRULE:FREQ=WEEKLY",
    "an EXRULE": (
        "DTSTART;TZID=Europe/Berlin:20260302T100000\nRRULE:FREQ=DAILY\nEXRULE:FREQ=WEEKLY"
    ),
    "every 15 minutes": (
        "DTSTART;TZID=Europe/Berlin:20260302T100000\nRRULE:FREQ=MINUTELY;INTERVAL=15"
    ),
    "a PERIOD RDATE": (
        "DTSTART;TZID=Europe/Berlin:20260302T100000\nRRULE:FREQ=WEEKLY\n"
        "RDATE;VALUE=PERIOD:20260304T100000Z/PT2H"
    ),
    "a local UNTIL for a zoned start": (
        "DTSTART;TZID=Europe/Berlin:20260302T100000\nRRULE:FREQ=WEEKLY;UNTIL=20260401T100000"
    ),
    "a TZID that is no IANA name": (
        "DTSTART;TZID=W. Europe Standard Time:20260302T100000\nRRULE:FREQ=WEEKLY"
    ),
}


@pytest.mark.parametrize("shape", UNUSUAL)
def test_unusual_series_go_the_usual_way_and_read_the_same(shape: str) -> None:
    data = calendar(f"UID:odd@x\nSUMMARY:Odd\n{UNUSUAL[shape]}")
    assert not plain_uids(data)
    window = (at(2026, 3, 2), at(2026, 3, 16))
    if shape == "every 15 minutes":  # the budget skips it, with a warning
        read = IcsCalendar.from_bytes(data)
        assert read.occurrences(*window, BERLIN, "", ROOMY) == []
        assert any("every 15 minutes" in w for w in read.warnings)
        return
    if shape == "a TZID that is no IANA name":  # read as in the scan's zone, by the usual path
        assert len(ours(data, *window)) == 2
        return
    assert ours(data, *window) == theirs(data, *window)
