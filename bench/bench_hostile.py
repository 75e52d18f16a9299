"""Time `touchpoint scan` on hostile calendars: every shape must stay under 5 s and 300 MB.

Each shape is generated here, written to bench/out/hostile/, and scanned once by the real
command in a child process; the figures are its wall time and its peak resident memory.
    python bench/bench_hostile.py            # all shapes, a table on stdout and out/hostile.json
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out" / "hostile"
TOUCHPOINT = Path(sys.executable).with_name("touchpoint")
LIMIT_SECONDS, LIMIT_MB = 5.0, 300


def _calendar(events: list[str]) -> bytes:
    body = "".join(events)
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:bench\r\n{body}END:VCALENDAR\r\n".encode()


def _event(uid: str, start: str, title: str, extra: str = "", length: str = "PT30M") -> str:
    return (
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTART:{start}\r\nDURATION:{length}\r\n"
        f"SUMMARY:{title}\r\nORGANIZER:mailto:alice@example.com\r\n"
        f"ATTENDEE:mailto:carol@example.com\r\n{extra}END:VEVENT\r\n"
    )


def secondly() -> bytes:
    return _calendar([_event("s", "20260101T090000Z", "Coffee", "RRULE:FREQ=SECONDLY\r\n")])


def fifty_minutely() -> bytes:
    rule = "RRULE:FREQ=MINUTELY\r\n"
    return _calendar([_event(f"m{i}", "20260101T090000Z", "Coffee", rule) for i in range(50)])


def thirty_thousand_on_one_day() -> bytes:
    return _calendar([_event(f"d{i}", "20260303T120000Z", f"Lunch {i}") for i in range(30_000)])


def hundred_thousand() -> bytes:
    events = []
    for i in range(100_000):
        day, hour = 1 + i % 28, 8 + i % 10
        events.append(_event(f"e{i}", f"202603{day:02d}T{hour:02d}0000Z", f"Meeting {i}"))
    return _calendar(events)


def two_hundred_thousand_rdates() -> bytes:
    dates = ",".join(f"{2000 + i // 8760}{1 + i % 12:02d}{1 + i % 28:02d}T09{i % 60:02d}00Z"
                     for i in range(200_000))  # fmt: skip
    return _calendar([_event("r", "20000101T090000Z", "Standup", f"RDATE:{dates}\r\n")])


def yearly_birthdays_over_thirty_years() -> bytes:
    events = [
        _event(f"b{i}", f"1996{1 + i % 12:02d}{1 + i % 28:02d}", f"Birthday {i}",
               "RRULE:FREQ=YEARLY\r\n", "P1D").replace("DTSTART:", "DTSTART;VALUE=DATE:")
        for i in range(300)
    ]  # fmt: skip
    return _calendar(events)


SHAPES: dict[str, Callable[[], bytes]] = {
    "one FREQ=SECONDLY event (no COUNT, no UNTIL)": secondly,
    "50 FREQ=MINUTELY events": fifty_minutely,
    "30,000 events on one day": thirty_thousand_on_one_day,
    "100,000 events": hundred_thousand,
    "200,000 RDATE values in one event": two_hundred_thousand_rdates,
    "300 yearly all-day events since 1996": yearly_birthdays_over_thirty_years,
}


def scan(path: Path, days: int) -> dict[str, object]:
    """Scan one file in a child process; return its time, its own peak memory and what it said."""
    command = [str(TOUCHPOINT), "scan", str(path), "--from", "2026-03-02", "--days", str(days)]
    command += ["--format", "json"]
    started = time.perf_counter()
    with tempfile.TemporaryFile() as errors:
        child = subprocess.Popen(
            [*command, "--format", "json"], stdout=subprocess.PIPE, stderr=errors
        )
        assert child.stdout is not None
        output = child.stdout.read()
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        errors.seek(0)
        stderr = errors.read().decode(errors="replace").strip()
    document = json.loads(output) if child.returncode == 0 else {}
    return {
        "seconds": round(seconds, 2),
        "peak_mb": round(usage.ru_maxrss / 1024),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
        "exit": child.returncode,
        "occurrences": len(document.get("occurrences", [])),
        "warnings": len(document.get("warnings", [])),
        "first_warning": (document.get("warnings") or [stderr])[0][:120],
    }


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, make in SHAPES.items():
        path = OUT / (name.split(" ")[0] + "-" + str(abs(hash(name)) % 10_000) + ".ics")
        path.write_bytes(make())
        for days in (14, 365):
            row = {"shape": name, "days": days, "bytes": path.stat().st_size, **scan(path, days)}
            row["within"] = row["seconds"] < LIMIT_SECONDS and row["peak_mb"] < LIMIT_MB
            rows.append(row)
            print(
                f"{name:46} {days:>3} days {row['seconds']:>6.2f} s {row['cpu_seconds']:>6.2f} cpu "
                f"{row['peak_mb']:>5} MB "
                f"{row['occurrences']:>6} occ  {'ok' if row['within'] else 'OVER'}  "
                f"{row['first_warning']}",
                flush=True,
            )
    (HERE / "out" / "hostile.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
