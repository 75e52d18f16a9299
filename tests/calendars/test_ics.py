"""Reading real-world iCalendar files into occurrences: recurrences, zones, broken input."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from service.calendars.ics import CalendarError, IcsCalendar
from service.engine.model import Occurrence
from tests.factories import ALICE, BERLIN, CAROL

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
UTC = ZoneInfo("UTC")
# The window most tests read: two weeks from Monday 2 March 2026, Berlin time.
START = datetime(2026, 3, 2, tzinfo=BERLIN)
END = datetime(2026, 3, 16, tzinfo=BERLIN)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def read(
    data: bytes,
    tz: ZoneInfo = BERLIN,
    start: datetime = START,
    end: datetime = END,
    me: str = ALICE,
) -> list[Occurrence]:
    return IcsCalendar.from_bytes(data).occurrences(start, end, tz, me)


def titled(occurrences: list[Occurrence], title: str) -> list[Occurrence]:
    return [o for o in occurrences if o.title == title]


def starts(occurrences: list[Occurrence]) -> list[datetime | date]:
    return [o.start for o in occurrences]


def vevent(uid: str, start: str, summary: str, *extra: str) -> str:
    lines = ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20260220T090000Z", f"DTSTART:{start}"]
    return "\r\n".join([*lines, f"SUMMARY:{summary}", *extra, "END:VEVENT"]) + "\r\n"


def vcalendar(*events: str) -> bytes:
    head = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Touchpoint tests//EN\r\n"
    return (head + "".join(events) + "END:VCALENDAR\r\n").encode()


# Recurrences -------------------------------------------------------------------------------


def test_it_expands_an_unbounded_daily_series_over_the_window_only() -> None:
    occurrences = read(fixture("daily.ics"))

    plants = titled(occurrences, "Water the plants")
    assert len(plants) == 14
    assert [o.start.date() for o in plants] == [date(2026, 3, 2) + timedelta(n) for n in range(14)]


def test_it_expands_an_unbounded_weekday_series_to_ten_weekdays_in_two_weeks() -> None:
    standups = titled(read(fixture("daily.ics")), "Atlas stand-up")

    assert len(standups) == 10
    assert all(o.start.weekday() < 5 for o in standups)
    assert all(
        o.start.timetz() == datetime(2026, 3, 2, 9, 30, tzinfo=BERLIN).timetz() for o in standups
    )


def test_it_reads_a_five_thousand_event_file_and_keeps_only_the_window() -> None:
    first = datetime(2020, 1, 1, 10, 0, tzinfo=UTC)
    events = []
    for n in range(5000):
        moment = first + timedelta(days=n)
        stamp = f"{moment:%Y%m%dT%H%M%SZ}"
        events.append(vevent(f"event-{n}@test", stamp, f"Meeting {n}", f"DTEND:{stamp}"))

    occurrences = read(vcalendar(*events))

    assert len(occurrences) == 14
    assert occurrences[0].start == datetime(2026, 3, 2, 11, 0, tzinfo=BERLIN)
    assert occurrences[-1].start == datetime(2026, 3, 15, 11, 0, tzinfo=BERLIN)


def test_it_removes_an_exdate_from_a_series() -> None:
    one_on_ones = titled(read(fixture("recurrences.ics")), "Alice / Bob 1:1")

    assert datetime(2026, 3, 10, 10, 0, tzinfo=BERLIN) not in starts(one_on_ones)


def test_it_places_a_moved_instance_where_it_moved() -> None:
    one_on_ones = titled(read(fixture("recurrences.ics")), "Alice / Bob 1:1")

    assert starts(one_on_ones) == [datetime(2026, 3, 4, 14, 0, tzinfo=BERLIN)]
    assert one_on_ones[0].end == datetime(2026, 3, 4, 14, 30, tzinfo=BERLIN)


def test_it_marks_a_cancelled_instance_cancelled_and_keeps_the_others() -> None:
    coffees = titled(read(fixture("recurrences.ics")), "Coffee with Carol")

    assert [(o.start.date(), o.cancelled) for o in coffees] == [
        (date(2026, 3, 5), True),
        (date(2026, 3, 12), False),
    ]


def test_an_instance_moved_out_of_the_window_disappears_from_it() -> None:
    syncs = titled(read(fixture("recurrences.ics")), "Atlas sync")

    assert datetime(2026, 3, 13, 11, 0, tzinfo=BERLIN) not in starts(syncs)


def test_an_instance_moved_into_the_window_appears_in_it() -> None:
    syncs = titled(read(fixture("recurrences.ics")), "Atlas sync")

    assert starts(syncs) == [
        datetime(2026, 3, 6, 11, 0, tzinfo=BERLIN),
        datetime(2026, 3, 11, 11, 0, tzinfo=BERLIN),
    ]


def test_an_instance_moved_out_of_the_window_appears_where_it_moved() -> None:
    later = read(fixture("recurrences.ics"), start=END, end=END + timedelta(days=7))

    # The 13 March instance moved to Thursday 19 March; Friday 20 March is the series' own.
    assert starts(titled(later, "Atlas sync")) == [
        datetime(2026, 3, 19, 11, 0, tzinfo=BERLIN),
        datetime(2026, 3, 20, 11, 0, tzinfo=BERLIN),
    ]


# Time zones --------------------------------------------------------------------------------


def test_it_takes_the_calendars_zone_from_x_wr_timezone() -> None:
    assert IcsCalendar.from_bytes(fixture("google.ics")).zone() == BERLIN


def test_it_reads_google_utc_times_in_the_x_wr_timezone() -> None:
    lunch = titled(read(fixture("google.ics")), "Lunch with Carol")[0]

    assert lunch.start.isoformat() == "2026-03-04T12:00:00+01:00"


def test_a_utc_series_keeps_its_local_time_across_dst_in_the_x_wr_timezone() -> None:
    occurrences = read(
        fixture("google.ics"),
        start=datetime(2026, 3, 23, tzinfo=BERLIN),
        end=datetime(2026, 4, 6, tzinfo=BERLIN),
    )

    assert [o.start.isoformat() for o in titled(occurrences, "Alice / Bob 1:1")] == [
        "2026-03-24T10:00:00+01:00",
        "2026-03-31T10:00:00+02:00",
    ]


def test_it_reads_floating_times_in_the_calendars_zone() -> None:
    calendar = IcsCalendar.from_bytes(fixture("google.ics"))
    zone = calendar.zone()
    assert zone is not None

    coffee = titled(calendar.occurrences(START, END, zone, ALICE), "Coffee with Dan")[0]

    assert coffee.start.isoformat() == "2026-03-05T15:30:00+01:00"


def test_it_resolves_a_windows_tzid_to_europe_berlin() -> None:
    event = titled(read(fixture("zones.ics"), tz=UTC), "Windows zone")[0]

    assert event.start == datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


def test_it_resolves_an_outlook_vtimezone_named_the_windows_way_across_dst() -> None:
    calendar = IcsCalendar.from_bytes(fixture("outlook.ics"))
    april = calendar.occurrences(START, datetime(2026, 4, 6, tzinfo=BERLIN), UTC, ALICE)

    assert calendar.zone() == BERLIN
    assert titled(april, "Coffee with Dan")[0].start == datetime(2026, 3, 31, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("title", "utc"),
    [
        ("Mozilla zone", datetime(2026, 3, 3, 14, 0, tzinfo=UTC)),
        ("Evolution zone", datetime(2026, 3, 3, 9, 0, tzinfo=UTC)),
    ],
)
def test_it_resolves_vendor_prefixed_tzids(title: str, utc: datetime) -> None:
    event = titled(read(fixture("zones.ics"), tz=UTC), title)[0]

    assert event.start == utc


@pytest.mark.parametrize("zone", [BERLIN, UTC, ZoneInfo("America/New_York")])
def test_it_reads_an_unknown_tzid_in_the_calendars_zone_rather_than_naive(zone: ZoneInfo) -> None:
    event = titled(read(fixture("zones.ics"), tz=zone), "Unknown zone")[0]

    assert event.start == datetime(2026, 3, 4, 10, 0, tzinfo=zone)
    assert isinstance(event.start, datetime)
    assert event.start.utcoffset() == zone.utcoffset(datetime(2026, 3, 4, 10, 0))


def test_it_reads_all_day_events_as_plain_dates() -> None:
    offsite = titled(read(fixture("google.ics")), "Team offsite")[0]

    assert (offsite.start, offsite.end, offsite.all_day) == (
        date(2026, 3, 13),
        date(2026, 3, 14),
        True,
    )


# Several calendars, bare events, broken events ---------------------------------------------


def test_it_reads_every_vcalendar_in_one_file() -> None:
    titles = [o.title for o in read(fixture("several.ics"))]

    assert titles == ["Lunch with Carol", "Dentist"]


def test_it_reads_a_bare_vevent_with_no_vcalendar_around_it() -> None:
    occurrences = read(fixture("bare.ics"))

    assert [(o.title, o.start.isoformat()) for o in occurrences] == [
        ("Lunch with Carol", "2026-03-04T12:00:00+01:00")
    ]


def test_it_keeps_the_good_events_around_broken_ones() -> None:
    titles = {o.title for o in read(fixture("broken.ics"))}

    assert {"Lunch with Carol", "Coffee with Dan"} <= titles


@pytest.mark.parametrize(
    "title",
    [
        pytest.param("Ghost meeting", id="no DTSTART"),
        pytest.param("Vague meeting", id="unreadable DTSTART"),
        pytest.param("Sometimes sync", id="bad RRULE"),
    ],
)
def test_it_skips_a_broken_event_and_names_it_in_a_warning(title: str) -> None:
    calendar = IcsCalendar.from_bytes(fixture("broken.ics"))
    titles = [o.title for o in calendar.occurrences(START, END, BERLIN, ALICE)]

    assert title not in titles
    assert [w for w in calendar.warnings if title in w], calendar.warnings


def test_it_keeps_an_event_with_a_garbled_line_and_names_the_line_it_ignored() -> None:
    calendar = IcsCalendar.from_bytes(fixture("broken.ics"))
    titles = [o.title for o in calendar.occurrences(START, END, BERLIN, ALICE)]

    assert "Garbled sync" in titles
    assert [w for w in calendar.warnings if "Garbled sync" in w and "ignored" in w]


# Unreadable and truncated files ------------------------------------------------------------


def test_it_refuses_a_file_that_is_not_icalendar() -> None:
    page = b"<!DOCTYPE html>\r\n<html><body>Sign in to see this calendar</body></html>\r\n"

    with pytest.raises(CalendarError, match="not an iCalendar file"):
        IcsCalendar.from_bytes(page)


@pytest.mark.parametrize(
    "data", [b"", b"\r\n  \r\n", b"\xef\xbb\xbf"], ids=["nothing", "blank lines", "only a BOM"]
)
def test_it_refuses_an_empty_calendar(data: bytes) -> None:
    with pytest.raises(CalendarError, match="empty"):
        IcsCalendar.from_bytes(data)


@pytest.mark.parametrize(
    "cut_after", [b"X-WR-TIMEZONE:Europe/Berlin\r\n", b"RRULE:FREQ=WEEKLY;BYDAY=TU\r\n"]
)
def test_it_refuses_a_calendar_truncated_before_its_first_event_ends(cut_after: bytes) -> None:
    data = fixture("google.ics")
    truncated = data[: data.index(cut_after) + len(cut_after)]

    with pytest.raises(CalendarError, match="truncated"):
        IcsCalendar.from_bytes(truncated)


def test_it_reads_the_complete_events_of_a_truncated_calendar_and_warns() -> None:
    data = fixture("google.ics")
    truncated = data[: data.index(b"SUMMARY:Coffee with Dan")]
    calendar = IcsCalendar.from_bytes(truncated)

    titles = [o.title for o in calendar.occurrences(START, END, BERLIN, ALICE)]

    assert titles == ["Alice / Bob 1:1", "Lunch with Carol", "Alice / Bob 1:1"]
    assert [w for w in calendar.warnings if "truncated" in w]


# Encodings and line endings ----------------------------------------------------------------


def test_it_reads_a_file_with_a_utf8_byte_order_mark() -> None:
    data = fixture("google.ics")

    assert read(b"\xef\xbb\xbf" + data) == read(data)


def test_it_reads_a_windows_1252_file() -> None:
    lunch = read(fixture("cp1252.ics"))[0]

    assert lunch.title == "Café \u2013 Carol"  # the en dash is one byte, 0x96, in cp1252
    assert lunch.attendees[0].name == "Zoë Müller"


def test_it_reads_a_file_with_bare_lf_line_endings() -> None:
    data = fixture("google.ics")
    unix = data.replace(b"\r\n", b"\n")

    assert b"\r" not in unix
    assert read(unix) == read(data)


def test_it_unfolds_folded_lines_even_inside_an_address() -> None:
    occurrences = read(fixture("google.ics"))
    lunch = titled(occurrences, "Lunch with Carol")[0]
    one_on_one = titled(occurrences, "Alice / Bob 1:1")[0]

    assert [(a.email, a.name) for a in lunch.attendees] == [
        (CAROL, "Carol Example"),
        (ALICE, ALICE),
    ]
    assert "priorities, blockers, and anything else" in one_on_one.description


# Whose calendar, and their answers ---------------------------------------------------------


def test_the_owner_is_the_calendar_name_when_it_is_an_address() -> None:
    # Bob and Carol organise every event in this file; the name still says it is alice's.
    assert IcsCalendar.from_bytes(fixture("recurrences.ics")).owner() == ALICE


def test_the_owner_is_the_most_frequent_organizer_when_the_name_is_no_address() -> None:
    calendar = IcsCalendar.from_bytes(fixture("outlook.ics"))

    assert calendar.name == "Calendar"
    assert calendar.owner() == ALICE


@pytest.mark.parametrize(
    ("title", "response"),
    [
        ("Lunch with Carol", "accepted"),
        ("Atlas design review", "tentative"),
        ("Coffee with Erin", "declined"),
    ],
)
def test_my_response_is_the_owners_partstat(title: str, response: str) -> None:
    event = titled(read(fixture("google.ics")), title)[0]

    assert event.my_response == response


def test_my_response_is_accepted_when_the_owner_organises_without_being_listed() -> None:
    occurrences = read(fixture("outlook.ics"))

    assert titled(occurrences, "Lunch with Carol")[0].my_response == "accepted"
    assert titled(occurrences, "Alice / Bob 1:1")[0].my_response == "tentative"


def test_my_response_follows_whoever_the_calendar_belongs_to() -> None:
    review = titled(read(fixture("google.ics"), me=CAROL), "Atlas design review")[0]

    assert review.my_response == "accepted"


# Hostile titles ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "summary",
    [
        pytest.param(
            r"Lunch with Carol\nBcc: mallory@evil.example" + "\x07\x00 URGENT", id="escaped LF"
        ),
        pytest.param(
            r"Lunch with Carol\r\nBcc: mallory@evil.example" + "\x07\x00 URGENT", id="escaped CRLF"
        ),
        pytest.param(
            r"Lunch with Carol\NBcc: mallory@evil.example" + "\x1b\x7f URGENT", id="escaped N"
        ),
    ],
)
def test_a_hostile_title_becomes_one_clean_line(summary: str) -> None:
    data = vcalendar(vevent("hostile@test", "20260304T110000Z", summary, "DTEND:20260304T120000Z"))

    (event,) = read(data)

    assert event.title == "Lunch with Carol Bcc: mallory@evil.example URGENT"
