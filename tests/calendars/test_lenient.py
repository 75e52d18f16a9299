"""One broken minor property drops that property, not the event; other formats are refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from service.calendars.ics import CalendarError, IcsCalendar
from service.cli import main

NOW = datetime(2026, 3, 2, tzinfo=UTC)


def calendar(extra: str, title: str = "Train to Berlin") -> bytes:
    event = (
        "BEGIN:VEVENT\r\nUID:trip-1\r\nDTSTART:20260303T120000Z\r\nDTEND:20260303T130000Z\r\n"
        f"SUMMARY:{title}\r\nORGANIZER:mailto:alice@example.com\r\n"
        f"ATTENDEE:mailto:carol@example.com\r\n{extra}END:VEVENT\r\n"
    )
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:test\r\n{event}END:VCALENDAR\r\n".encode()


def read(data: bytes) -> tuple[list, list[str]]:
    found = IcsCalendar.from_bytes(data)
    occurrences = found.occurrences(NOW, NOW + timedelta(days=14), ZoneInfo("UTC"), "alice@x")
    return occurrences, found.warnings


ALARM = "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER;RELATED=START:PT-2H\r\nEND:VALARM\r\n"


@pytest.mark.parametrize(
    ("extra", "dropped"),
    [
        (ALARM, "alarm"),
        ("SEQUENCE:x\r\n", "SEQUENCE"),
    ],
)
def test_an_event_with_one_unreadable_minor_part_is_kept_without_it(
    extra: str, dropped: str
) -> None:
    occurrences, warnings = read(calendar(extra))

    assert [o.title for o in occurrences] == ["Train to Berlin"]
    assert warnings == [f"event 'Train to Berlin' at line 4: ignored its unreadable {dropped}"]


@pytest.mark.parametrize(
    ("extra", "warned"),
    [
        ("LOCATION;VALUE=TEXT;VALUE=URI:Cafe\r\n", []),
        ("URL;VALUE=URI:not a url\r\n", []),
        ("PRIORITY:\r\n", ["event 'Lunch with Carol' at line 4: ignored its unreadable PRIORITY"]),
    ],
)
def test_odd_parameters_and_empty_values_keep_the_event(extra: str, warned: list[str]) -> None:
    occurrences, warnings = read(calendar(extra, title="Lunch with Carol"))

    assert [o.title for o in occurrences] == ["Lunch with Carol"]
    assert warnings == warned


def test_a_warning_never_shows_python_s_own_words() -> None:
    broken = calendar("RRULE:FREQ=WEEKLY;UNTIL=notadate\r\n")
    _, warnings = read(broken)

    assert warnings
    assert not any("object" in w or "instances of" in w or "NoneType" in w for w in warnings)


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (
            b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Carol\r\nEND:VCARD\r\n",
            "it is a contact card (vCard), not a calendar",
        ),
        (
            b"BEGIN:XCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART:20260303T120000Z\r\n"
            b"SUMMARY:Lunch\r\nEND:VEVENT\r\nEND:XCALENDAR\r\n",
            "it wraps its events in XCALENDAR, which is not iCalendar (VCALENDAR)",
        ),
        (
            b"<!doctype html><html><body>Sign in</body></html>",
            "it is not an iCalendar file (no BEGIN:VCALENDAR or BEGIN:VEVENT)",
        ),
    ],
)
def test_what_is_not_a_calendar_is_refused_in_one_line(
    data: bytes, said: str, tmp_path: object
) -> None:
    with pytest.raises(CalendarError, match=f"^{said}$".replace("(", r"\(").replace(")", r"\)")):
        IcsCalendar.from_bytes(data)
    result = CliRunner().invoke(main, ["scan", "-"], input=data)
    assert result.exit_code == 2
    assert result.stderr.strip() == f"touchpoint: cannot read the calendar: {said}"


def test_a_broken_event_far_larger_than_a_real_one_is_skipped_without_retrying() -> None:
    crowd = "".join(f"ATTENDEE:mailto:p{n}@example.com\r\n" for n in range(2000))

    occurrences, warnings = read(calendar(crowd + ALARM))

    assert occurrences == []
    assert warnings == ["skipped event 'Train to Berlin' at line 4: it is not valid iCalendar"]
