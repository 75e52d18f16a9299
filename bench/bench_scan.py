"""Time `touchpoint scan` against its floor, icalendar plus recurring-ical-events, in turns.

The calendar is issue 8's heavy shared calendar (bench/gen_heavy.py: ~800 weekly series with
EXDATEs, ~150 weekday stand-ups, ~4,000 one-offs, moved instances, 2-6 attendees), or with
--events N the older realistic personal calendar (bench/gen_calendar.py).

Like for like: a year of the heavy calendar holds ~72,000 occurrences, more than the read's
default limit (TOUCHPOINT_MAX_OCCURRENCES, 20,000), so the timed scan runs with that limit
raised to 200,000 and evaluates every occurrence the floor expands; both sides' counts are
checked equal. Each run's peak memory (its own, children included) is reported too.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
FROM, TZ = date(2026, 3, 2), "Europe/Berlin"
WINDOWS = {"14 days": 14, "one year": 365}
TIMES = "\u00d7"
TARGET = 0.6  # the scan may take at most this many times the floor's median
# The same occurrences as the floor: no read limit below what a year of the calendar holds.
CPU: dict[tuple[str, ...], list[float]] = {}  # CPU seconds per command: steady on a busy machine
LIKE_FOR_LIKE = {"TOUCHPOINT_MAX_OCCURRENCES": "200000", "TOUCHPOINT_READ_MEGABYTES": "2000"}
# A busy machine must not stop the read at its usual 10 s: the same occurrences, whatever the load.
LIKE_FOR_LIKE |= {"TOUCHPOINT_READ_SECONDS": "600", "TOUCHPOINT_READ_HARD_SECONDS": "600"}


@dataclass
class Race:
    """One window's timings (seconds) and the occurrence counts both sides found."""

    window: str
    days: int
    scan: list[float] = field(default_factory=list)
    floor: list[float] = field(default_factory=list)
    scan_mb: list[int] = field(default_factory=list)
    floor_mb: list[int] = field(default_factory=list)
    scan_count: int | None = None
    floor_count: int | None = None
    mismatches: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return statistics.median(self.scan) / statistics.median(self.floor)

    @property
    def counts_match(self) -> bool:
        return self.scan_count == self.floor_count


def calendar_file(events: int | None, seed: int) -> Path:
    """Return the generated calendar (None: the heavy one), writing it first if not there yet."""
    if events is None:
        path = OUT / f"heavy-seed{seed}.ics"
        generator = [sys.executable, str(HERE / "gen_heavy.py"), str(path), "--seed", str(seed)]
    else:
        path = OUT / f"calendar-{events}-seed{seed}.ics"
        generator = [sys.executable, str(HERE / "gen_calendar.py"), str(path)]
        generator += ["--events", str(events), "--seed", str(seed)]
    if not path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        subprocess.run(generator, check=True)
    return path


def scan_command(path: Path, days: int) -> list[str]:
    """Return the whole `touchpoint scan` command, from the virtualenv next to this Python."""
    touchpoint = Path(sys.executable).parent / "touchpoint"
    window = ["--from", FROM.isoformat(), "--days", str(days), "--tz", TZ]
    return [str(touchpoint), "scan", str(path), *window, "--format", "json"]


def floor_command(path: Path, days: int) -> list[str]:
    """Return the floor command for the same window."""
    end = FROM + timedelta(days=days)
    floor = [sys.executable, str(HERE / "floor.py"), str(path)]
    return [*floor, FROM.isoformat(), end.isoformat(), "--tz", TZ]


def run(command: list[str], keep: bool = False) -> tuple[float, bytes, int]:
    """Run a command to completion; return its wall time, its output when kept, and its peak
    resident memory in MB (children included: the scan reads in a guarded child)."""
    env = {**os.environ, **LIKE_FOR_LIKE}
    with tempfile.TemporaryFile() as output, tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=output, stderr=errors, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status):
            errors.seek(0)
            tail = errors.read().decode(errors="replace")[-2000:]
            sys.exit(f"failed ({status}): {' '.join(command)}\n{tail}")
        output.seek(0)
        CPU[tuple(command)] = [*CPU.get(tuple(command), []), usage.ru_utime + usage.ru_stime]
        return elapsed, output.read() if keep else b"", round(usage.ru_maxrss / 1024)


def check_counts(race: Race, path: Path) -> None:
    """Run each side once untimed (which also warms caches) and compare what they found."""
    _, floor_out, _ = run(floor_command(path, race.days), keep=True)
    race.floor_count = int(floor_out.split()[0])
    _, scan_out, _ = run(scan_command(path, race.days), keep=True)
    # Read in a child: a year's JSON makes this process hundreds of MB, and every command it
    # starts after would report that as its own peak (Linux counts the memory before exec).
    reader = "import json,sys; print(len(json.load(sys.stdin)['occurrences']))"
    counted = subprocess.run([sys.executable, "-c", reader], input=scan_out, capture_output=True)
    race.scan_count = int(counted.stdout)
    if not race.counts_match:
        race.mismatches = differences(path, race.days, json.loads(scan_out)["occurrences"])
    del scan_out


