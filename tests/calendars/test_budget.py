"""Any calendar, bounded: hostile repeat rules and sheer size cost a bounded amount of work.

Through the reader (as uploads, feeds and syncs use it) and through `touchpoint scan`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from service.calendars.budget import DEFAULT, Budget
from service.calendars.ics import IcsCalendar

UTC_ZONE = ZoneInfo("UTC")
NOW = datetime(2026, 3, 2, tzinfo=UTC)
CONSOLE_SCRIPT = Path(sys.executable).with_name("touchpoint")


def calendar(*events: str) -> bytes:
    body = "".join(f"BEGIN:VEVENT\r\n{event}END:VEVENT\r\n" for event in events)
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:test\r\n{body}END:VCALENDAR\r\n".encode()


def event(uid: str, start: str, title: str = "Coffee", rule: str = "") -> str:
    lines = [f"UID:{uid}", f"DTSTART:{start}", "DURATION:PT15M", f"SUMMARY:{title}"]
    lines += [f"RRULE:{rule}"] if rule else []
    lines += ["ORGANIZER:mailto:alice@example.com", "ATTENDEE:mailto:carol@example.com"]
    return "".join(f"{line}\r\n" for line in lines)


def read(data: bytes, budget: Budget = DEFAULT, days: int = 14) -> tuple[list, list[str]]:
    found = IcsCalendar.from_bytes(data)
    start, end = NOW - timedelta(days=60), NOW + timedelta(days=days)
    occurrences = found.occurrences(start, end, UTC_ZONE, "alice@example.com", budget, focus=NOW)
    return occurrences, found.warnings


SECONDLY = calendar(event("boom@example.com", "20260101T090000Z", rule="FREQ=SECONDLY"))


def test_an_event_repeating_every_second_is_skipped_and_named() -> None:
    assert len(SECONDLY) < 300
    occurrences, warnings = read(SECONDLY)

    assert occurrences == []
    assert warnings == [
        "skipped event 'Coffee' at line 4: it repeats every second, more often than anyone meets"
    ]


def test_fifty_events_repeating_every_minute_are_each_skipped_and_the_rest_is_read() -> None:
    minutely = [event(f"m{i}", "20260101T090000Z", rule="FREQ=MINUTELY") for i in range(50)]
    lunch = event("lunch", "20260303T120000Z", title="Lunch with Carol")

    occurrences, warnings = read(calendar(*minutely, lunch))

    assert [o.title for o in occurrences] == ["Lunch with Carol"]
    assert len(warnings) == 50
    assert all("repeats every minute, more often than anyone meets" in w for w in warnings)


def test_a_rule_every_fifteen_minutes_is_sub_hourly_but_an_hourly_one_is_read() -> None:
    quarter = event("q", "20260301T090000Z", rule="FREQ=MINUTELY;INTERVAL=15;COUNT=8")
    hourly = event("h", "20260302T090000Z", title="Office hours", rule="FREQ=HOURLY;COUNT=3")

    occurrences, warnings = read(calendar(quarter, hourly))

    assert [o.title for o in occurrences] == ["Office hours"] * 3
    assert warnings == [
        "skipped event 'Coffee' at line 4: it repeats every 15 minutes, more often than anyone "
        "meets"
    ]


def test_a_series_over_its_budget_keeps_the_days_ahead_and_says_so() -> None:
    hourly = event("h", "20160101T090000Z", title="Pairing", rule="FREQ=HOURLY")

    occurrences, warnings = read(calendar(hourly), Budget(per_series=100))

    assert len(occurrences) == 100
    assert min(o.start for o in occurrences) >= NOW  # the look-back gave way to the days ahead
    assert warnings == ["event 'Pairing' repeats more than 100 times here: kept 100"]


def test_a_calendar_over_the_budget_of_one_read_keeps_that_many_events_and_says_so() -> None:
    many = [event(f"e{i}", "20260303T120000Z", title=f"Meeting {i}") for i in range(300)]

    occurrences, warnings = read(calendar(*many), Budget(occurrences=100))

    assert len(occurrences) == 100
    assert warnings == ["kept the first 100 events: the rest is left out"]


def test_reading_stops_when_its_time_is_up() -> None:
    lunch = event("lunch", "20260303T120000Z", title="Lunch with Carol")

    occurrences, warnings = read(calendar(lunch), Budget(seconds=0))

    assert occurrences == []
    assert warnings == ["stopped reading after the time allowed: the rest is left out"]


def scan_json(path: Path, *args: str, env: dict[str, str] | None = None) -> dict:
    result = subprocess.run(
        [str(CONSOLE_SCRIPT), "scan", str(path), "--from", "2026-03-02", "--format", "json", *args],
        capture_output=True,
        timeout=300,  # a guard for the test run, not a measurement
        env={**os.environ, **(env or {})},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_touchpoint_scan_of_the_258_byte_calendar_answers_with_the_warning(
    tmp_path: Path,
) -> None:
    path = tmp_path / "secondly.ics"
    path.write_bytes(SECONDLY)

    document = scan_json(path)

    assert document["occurrences"] == []
    assert document["touchpoints"] == []
    assert "it repeats every second" in document["warnings"][0]


def test_touchpoint_scan_takes_its_limits_from_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "daily.ics"
    path.write_bytes(calendar(event("d", "20250101T090000Z", title="Standup", rule="FREQ=DAILY")))

    document = scan_json(path, "--days", "30", env={"TOUCHPOINT_MAX_PER_SERIES": "5"})

    assert len(document["occurrences"]) == 5
    assert document["warnings"] == ["event 'Standup' repeats more than 5 times here: kept 5"]


@pytest.mark.parametrize("value", ["many", "-1"])
def test_a_limit_that_is_not_a_count_is_refused_in_one_line(tmp_path: Path, value: str) -> None:
    path = tmp_path / "one.ics"
    path.write_bytes(SECONDLY)
    result = subprocess.run(
        [str(CONSOLE_SCRIPT), "scan", str(path)],
        capture_output=True,
        timeout=60,
        env={**os.environ, "TOUCHPOINT_MAX_PER_SERIES": value},
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.decode().strip().splitlines() == [
        f"touchpoint: TOUCHPOINT_MAX_PER_SERIES must be a whole number of at least 0, not {value!r}"
    ]


def test_a_day_with_more_events_than_anyone_attends_keeps_the_first_of_them_and_says_so() -> None:
    crowded = [
        event(f"d{i}", f"20260303T{8 + i % 10:02d}0000Z", title=f"Lunch {i}") for i in range(30_000)
    ]
    next_day = event("calm", "20260304T120000Z", title="Lunch with Carol")

    occurrences, warnings = read(calendar(*crowded, next_day), Budget(seconds=200))

    assert len(occurrences) == DEFAULT.per_day + 1
    assert [o.start.hour for o in occurrences[:3]] == [8, 8, 8]  # the day's first, in order
    assert occurrences[-1].title == "Lunch with Carol"
    assert warnings == [
        "Tue 3 Mar 2026 holds 30000 events, more than anyone attends in a day: kept the first 500"
    ]


FIRST = datetime(2025, 1, 1, tzinfo=UTC)
HOSTILE = {
    "50 events repeating every minute": (
        [event(f"m{i}", "20260101T090000Z", rule="FREQ=MINUTELY") for i in range(50)],
        "it repeats every minute, more often than anyone meets",
    ),
    "30,000 events on one day": (
        [event(f"d{i}", "20260303T120000Z", title=f"Lunch {i}") for i in range(30_000)],
        "Tue 3 Mar 2026 holds 30000 events, more than anyone attends in a day: kept the first 500",
    ),
    "200,000 RDATE values in one event": (
        [
            event("r", "20260302T090000Z", title="Standup")
            + "RDATE:"
            + ",".join(
                f"{FIRST + timedelta(minutes=10 * i):%Y%m%dT%H%M%SZ}" for i in range(200_000)
            )
            + "\r\n"
        ],
        "event 'Standup' repeats more than 1000 times here: kept 1000",
    ),
}


@pytest.mark.parametrize("shape", HOSTILE)
def test_touchpoint_scan_of_a_hostile_shape_answers_with_its_warning(
    tmp_path: Path, shape: str
) -> None:
    events, warning = HOSTILE[shape]
    path = tmp_path / "hostile.ics"
    path.write_bytes(calendar(*events))

    # The soft deadline out of the way: these are about what the budget keeps, not the clock.
    document = scan_json(path, env={"TOUCHPOINT_READ_SECONDS": "200"})

    assert warning in document["warnings"][0]
    assert len(document["occurrences"]) <= DEFAULT.per_series


def test_a_read_past_its_hard_ceiling_is_stopped_and_the_scan_says_so_in_one_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / "lunch.ics"
    path.write_bytes(calendar(event("lunch", "20260303T120000Z", title="Lunch with Carol")))
    no_time = {"TOUCHPOINT_READ_SECONDS": "0", "TOUCHPOINT_READ_HARD_SECONDS": "0"}

    result = subprocess.run(
        [str(CONSOLE_SCRIPT), "scan", str(path), "--from", "2026-03-02"],
        capture_output=True,
        timeout=60,
        env={**os.environ, **no_time},
        check=False,
    )

    assert result.returncode == 2
    assert result.stderr.decode().strip().splitlines() == [
        "touchpoint: cannot read the calendar: reading it took longer than 0 seconds"
    ]


def test_a_long_rdate_list_is_read_only_near_the_window_and_gives_the_same_instances() -> None:
    dates = [FIRST + timedelta(hours=6 * i) for i in range(20_000)]  # 2025 to 2038
    rdate = "RDATE:" + ",".join(f"{d:%Y%m%dT%H%M%SZ}" for d in dates) + "\r\n"
    lunch = event("r", "20250101T000000Z", title="Lunch with Carol") + rdate

    occurrences, warnings = read(calendar(lunch), Budget(seconds=200))

    window = [d for d in dates if NOW - timedelta(days=60) <= d < NOW + timedelta(days=14)]
    assert sorted(o.start for o in occurrences) == window
    assert warnings == []
