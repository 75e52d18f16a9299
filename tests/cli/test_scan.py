"""`touchpoint scan` end to end: window, zones, notes, proposals, cadence, JSON, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result

from service.cli import main
from tests.factories import ALICE, BERLIN, BOB, CAROL, DAN

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
GOOGLE = str(FIXTURES / "google.ics")
TWO_WEEKS = ("--from", "2026-03-02", "--days", "14")
CONSOLE_SCRIPT = Path(sys.executable).with_name("touchpoint")
BUFFER = timedelta(minutes=5)


@pytest.fixture(autouse=True)
def no_allowed_networks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start every test from the default: no private network allowed."""
    monkeypatch.delenv("TOUCHPOINT_ALLOW_NETWORKS", raising=False)


def scan(*args: str, stdin: bytes | None = None, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, ["scan", *args], input=stdin, env=env)


def scan_json(calendar: str, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    result = scan(calendar, *args, "--format", "json", env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def fixture(name: str) -> str:
    return str(FIXTURES / name)


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def titled(document: dict[str, Any], key: str, title: str) -> list[dict[str, Any]]:
    return [item for item in document[key] if item["title"] == title]


# The window --------------------------------------------------------------------------------


def test_the_window_includes_its_start_and_excludes_its_end() -> None:
    # The lunch starts exactly at --from, the coffee exactly at --to.
    document = scan_json(
        GOOGLE, "--from", "2026-03-04T12:00+01:00", "--to", "2026-03-05T15:30+01:00"
    )

    assert [o["title"] for o in document["occurrences"]] == ["Lunch with Carol"]


def test_an_occurrence_that_started_before_the_window_and_ends_inside_it_counts() -> None:
    document = scan_json(
        GOOGLE, "--from", "2026-03-04T12:30+01:00", "--to", "2026-03-04T18:00+01:00"
    )

    assert [o["title"] for o in document["occurrences"]] == ["Lunch with Carol"]


def test_from_as_a_date_is_midnight_in_the_chosen_zone() -> None:
    window = scan_json(GOOGLE, *TWO_WEEKS, "--tz", "America/New_York")["window"]

    # Fourteen local days, across the US change to summer time on 8 March.
    assert window == {
        "start": "2026-03-02T00:00:00-05:00",
        "end": "2026-03-16T00:00:00-04:00",
        "tz": "America/New_York",
    }


@pytest.mark.parametrize(
    ("given", "start"),
    [
        ("2026-03-02T08:00:00Z", "2026-03-02T09:00:00+01:00"),
        ("2026-03-02T12:00:00+05:30", "2026-03-02T07:30:00+01:00"),
        ("2026-03-02T08:00", "2026-03-02T08:00:00+01:00"),
    ],
)
def test_from_as_a_date_time_is_exact(given: str, start: str) -> None:
    window = scan_json(GOOGLE, "--from", given, "--days", "1")["window"]

    assert window["start"] == start


def test_days_sets_the_length_of_the_window() -> None:
    document = scan_json(GOOGLE, "--from", "2026-03-03", "--days", "2")

    assert document["window"]["end"] == "2026-03-05T00:00:00+01:00"
    assert [o["title"] for o in document["occurrences"]] == ["Alice / Bob 1:1", "Lunch with Carol"]


@pytest.mark.parametrize(
    ("name", "zone"),
    [
        pytest.param("google.ics", "Europe/Berlin", id="X-WR-TIMEZONE"),
        pytest.param("outlook.ics", "Europe/Berlin", id="its only TZID"),
        pytest.param("bare.ics", "UTC", id="neither"),
    ],
)
def test_tz_defaults_to_the_calendars_own_zone_else_utc(name: str, zone: str) -> None:
    assert scan_json(fixture(name), *TWO_WEEKS)["window"]["tz"] == zone


def test_times_are_iso_8601_in_the_chosen_zone_with_their_offset() -> None:
    zone = ZoneInfo("America/New_York")
    document = scan_json(GOOGLE, *TWO_WEEKS, "--tz", zone.key)

    timed = [o for o in document["occurrences"] if not o["all_day"]]
    assert titled(document, "occurrences", "Lunch with Carol")[0]["start"] == (
        "2026-03-04T06:00:00-05:00"
    )
    assert [o["start"] for o in titled(document, "occurrences", "Alice / Bob 1:1")] == [
        "2026-03-03T04:00:00-05:00",
        "2026-03-10T05:00:00-04:00",
    ]
    for item in timed + document["touchpoints"] + document["proposals"]:
        start = moment(item["start"])
        assert start.utcoffset() == start.astimezone(zone).utcoffset()


def test_all_day_occurrences_are_plain_dates() -> None:
    offsite = titled(scan_json(GOOGLE, *TWO_WEEKS), "occurrences", "Team offsite")[0]

    assert (offsite["start"], offsite["end"], offsite["all_day"]) == (
        "2026-03-13",
        "2026-03-14",
        True,
    )


# Whose calendar, and what they want --------------------------------------------------------


def test_me_defaults_to_the_inferred_owner() -> None:
    document = scan_json(fixture("outlook.ics"), *TWO_WEEKS)

    assert document["me"] == ALICE
    assert titled(document, "occurrences", "Alice / Bob 1:1")[0]["response"] == "tentative"


def test_me_changes_whose_answers_count() -> None:
    # Alice is only tentative for the review; Carol, whose calendar it now is, accepted it.
    alices = titled(scan_json(GOOGLE, *TWO_WEEKS), "touchpoints", "Atlas design review")[0]
    document = scan_json(GOOGLE, *TWO_WEEKS, "--me", CAROL)
    carols = titled(document, "touchpoints", "Atlas design review")[0]

    assert document["me"] == CAROL
    assert titled(document, "occurrences", "Atlas design review")[0]["response"] == "accepted"
    assert "you are only tentative" in alices["reasons"]
    assert "you are only tentative" not in carols["reasons"]
    assert carols["people"] == [DAN, ALICE]


def test_declined_events_are_not_touchpoints() -> None:
    document = scan_json(GOOGLE, *TWO_WEEKS)

    coffee = titled(document, "occurrences", "Coffee with Erin")[0]
    assert (coffee["response"], coffee["kind"]) == ("declined", None)
    assert not titled(document, "touchpoints", "Coffee with Erin")


def test_cancelled_instances_are_not_touchpoints() -> None:
    document = scan_json(fixture("recurrences.ics"), *TWO_WEEKS)

    coffees = titled(document, "occurrences", "Coffee with Carol")
    assert [(c["start"][:10], c["status"], c["kind"]) for c in coffees] == [
        ("2026-03-05", "cancelled", None),
        ("2026-03-12", "confirmed", "coffee"),
    ]
    assert [t["start"][:10] for t in titled(document, "touchpoints", "Coffee with Carol")] == [
        "2026-03-12"
    ]


def notes_of(document: dict[str, Any], title: str) -> list[str]:
    return [t["prep_note"]["text"] for t in titled(document, "touchpoints", title)]


def test_manager_makes_the_note_about_keeping_them_up_to_date() -> None:
    plain = notes_of(scan_json(GOOGLE, *TWO_WEEKS), "Alice / Bob 1:1")[0]
    managed = notes_of(scan_json(GOOGLE, *TWO_WEEKS, "--manager", BOB), "Alice / Bob 1:1")[0]

    assert "Keep Bob Example up to date" not in plain
    assert "Keep Bob Example up to date" in managed


def test_stage_changes_the_insight_to_ask_for() -> None:
    document = scan_json(GOOGLE, *TWO_WEEKS, "--stage", "new_project")

    notes = [t["prep_note"]["text"] for t in document["touchpoints"] if t["prep_note"]]
    assert any("what good looks like on this project" in note for note in notes)
    assert all("on this project" in note or "the project" in note for note in notes)


def test_goal_appears_in_the_notes() -> None:
    document = scan_json(GOOGLE, *TWO_WEEKS, "--goal", "lead the Atlas platform team")

    notes = [t["prep_note"]["text"] for t in document["touchpoints"] if t["prep_note"]]
    assert notes
    assert all('Your goal: "lead the Atlas platform team".' in note for note in notes)


@pytest.mark.parametrize(
    "name", ["google.ics", "recurrences.ics", "daily.ics", "mentoring_booked.ics"]
)
@pytest.mark.parametrize("goal", ["", "grow into a staff engineer role " * 20])
def test_every_touchpoint_has_a_note_of_two_to_four_lines_and_at_most_120_words(
    name: str, goal: str
) -> None:
    document = scan_json(fixture(name), *TWO_WEEKS, "--goal", goal, "--manager", BOB)

    noted = [t for t in document["touchpoints"] if t["prep_note"]]
    assert noted
    for touchpoint in noted:
        text = touchpoint["prep_note"]["text"]
        assert 2 <= len(text.splitlines()) <= 4, text
        assert len(text.split()) <= 120, text
        assert "\n" not in touchpoint["prep_note"]["subject"]


# Proposals ---------------------------------------------------------------------------------


def local_span(proposal: dict[str, Any], zone: ZoneInfo) -> tuple[time, time]:
    return moment(proposal["start"]).astimezone(zone).time(), moment(proposal["end"]).astimezone(
        zone
    ).time()


def test_proposals_are_up_to_three_fifteen_minute_slots_inside_working_hours() -> None:
    proposals = scan_json(GOOGLE, *TWO_WEEKS)["proposals"]

    assert 1 <= len(proposals) <= 3
    for proposal in proposals:
        start, end = local_span(proposal, BERLIN)
        assert proposal["minutes"] == 15
        assert moment(proposal["end"]) - moment(proposal["start"]) == timedelta(minutes=15)
        assert time(9) <= start
        assert end <= time(17, 30)
        assert moment(proposal["start"]).astimezone(BERLIN).weekday() < 5


def test_hours_change_where_proposals_land() -> None:
    proposals = scan_json(GOOGLE, *TWO_WEEKS, "--hours", "13:00-14:00")["proposals"]

    assert proposals
    for proposal in proposals:
        start, end = local_span(proposal, BERLIN)
        assert time(13) <= start
        assert end <= time(14)


def test_proposals_never_overlap_a_busy_occurrence_or_its_buffer() -> None:
    document = scan_json(GOOGLE, *TWO_WEEKS)
    busy = [
        (moment(o["start"]), moment(o["end"]))
        for o in document["occurrences"]
        if not o["all_day"] and o["status"] != "cancelled" and o["response"] != "declined"
    ]

    for proposal in document["proposals"]:
        start, end = moment(proposal["start"]), moment(proposal["end"])
        assert all(end + BUFFER <= lo or start >= hi + BUFFER for lo, hi in busy), proposal


def test_the_buffer_keeps_a_proposal_off_the_end_of_a_meeting() -> None:
    # The stand-up ends at 09:45; without five minutes' air, 09:45 would be free.
    proposals = scan_json(fixture("daily.ics"), *TWO_WEEKS, "--hours", "09:30-10:15")["proposals"]

    assert [p["start"] for p in proposals] == [
        "2026-03-02T10:00:00+01:00",
        "2026-03-03T10:00:00+01:00",
        "2026-03-04T10:00:00+01:00",
    ]


def test_proposals_never_come_before_the_start_of_the_window() -> None:
    start = "2026-03-02T11:07:00+01:00"
    proposals = scan_json(GOOGLE, "--from", start, "--days", "14")["proposals"]

    assert proposals
    assert all(moment(p["start"]) >= moment(start) for p in proposals)


def test_proposals_keep_local_working_hours_across_dst() -> None:
    # Summer time starts in Berlin on Sunday 29 March: 09:45 local is 08:45Z before, 07:45Z after.
    document = scan_json(
        fixture("dst.ics"), "--from", "2026-03-27", "--days", "7", "--hours", "09:00-10:30"
    )

    assert [(p["start"], p["end"]) for p in document["proposals"]] == [
        ("2026-03-27T09:45:00+01:00", "2026-03-27T10:00:00+01:00"),
        ("2026-03-30T09:45:00+02:00", "2026-03-30T10:00:00+02:00"),
        ("2026-03-31T09:45:00+02:00", "2026-03-31T10:00:00+02:00"),
    ]


# Cadence -----------------------------------------------------------------------------------


def test_a_career_conversation_twenty_days_before_the_window_is_not_due() -> None:
    document = scan_json(fixture("mentoring_recent.ics"), *TWO_WEEKS)

    assert document["cadence"]["last_career_conversation"] == "2026-02-09T15:00:00+01:00"
    assert (document["cadence"]["days_since"], document["cadence"]["due"]) == (20, False)
    assert document["proposals"] == []


def test_days_since_counts_from_the_start_of_the_window_not_the_clock() -> None:
    document = scan_json(fixture("mentoring_recent.ics"), "--from", "2026-02-20", "--days", "14")

    assert document["cadence"]["days_since"] == 10


def test_no_career_conversation_in_sixty_days_is_due_with_proposals() -> None:
    document = scan_json(GOOGLE, *TWO_WEEKS)

    assert document["cadence"] == {
        "last_career_conversation": None,
        "days_since": None,
        "due": True,
        "booked_ahead": None,
    }
    assert document["proposals"]


def test_one_booked_inside_the_window_is_not_due() -> None:
    document = scan_json(fixture("mentoring_booked.ics"), *TWO_WEEKS)

    assert document["cadence"]["due"] is False
    assert document["cadence"]["booked_ahead"] == "2026-03-10T16:00:00+01:00"
    assert titled(document, "touchpoints", "Mentoring with Grace")[0]["kind"] == "career"
    assert document["proposals"] == []


def test_the_same_file_and_window_give_the_same_json() -> None:
    first = scan(GOOGLE, *TWO_WEEKS, "--format", "json")
    second = scan(GOOGLE, *TWO_WEEKS, "--format", "json")

    assert first.exit_code == second.exit_code == 0
    assert first.stdout == second.stdout


# The JSON shape ----------------------------------------------------------------------------


def assert_shape(item: dict[str, Any], shape: dict[str, Any]) -> None:
    for key, kinds in shape.items():
        assert key in item, key
        assert isinstance(item[key], kinds), (key, item[key])


def test_the_json_has_every_public_key_with_its_type() -> None:
    document = scan_json(GOOGLE, *TWO_WEEKS)
    maybe_str = (str, type(None))

    assert_shape(
        document, dict.fromkeys(["occurrences", "touchpoints", "proposals", "warnings"], list)
    )
    assert_shape(document["window"], {"start": str, "end": str, "tz": str})
    assert_shape(
        document["cadence"],
        {"last_career_conversation": maybe_str, "days_since": (int, type(None)), "due": bool},
    )
    occurrence = {
        "uid": str,
        "start": str,
        "end": str,
        "title": str,
        "all_day": bool,
        "attendees": list,
        "kind": maybe_str,
    }
    for item in document["occurrences"]:
        assert_shape(item, occurrence)
        assert all("@" in email for email in item["attendees"])
    touchpoint = {
        **occurrence,
        "kind": str,
        "score": float,
        "reasons": list,
        "people": list,
        "prep_note": dict,
        "note_from": type(None),  # only a touchpoint past the notes' horizon has one
    }
    del touchpoint["all_day"], touchpoint["attendees"]
    for item in document["touchpoints"]:
        assert_shape(item, touchpoint)
        assert all(isinstance(r, str) for r in item["reasons"])
        assert all("@" in email for email in item["people"])
        assert_shape(item["prep_note"], {"subject": str, "text": str})
        assert item["kind"] in ("meal", "coffee", "one_on_one", "project", "career")
    for item in document["proposals"]:
        assert_shape(
            item, {"start": str, "end": str, "minutes": int, "with": maybe_str, "reason": str}
        )
        assert item["minutes"] == 15
    assert document["occurrences"]
    assert document["touchpoints"]
    assert document["proposals"]


def test_warnings_name_the_broken_events_as_sentences() -> None:
    warnings = scan_json(fixture("broken.ics"), *TWO_WEEKS)["warnings"]

    assert warnings
    assert all(isinstance(w, str) and "\n" not in w for w in warnings)
    assert any("Ghost meeting" in w for w in warnings)


# Bad input ---------------------------------------------------------------------------------


class CalendarServer(ThreadingHTTPServer):
    """Serve the fixtures on loopback and record every path asked for."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), FixtureHandler)
        self.seen: list[str] = []

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/{name}"


class FixtureHandler(BaseHTTPRequestHandler):
    server: CalendarServer

    def do_GET(self) -> None:
        self.server.seen.append(self.path)
        path = FIXTURES / self.path.lstrip("/")
        body = path.read_bytes() if path.is_file() else b""
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "text/calendar; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output free of access logs."""


@pytest.fixture
def server() -> Iterator[CalendarServer]:
    server = CalendarServer()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def assert_refused(result: Result, fragment: str) -> None:
    lines = result.stderr.splitlines()
    assert result.exit_code == 2, result.output
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("touchpoint: ")
    assert fragment in lines[0]
    assert "Traceback" not in result.output
    assert result.stdout == ""


LOOPBACK = {"TOUCHPOINT_ALLOW_NETWORKS": "127.0.0.1/32"}


@pytest.mark.parametrize(
    ("args", "env", "fragment"),
    [
        pytest.param([fixture("missing.ics")], None, "No such file", id="missing file"),
        pytest.param([str(FIXTURES)], None, "directory", id="a directory"),
        pytest.param([str(Path(__file__))], None, "not an iCalendar file", id="not iCalendar"),
        pytest.param(
            ["http://127.0.0.1:9/calendar.ics"],
            LOOPBACK,
            "refused the connection",
            id="unreachable URL",
        ),
        pytest.param(
            ["webcal://localhost/calendar.ics"], None, "not allowed", id="webcal localhost"
        ),
        pytest.param(
            [GOOGLE, "--tz", "Mars/Olympus_Mons"], None, "unknown time zone", id="bad --tz"
        ),
        pytest.param([GOOGLE, "--from", "next monday"], None, "not an ISO date", id="bad --from"),
        pytest.param(
            [GOOGLE, "--from", "2026-03-10", "--to", "2026-03-02"],
            None,
            "--to must be after --from",
            id="--to before --from",
        ),
        pytest.param([GOOGLE, "--hours", "9-5"], None, "--hours", id="bad --hours"),
        pytest.param(
            [GOOGLE, "--hours", "17:30-09:00"],
            None,
            "ends before it starts",
            id="backwards --hours",
        ),
        pytest.param(
            [GOOGLE],
            {"TOUCHPOINT_ALLOW_NETWORKS": "127.0.0.1/8"},
            "TOUCHPOINT_ALLOW_NETWORKS",
            id="bad allowlist",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(
    args: list[str], env: dict[str, str] | None, fragment: str
) -> None:
    assert_refused(scan(*TWO_WEEKS, *args, env=env), fragment)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(
            b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nDTSTART:2026", id="truncated"
        ),
    ],
)
def test_an_unreadable_calendar_file_exits_2_with_one_line(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "calendar.ics"
    path.write_bytes(data)

    assert_refused(scan(str(path), *TWO_WEEKS), "cannot read the calendar")


def test_an_empty_stdin_exits_2_with_one_line() -> None:
    assert_refused(scan("-", *TWO_WEEKS, stdin=b""), "empty")


def test_a_file_over_10_mib_is_refused_as_too_big(tmp_path: Path) -> None:
    path = tmp_path / "huge.ics"
    path.write_bytes(Path(GOOGLE).read_bytes().ljust(10 * 2**20 + 1, b"\n"))

    assert_refused(scan(str(path), *TWO_WEEKS), "too big")


def test_a_loopback_url_is_refused_before_connecting(server: CalendarServer) -> None:
    assert_refused(scan(server.url("google.ics"), *TWO_WEEKS), "not allowed")
    assert server.seen == []


def test_a_calendar_fetched_over_http_scans_like_the_file(server: CalendarServer) -> None:
    fetched = scan_json(server.url("google.ics"), *TWO_WEEKS, env=LOOPBACK)

    assert fetched == scan_json(GOOGLE, *TWO_WEEKS)
    assert server.seen == ["/google.ics"]


# The text report ---------------------------------------------------------------------------


def test_the_text_report_lists_each_week_with_notes_and_proposals() -> None:
    result = scan(GOOGLE, *TWO_WEEKS)
    text = result.stdout

    assert result.exit_code == 0
    assert "No career conversation in the last 60 days: one is due." in text
    first, second = text.index("Week of Mon 2 Mar 2026"), text.index("Week of Mon 9 Mar 2026")
    assert first < text.index("Lunch with Carol") < second < text.index("Coffee with Erin")
    assert "Prep: lunch with Carol Example (Wed 12:00)" in text
    assert "At lunch with Carol Example, keep it light: one question is enough." in text
    assert "Proposed 15-minute career chat with Bob Example (bob@example.com)" in text
    # The reason names the 1:1 the first slot follows.
    reason = "You have a 1:1 with Bob Example on Tue 3 Mar; ask for fifteen minutes right after."
    assert reason in text
    assert "  1. Tue 3 Mar 2026 10:35-10:50" in text


def test_the_text_report_proposes_nothing_when_no_chat_is_due() -> None:
    text = scan(fixture("mentoring_recent.ics"), *TWO_WEEKS).stdout

    assert "Your last career conversation was 20 days ago." in text
    assert "Proposed" not in text


# The console script ------------------------------------------------------------------------


def run_script(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "TOUCHPOINT_ALLOW_NETWORKS"}
    command = [str(CONSOLE_SCRIPT), "scan", *args]
    return subprocess.run(
        command, input=stdin, capture_output=True, env=env, timeout=60, check=False
    )


def test_the_console_script_scans_a_file() -> None:
    done = run_script(GOOGLE, *TWO_WEEKS)

    assert done.returncode == 0, done.stderr
    assert "Week of Mon 2 Mar 2026" in done.stdout.decode()
    assert done.stderr == b""


def test_the_console_script_reads_a_calendar_from_stdin() -> None:
    done = run_script("-", *TWO_WEEKS, "--format", "json", stdin=Path(GOOGLE).read_bytes())

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == scan_json(GOOGLE, *TWO_WEEKS)


def test_the_console_script_exits_2_with_one_line_for_a_missing_file() -> None:
    done = run_script(fixture("missing.ics"), *TWO_WEEKS)

    assert done.returncode == 2
    assert done.stderr.decode().splitlines() == [
        f"touchpoint: cannot read {fixture('missing.ics')}: No such file or directory"
    ]
    assert done.stdout == b""


@pytest.mark.parametrize("scheme", ["webcal", "webcals", "https"])
def test_every_calendar_url_scheme_is_fetched_as_a_url_not_opened_as_a_file(scheme: str) -> None:
    result = scan(f"{scheme}://127.0.0.1:1/calendar.ics")

    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "touchpoint: cannot fetch the calendar: 127.0.0.1 is a loopback address, "
        "which is not allowed."
    )


# How far ahead notes are written ------------------------------------------------------------

FOUR_WEEKS = ("--from", "2026-03-02", "--days", "28")
SAMPLE = str(Path(__file__).resolve().parents[2] / "service" / "samples" / "alice.ics")


def test_notes_are_written_for_the_first_note_days_and_later_ones_say_when() -> None:
    everything = scan_json(SAMPLE, *FOUR_WEEKS, "--note-days", "28")
    first_week = scan_json(SAMPLE, *FOUR_WEEKS, "--note-days", "7")
    horizon = moment("2026-03-09T00:00:00+01:00")

    # The same touchpoints; those in the first week with the very same notes.
    assert len(first_week["touchpoints"]) == len(everything["touchpoints"])
    assert first_week["occurrences"] == everything["occurrences"]
    later = 0
    for near, full in zip(first_week["touchpoints"], everything["touchpoints"], strict=True):
        assert (near["uid"], near["start"]) == (full["uid"], full["start"])
        if moment(near["start"]) < horizon:
            assert near == full
            continue
        assert near["prep_note"] is None
        if full["prep_note"] is None:
            assert near["note_from"] is None
        else:  # the note will be written once the meeting is within 7 days
            later += 1
            assert moment(near["note_from"]) == moment(near["start"]) - timedelta(days=7)
    assert later >= 5
    assert all(t["note_from"] is None for t in everything["touchpoints"])


def test_notes_are_written_two_weeks_ahead_unless_told_otherwise() -> None:
    default = scan_json(SAMPLE, *FOUR_WEEKS)
    noted = [moment(t["start"]) for t in default["touchpoints"] if t["prep_note"]]
    waiting = [moment(t["start"]) for t in default["touchpoints"] if t["note_from"]]
    horizon = moment("2026-03-16T00:00:00+01:00")
    assert noted
    assert waiting
    assert all(start < horizon for start in noted)
    assert all(start >= horizon for start in waiting)

    told = scan_json(SAMPLE, *FOUR_WEEKS, env={"TOUCHPOINT_NOTE_DAYS": "28"})
    assert all(t["note_from"] is None for t in told["touchpoints"])
    assert len([t for t in told["touchpoints"] if t["prep_note"]]) == len(noted) + len(waiting)


def test_the_text_report_says_when_a_later_note_is_written() -> None:
    text = scan(GOOGLE, *FOUR_WEEKS, "--note-days", "7").stdout
    entry = text[text.index("Tue 10 Mar 2026 10:00-10:30  Alice / Bob 1:1") :]
    assert entry.splitlines()[2].strip() == (
        "Prep: notes are written 7 days ahead, this one from Tue 3 Mar 2026"
    )


@pytest.mark.parametrize(
    ("args", "env"),
    [(("--note-days", "0"), {}), ((), {"TOUCHPOINT_NOTE_DAYS": "0"})],
    ids=["flag", "setting"],
)
def test_notes_zero_days_ahead_is_refused(args: tuple[str, ...], env: dict[str, str]) -> None:
    result = scan(GOOGLE, *TWO_WEEKS, *args, env=env)
    assert result.exit_code == 2
    assert "0" in result.output