def differences(path: Path, days: int, scanned: list[dict[str, Any]]) -> list[str]:
    """Return a few occurrences only one side found, as `side uid start` lines."""
    tz = ZoneInfo(TZ)
    start = datetime.combine(FROM, datetime.min.time(), tz)
    calendar = icalendar.Calendar.from_ical(path.read_bytes())
    floor = recurring_ical_events.of(calendar).between(start, start + timedelta(days=days))
    theirs = {(str(e["UID"]), _instant(e["DTSTART"].dt)) for e in floor}
    ours = {(o["uid"], _instant(_parse(o["start"]))) for o in scanned}
    only = [f"floor only: {u} {s}" for u, s in sorted(theirs - ours)]
    return (only + [f"scan only: {u} {s}" for u, s in sorted(ours - theirs)])[:20]


def _parse(text: str) -> date:
    return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)


def _instant(value: date) -> str:
    """Return a start comparably: date-times in UTC, dates as they are."""
    return value.astimezone(UTC).isoformat() if isinstance(value, datetime) else value.isoformat()


def race(window: str, path: Path, rounds: int) -> Race:
    """Time both commands for one window, taking turns so drift hits both alike."""
    result = Race(window, WINDOWS[window])
    check_counts(result, path)
    sides = [(result.scan, result.scan_mb, scan_command(path, result.days))]
    sides.append((result.floor, result.floor_mb, floor_command(path, result.days)))
    for number in range(rounds):
        # ABBA: each round swaps who goes first, so a steady drift cancels out
        for times, memory, command in sides if number % 2 == 0 else sides[::-1]:
            seconds, _, megabytes = run(command)
            times.append(seconds)
            memory.append(megabytes)
        print(f"{window}: round {number + 1} of {rounds}", file=sys.stderr)
    return result


def machine() -> str:
    """Return a one-line description of where the figures were measured."""
    cpu = platform.processor() or platform.machine()
    return f"Python {platform.python_version()}, {platform.system()} {cpu}, {os.cpu_count()} CPUs"


def markdown(races: list[Race], path: Path, rounds: int) -> str:
    """Return the results as a Markdown table ready to paste into the README."""
    size = path.stat().st_size / 1e6
    lines = [
        f"{path.name} ({size:.1f} MB), {rounds} rounds in turns, {machine()}",
        "",
        "| window | occurrences (scan / floor) | scan median | scan min "
        f"| floor median | floor min | scan / floor | within {TARGET}{TIMES} "
        "| peak MB (scan / floor) |",
        "|---|---|--:|--:|--:|--:|--:|---|---|",
    ]
    for r in races:
        counts = f"{r.scan_count} / {r.floor_count}" + ("" if r.counts_match else " MISMATCH")
        lines.append(
            f"| {r.window} | {counts} | {statistics.median(r.scan):.2f} s | {min(r.scan):.2f} s "
            f"| {statistics.median(r.floor):.2f} s | {min(r.floor):.2f} s "
            f"| {r.ratio:.2f}{TIMES} | {'yes' if r.ratio <= TARGET else 'no'} "
            f"| {max(r.scan_mb)} / {max(r.floor_mb)} |"
        )
    lines += ["", "CPU seconds (user + system), medians, same runs:", ""]
    for r in races:
        scan = statistics.median(CPU[tuple(scan_command(path, r.days))])
        floor = statistics.median(CPU[tuple(floor_command(path, r.days))])
        lines.append(
            f"- {r.window}: scan {scan:.2f} s, floor {floor:.2f} s, {scan / floor:.2f}{TIMES}"
        )
    return "\n".join(lines)


def report_json(races: list[Race], path: Path, rounds: int) -> str:
    """Return the results for machines: every timing, the medians, the verdicts."""
    windows = [
        asdict(r)
        | {"ratio": r.ratio, "meets_target": r.ratio <= TARGET, "counts_match": r.counts_match}
        | {"scan_median": statistics.median(r.scan), "floor_median": statistics.median(r.floor)}
        for r in races
    ]
    meta = {"file": str(path), "bytes": path.stat().st_size, "rounds": rounds, "target": TARGET}
    return json.dumps(meta | {"machine": machine(), "windows": windows}, indent=2)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit 1 when the two sides disagree on the occurrences."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--events", type=int, default=None, help="a personal calendar of N VEVENTs instead"
    )
    parser.add_argument("--seed", type=int, default=1, help="generator seed (1)")
    parser.add_argument("--rounds", type=int, default=7, help="timed runs of each side (7)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of Markdown")
    args = parser.parse_args(argv)
    path = calendar_file(args.events, args.seed)
    races = [race(window, path, args.rounds) for window in WINDOWS]
    render = report_json if args.json else markdown
    print(render(races, path, args.rounds))
    for r in races:
        for line in r.mismatches:
            print(f"{r.window}: {line}", file=sys.stderr)
    return 0 if all(r.counts_match for r in races) else 1


if __name__ == "__main__":
    sys.exit(main())
