"""Conformance over the shared iCalendar corpus: other projects' test files, read by the scan.

Every file is scanned or refused cleanly (exit 2, one line, never a traceback), and every
occurrence expectation the source projects' own tests state comes out of the scan. The sweep runs
the click command in-process (the same code the console script runs); a few true subprocess runs
prove the installed entry point behaves the same.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
import warnings
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from itertools import islice
from pathlib import Path
from typing import Any

import icalendar
import pytest
import recurring_ical_events
from click.testing import CliRunner

from service.calendars import raw, rules
from service.calendars.expand import COMPONENTS
from service.cli import main

CORPUS = Path(
    os.environ.get("TOUCHPOINT_CORPUS")
    or Path(__file__).resolve().parents[2] / "shared" / "corpus" / "ics"
)
if not (CORPUS / "MANIFEST.tsv").is_file():
    # CI sets TOUCHPOINT_REQUIRE_CORPUS so a missing corpus fails there instead of skipping.
    if os.environ.get("TOUCHPOINT_REQUIRE_CORPUS"):
        raise RuntimeError(f"TOUCHPOINT_REQUIRE_CORPUS is set but {CORPUS} has no MANIFEST.tsv")
    pytest.skip(
        f"the shared iCalendar corpus is not beside the repository ({CORPUS})",
        allow_module_level=True,
    )

pytestmark = pytest.mark.corpus

# The manifest counts the bare libraries' occurrences over this window; the sweep uses the same.
SWEEP_WINDOW = ("--from", "2000-01-01", "--to", "2030-01-01")
PUBLIC_KEYS = {"window", "occurrences", "touchpoints", "proposals", "cadence", "warnings"}
MOST_REFUSALS = 15  # 12 today, all with nothing readable left; the bare libraries refuse ~120
UNBOUNDED = {"window_start": "1900-01-01", "window_end": "2100-01-01"}
GOOD_FILE = "python-recurring-ical-events/issue_20_exdate_ignored.ics"
FUZZ_FILE = "libical/test-data/fuzz69527"


@dataclass(frozen=True, slots=True)
class Outcome:
    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None


def read_tsv(name: str) -> list[dict[str, str]]:
    # Notes hold stray quotes and odd characters: tabs alone separate the fields.
    with (CORPUS / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


MANIFEST = read_tsv("MANIFEST.tsv")
EXPECTED = read_tsv("EXPECTED.tsv")


def scan(*args: str, stdin: bytes | None = None) -> Outcome:
    """Run `touchpoint scan ARGS` in-process, as the console script would."""
    result = CliRunner().invoke(main, ["scan", *args], input=stdin)
    return Outcome(result.exit_code, result.stdout, result.stderr, result.exception)


@cache
def swept(relative: str) -> Outcome:
    return scan(str(CORPUS / relative), *SWEEP_WINDOW, "--format", "json")


def assert_clean(outcome: Outcome) -> None:
    """Assert a scan printed the public JSON (exit 0) or refused in one line (exit 2)."""
    assert outcome.exception is None or isinstance(outcome.exception, SystemExit), repr(
        outcome.exception
    )
    assert "Traceback" not in outcome.stdout + outcome.stderr
    assert outcome.exit_code in (0, 2), outcome.stderr
    if outcome.exit_code == 0:
        assert json.loads(outcome.stdout).keys() >= PUBLIC_KEYS
    else:
        lines = outcome.stderr.splitlines()
        assert len(lines) == 1, outcome.stderr
        assert lines[0].startswith("touchpoint: ")
        assert lines[0].removeprefix("touchpoint: ").strip()


@pytest.mark.parametrize("relative", [row["path"] for row in MANIFEST])
def test_every_corpus_file_is_scanned_or_refused_cleanly(relative: str) -> None:
    assert (CORPUS / relative).is_file(), "the manifest names a file the corpus lacks"
    assert_clean(swept(relative))


def test_it_refuses_only_a_handful_of_corpus_files() -> None:
    refused = [row["path"] for row in MANIFEST if swept(row["path"]).exit_code == 2]
    listing = "\n".join(f"{p}: {swept(p).stderr.strip()}" for p in refused)
    assert len(refused) <= MOST_REFUSALS, f"{len(refused)} files refused:\n{listing}"


def test_it_scans_every_file_the_bare_libraries_read() -> None:
    readable = [row["path"] for row in MANIFEST if row["occurrences_2000_2030"].isdigit()]
    refused = [path for path in readable if swept(path).exit_code != 0]
    assert not refused, f"refused though icalendar reads them: {refused}"


# --- What the source projects' tests expect -------------------------------------------------


def expectation_id(row: dict[str, str]) -> str:
    return f"{row['path']}@{row['window_start']}..{row['window_end']}"


def window_of(row: dict[str, str]) -> list[str]:
    """Return --from/--to for a row; '*' (all(), after()) becomes a far bound.

    No --tz: the source tests' naive bounds mean each event's local time, which the scan's default
    zone (the calendar's own, else UTC) reproduces; bounds with an offset are exact instants anyway.
    """
    bounds = [
        UNBOUNDED[key] if row[key] == "*" else row[key] for key in ("window_start", "window_end")
    ]
    return ["--from", bounds[0], "--to", bounds[1]]


def counted(row: dict[str, str], occurrences: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Keep the occurrences the source test counted: its components, SUMMARY and UID filters."""
    components = re.search(r"with components ([A-Z,]+)", row["query_in_source"])
    kinds = set(components.group(1).split(",")) if components else {"VEVENT"}
    summary = re.search(r"SUMMARY contains '([^']*)'", row["notes"])
    uid = re.search(r"\bUID (\S+)", row["notes"])
    return [
        occ
        for occ in occurrences
        if occ["component"] in kinds
        and (not summary or summary.group(1) in occ["title"])
        and (not uid or occ["uid"] == uid.group(1))
    ]


def moment(text: str, exact: bool) -> str:
    """Return a comparable form of a start: its date, or (exact) its instant in UTC."""
    if not exact:
        return text[:10]
    value = datetime.fromisoformat(text)
    return value.astimezone(UTC).isoformat() if value.tzinfo else text


@pytest.mark.parametrize("row", EXPECTED, ids=[expectation_id(row) for row in EXPECTED])
def test_each_expectation_of_the_source_projects_holds(row: dict[str, str]) -> None:
    outcome = scan(str(CORPUS / row["path"]), *window_of(row), "--format", "json")
    assert outcome.exit_code == 0, outcome.stderr
    found = counted(row, json.loads(outcome.stdout)["occurrences"])
    starts = [occ["start"] for occ in found]
    if row["expected_count"]:
        assert len(found) == int(row["expected_count"]), starts
    expected = [value for value in row["expected_dates"].split(";") if value]
    exact = any(len(value) > 10 for value in expected)  # a time, hence an offset or Z
    wanted = sorted(moment(value, exact) for value in expected)
    got = sorted(moment(start, exact) for start in starts)
    if row["dates_match"] == "exact":
        assert got == wanted
    elif row["dates_match"] == "includes":
        assert set(wanted) <= set(got), got
    else:
        assert not expected, f"unknown dates_match {row['dates_match']!r}"


# --- The installed console script ----------------------------------------------------------


def console(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run the installed `touchpoint` script (next to this interpreter) as a user would."""
    script = Path(sys.executable).with_name("touchpoint")
    assert script.is_file(), f"the console script is not installed next to {sys.executable}"
    return subprocess.run(
        [str(script), "scan", *args], input=stdin, capture_output=True, timeout=60, check=False
    )


GOOD_WINDOW = ("--from", "2019-10-01", "--to", "2020-03-01", "--format", "json")


def test_the_console_script_prints_what_the_command_prints_in_process() -> None:
    done = console(str(CORPUS / GOOD_FILE), *GOOD_WINDOW)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert len(document["occurrences"]) == 7
    assert document == json.loads(scan(str(CORPUS / GOOD_FILE), *GOOD_WINDOW).stdout)


def test_the_console_script_refuses_a_fuzz_file_in_one_line_with_exit_2() -> None:
    done = console(str(CORPUS / FUZZ_FILE), *SWEEP_WINDOW)
    lines = done.stderr.decode().splitlines()
    assert (done.returncode, done.stdout) == (2, b"")
    assert len(lines) == 1
    assert lines[0].startswith("touchpoint: cannot read the calendar: ")


def test_the_console_script_reads_a_calendar_from_stdin_like_a_file() -> None:
    data = (CORPUS / GOOD_FILE).read_bytes()
    done = console("-", *GOOD_WINDOW, stdin=data)
    assert done.returncode == 0, done.stderr
    by_path = console(str(CORPUS / GOOD_FILE), *GOOD_WINDOW)
    assert json.loads(done.stdout) == json.loads(by_path.stdout)


# Plain series expanded with dateutil (service/calendars/rules.py) --------------------------------

RULES_WINDOW = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC))
RULES_CAP = 1000  # a series with more instances is compared over its first year instead


def test_every_plain_series_of_the_corpus_expands_as_recurring_ical_events_does() -> None:
    """Each series the reader expands itself gives the instances recurring-ical-events gives
    the same series (its VTIMEZONEs and X-WR-TIMEZONE kept), start and end alike."""
    compared, different = 0, []
    for row in MANIFEST:
        for cal in _calendars(CORPUS / row["path"]):
            zone = rules.calendar_zone(cal.properties)
            for uid, blocks in _series_blocks(cal).items():
                plain = rules.read(
                    blocks, date(1900, 1, 1), date(2100, 1, 1), zone if zone else None
                )
                theirs = _their_series(cal, uid) if plain else None
                if plain is None or theirs is None:
                    continue
                compared += 1
                window = RULES_WINDOW
                ours, expected = _times(plain, window), _times(theirs, window)
                if len(ours) > RULES_CAP or len(expected) > RULES_CAP:
                    first = min(ours or expected)[0]
                    start = first if isinstance(first, datetime) else _midnight(first)
                    window = (start, start.replace(year=start.year + 1))
                    ours, expected = _times(plain, window), _times(theirs, window)
                if ours != expected:
                    different.append(f"{row['path']} {uid}")
    assert compared > 500  # 820 today
    assert different == []


def _calendars(path: Path) -> list[raw.RawCalendar]:
    try:
        return raw.split_calendars(raw.decode(path.read_bytes()))
    except raw.NotICalendar:
        return []


def _series_blocks(cal: raw.RawCalendar) -> dict[str, list[raw.Block]]:
    repeated = raw.repeated_uids(cal)
    groups: dict[str, list[raw.Block]] = {}
    for block in cal.blocks:
        if block.uid and (block.recurs or block.uid in repeated):
            groups.setdefault(block.uid, []).append(block)
    return {uid: blocks for uid, blocks in groups.items() if any(b.recurs for b in blocks)}


def _their_series(cal: raw.RawCalendar, uid: str) -> Any:
    """Return recurring-ical-events' series of one UID, None when it cannot read it."""
    head = "".join(f"{k}:{v}\r\n" for k, v in cal.properties.items() if k == "X-WR-TIMEZONE")
    blocks = "".join(b.text for b in cal.blocks if b.name == "VTIMEZONE" or b.uid == uid)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = icalendar.Calendar.from_ical(f"BEGIN:VCALENDAR\r\n{head}{blocks}END:VCALENDAR")
            found = recurring_ical_events.of(parsed, components=COMPONENTS).series
    except Exception:  # the bare libraries refuse it: nothing to compare with
        return None
    return next((s for s in found if str(s.uid) == uid), None)


def _times(series: Any, window: tuple[datetime, datetime]) -> list[tuple[object, object]]:
    found = islice(series.between(*window), RULES_CAP + 1)
    return sorted((_utc(o.start), _utc(o.end)) for o in found)


def _midnight(day: Any) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _utc(value: object) -> object:
    return value.astimezone(UTC) if isinstance(value, datetime) else value
