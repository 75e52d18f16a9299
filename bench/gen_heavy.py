"""Write a heavy shared work calendar: hundreds of weekly series, daily stand-ups, thousands of
one-offs, moved and cancelled instances, 2-6 attendees each (issue 8's benchmark calendar).

    python bench/gen_heavy.py out.ics [--weekly 800] [--daily 150] [--single 4000] [--seed 1]

Deterministic: the same arguments write the same bytes. About 85,000 occurrences fall in the
year from 2026-03-02 with the defaults.
"""

from __future__ import annotations

import argparse
import random
from datetime import date, datetime, timedelta
from pathlib import Path

REFERENCE = date(2026, 3, 2)  # a Monday; the benchmark windows start here
TZID = "Europe/Berlin"
ME = "alice@example.com"
VTIMEZONE = (
    "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n"
    "BEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\n"
    "DTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n"
    "BEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\n"
    "DTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\n"
    "END:VTIMEZONE\r\n"
)
FIRST = "Bob Carol Dan Erin Jonas Lea Mateo Yuki Priya Kasia Lars Amelie Chiara Tomas Sven Aiko"
LAST = "Becker Chen Dubois Evans Mueller Schmidt Moreau Garcia Tanaka Sharma Nowak Rossi Silva"
DOMAINS = ("example.com",) * 6 + ("partner.org", "client.example")
WEEKLY_TITLES = (
    "1:1 {p}", "{p} <> Alice", "Lunch with {p}", "Coffee with {p}", "{x} sync", "{x} review",
    "Mentoring with {p}", "{x} planning", "Team meeting {x}", "All-hands", "Focus time",
)  # fmt: skip
DAILY_TITLES = ("{x} standup", "Daily {x}", "Stand-up", "Daily check-in")
SINGLE_TITLES = (
    "Lunch with {p}", "Coffee with {p}", "Call with {p}", "{x} kickoff", "Interview: {p}",
    "Dentist", "Design review: {x}", "Career chat {p}", "Retro {x}", "Vendor demo", "OOO",
)  # fmt: skip
PROJECTS = ("Atlas", "Phoenix", "Nordlicht", "Billing v2", "Onboarding", "Data platform")
DAYS = ("MO", "TU", "WE", "TH", "FR")


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%S")


def _people(rng: random.Random) -> list[tuple[str, str]]:
    found = []
    for _ in range(rng.randint(2, 6)):
        first, last = rng.choice(FIRST.split()), rng.choice(LAST.split())
        email = f"{first.lower()}.{last.lower()}@{rng.choice(DOMAINS)}"
        found.append((f"{first} {last}", email))
    return found


def _title(rng: random.Random, menu: tuple[str, ...], people: list[tuple[str, str]]) -> str:
    return rng.choice(menu).format(p=people[0][0].split()[0], x=rng.choice(PROJECTS))


def _event(uid: str, start: datetime, minutes: int, title: str, people: list, extra: str) -> str:
    lines = [
        "BEGIN:VEVENT",
        f"UID:{uid}",
        "DTSTAMP:20260301T053000Z",
        f"DTSTART;TZID={TZID}:{_stamp(start)}",
        f"DTEND;TZID={TZID}:{_stamp(start + timedelta(minutes=minutes))}",
        f"SUMMARY:{title}",
        f"ORGANIZER;CN=Alice:mailto:{ME}",
        f"ATTENDEE;CN=Alice;PARTSTAT=ACCEPTED:mailto:{ME}",
    ]
    lines += [f"ATTENDEE;CN={name};PARTSTAT=ACCEPTED:mailto:{email}" for name, email in people]
    return "\r\n".join([*lines, *([extra] if extra else []), "END:VEVENT"]) + "\r\n"


def _series(rng: random.Random, n: int, daily: bool) -> list[str]:
    begin = datetime.combine(REFERENCE - timedelta(days=rng.randint(30, 700)), datetime.min.time())
    begin = begin - timedelta(days=begin.weekday()) + timedelta(hours=rng.choice((9, 10, 13, 15)))
    if not daily:
        begin += timedelta(days=rng.randint(0, 4))
    people = _people(rng)
    title = _title(rng, DAILY_TITLES if daily else WEEKLY_TITLES, people)
    rule = "RRULE:FREQ=WEEKLY;BYDAY=" + (",".join(DAYS) if daily else DAYS[begin.weekday()])
    if rng.random() < 0.2:
        rule += f";UNTIL={_stamp(begin + timedelta(days=rng.randint(200, 900)))}Z"
    weeks = [begin + timedelta(weeks=rng.randint(1, 100)) for _ in range(rng.randint(1, 4))]
    exdates = ",".join(_stamp(w) for w in weeks)
    extra = f"{rule}\r\nEXDATE;TZID={TZID}:{exdates}"
    uid = f"{'daily' if daily else 'weekly'}-{n}@heavy"
    found = [_event(uid, begin, 15 if daily else rng.choice((30, 45, 60)), title, people, extra)]
    if rng.random() < 0.3:  # a moved instance, around the benchmark window
        original = begin + timedelta(weeks=(REFERENCE - begin.date()).days // 7 + rng.randint(0, 3))
        moved = original + timedelta(hours=rng.choice((1, 2, 24)))
        override = f"RECURRENCE-ID;TZID={TZID}:{_stamp(original)}"
        found.append(_event(uid, moved, 30, title + " (moved)", people, override))
    return found


def _single(rng: random.Random, n: int) -> str:
    day = REFERENCE + timedelta(days=rng.randint(-700, 365))
    start = datetime.combine(day, datetime.min.time()) + timedelta(hours=rng.randint(8, 17))
    people = _people(rng)
    return _event(
        f"single-{n}@heavy",
        start,
        rng.choice((30, 60)),
        _title(rng, SINGLE_TITLES, people),
        people,
        "",
    )


def build(weekly: int, daily: int, single: int, seed: int) -> bytes:
    """Return the calendar's bytes."""
    rng = random.Random(seed)
    parts = ["BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Touchpoint//bench gen_heavy//EN\r\n"]
    parts.append(f"X-WR-CALNAME:{ME}\r\nX-WR-TIMEZONE:{TZID}\r\n{VTIMEZONE}")
    for n in range(weekly):
        parts += _series(rng, n, daily=False)
    for n in range(daily):
        parts += _series(rng, n, daily=True)
    parts += [_single(rng, n) for n in range(single)]
    return ("".join(parts) + "END:VCALENDAR\r\n").encode()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", type=Path)
    parser.add_argument("--weekly", type=int, default=800)
    parser.add_argument("--daily", type=int, default=150)
    parser.add_argument("--single", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    args.path.write_bytes(build(args.weekly, args.daily, args.single, args.seed))


if __name__ == "__main__":
    main()
