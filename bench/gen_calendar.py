"""Write a deterministic, realistic work calendar for alice to benchmark `touchpoint scan` on."""

from __future__ import annotations

import argparse
import random
import string
import unicodedata
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event, Timezone, vCalAddress, vRecur
from icalendar import TimezoneDaylight as Daylight
from icalendar import TimezoneStandard as Standard

REFERENCE = date(2026, 3, 2)  # a Monday; the benchmark windows start here
PAST_DAYS, FUTURE_DAYS = 900, 180  # ~3 years, most of it behind, like a real export
EXPORTED = datetime(2026, 3, 2, 5, 30, tzinfo=UTC)  # fixed DTSTAMP: no clock, same bytes every run
ME = "alice@example.com"
BERLIN, NEW_YORK = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")
# tzid: (name, first onset, offset from, offset to, yearly rule) for summer, then standard time
ZONES = {
    "Europe/Berlin": (
        ("CEST", "19700329T020000", "+0100", "+0200", "BYMONTH=3;BYDAY=-1SU"),
        ("CET", "19701025T030000", "+0200", "+0100", "BYMONTH=10;BYDAY=-1SU"),
    ),
    "America/New_York": (
        ("EDT", "19700308T020000", "-0500", "-0400", "BYMONTH=3;BYDAY=2SU"),
        ("EST", "19701101T020000", "-0400", "-0500", "BYMONTH=11;BYDAY=1SU"),
    ),
}
HEADER = {"prodid": "-//Touchpoint//bench gen_calendar//EN", "version": "2.0"}
HEADER |= {"calscale": "GREGORIAN", "method": "PUBLISH", "x-wr-calname": ME}
HEADER |= {"x-wr-timezone": "Europe/Berlin"}  # as Google writes it, next to the VTIMEZONE
NAMED = [("Bob", "Becker", "example.com"), ("Carol", "Chen", "example.com")]
NAMED += [("Dan", "Dubois", "example.com"), ("Erin", "Evans", "partner.org")]
FIRST = "Jonas Léa Mateo Yuki Priya Kasia Lars Amélie Chiara Tomás Sven Aiko Ravi Zeynep Jan Noor"
FIRST += " Olga Felix Lucía Mehmet Sofía Ingrid Pierre Hannah Arjun Mei Lukas Marta Björn Fatima"
LAST = "Müller Schmidt Moreau García Tanaka Sharma Nowak Andersson Rossi Silva Yilmaz Kowalski"
LAST += " Fischer Dupont Ito Patel Jensen Weber Lefèvre Nakamura Haas Eriksson Bianchi Wagner"
OUTSIDE = ("partner.org", "client.example", "agency.example")
ROOMS = ("Raum Spree (6)", "Raum Havel (12)", "Sala Lisboa (4)", "Focus Booth 2")
PLACES = ("Kantine", "Café Einstein", "Ramen Kaito", "Markthalle Neun", "Zoom", "", "", "")
PROJECTS = ("Atlas", "Phoenix", "Nordlicht", "Billing v2", "Onboarding revamp", "Data platform")
# kind        weight people  minutes (days for ooo)  start hours   (people counts include alice)
SHAPES = """
meal        8   2-3    60,45        12,13
coffee      8   2-2    30,15,25     9,10,15,16
one_on_one  10  2-2    30,45,25     9,10,11,14,15
project     30  3-9    30,60,45,90  9,10,11,13,14,15,16
career      3   2-2    30,45,60     10,14,16
big         6   8-12   60,45,30     10,16,17
external    8   2-5    30,60        15,16,17
solo        20  0-0    60,120,90,30 8,9,13,14,17,18
ooo         4   0-0    1,2,3,5,10   0
"""
TITLES = """
meal: Lunch with {p}|Mittagessen mit {p}|Déjeuner avec {p}|Almuerzo con {p}|ランチ {p}
meal: Lunch: {p} & Alice|Team lunch|Dinner with {p} (client)|Pranzo con {p}
coffee: Coffee with {p}|Kaffee mit {p}|☕ {p} / Alice|Café con {p}|Fika {p}
coffee: Virtual coffee \u2013 {p}
one_on_one: 1:1 Alice / {p}|{p} <> Alice|Alice/{p} 1on1|1:1|Catch-up {p}|Sync {p} + Alice
project: {x} sync|{x} kickoff|Projekt {x} \u2013 Abstimmung|Design review: {x}|{x} retro|{x} standup
project: Sprint planning ({x})|Point hebdo {x}|Revisión {x}|{x} roadmap|Incident review {x}
career: Mentoring with {p}|Career chat {p}|Skip-level with {p}|Entwicklungsgespräch
career: Development conversation|Mentoring session \u2013 {p}
big: All-hands|Quarterly all-hands|Town hall|Engineering all-hands|Brown bag: {x}|Hiring committee
external: Call with {p} ({d})|{d} / Example weekly|Intro: {p} <> Alice|Vendor demo \u2013 {d}
solo: Focus time|Fokuszeit|Dentist|Zahnarzt|Doctor|Kita pick-up|Gym|Prep: {x} review
solo: Block \u2013 do not book|Read {x} RFC|Haircut|Steuererklärung|Commute|Deep work
ooo: OOO|Urlaub|Vacation \u2013 Portugal|Out of office|Sick day|Offsite
ooo: Conference: PyCon DE|Brückentag
"""
SHAPE = {row.split()[0]: row.split()[1:] for row in SHAPES.strip().splitlines()}
MENU: dict[str, list[str]] = {}
for _row in TITLES.strip().splitlines():
    MENU.setdefault(_row.split(":")[0], []).extend(_row.split(": ", 1)[1].split("|"))
WEEKDAYS = ["MO", "TU", "WE", "TH", "FR"]
MY_ANSWERS = ["ACCEPTED"] * 14 + ["TENTATIVE", "DECLINED", "DECLINED", "NEEDS-ACTION"]
SERIES_KINDS = ["one_on_one"] * 4 + ["project"] * 4 + ["coffee", "career", "big", "solo", "meal"]
SERIES_KINDS += ["external"]


def build_calendar(events: int, seed: int) -> Calendar:
    """Return alice's calendar with `events` VEVENTs, the same for the same seed."""
    rng = random.Random(seed)
    people = _people(rng)
    cal = _calendar_header()
    vevents: list[Event] = []
    while len(vevents) < events // 10:  # ~10% of the file: masters and their moved instances
        vevents += _series(rng, people)
    vevents += [_single(rng, people) for _ in range(events - len(vevents))]
    rng.shuffle(vevents)  # exports are not in date order
    for component in vevents[:events]:
        cal.add_component(component)
    return cal


def _people(rng: random.Random) -> list[tuple[str, str]]:
    """Return (name, email) of alice's contacts: her team first, then colleagues and outsiders."""
    pairs = sorted({(f, la) for f in FIRST.split() for la in LAST.split()})
    picked = NAMED + [(f, la, "example.com") for f, la in rng.sample(pairs, 50)]
    picked += [(f, la, rng.choice(OUTSIDE)) for f, la in rng.sample(pairs, 15)]
    named = [(f"{f} {la}", f"{f}@{d}".lower()) for f, la, d in picked[:4]]
    return named + [(f"{f} {la}", _ascii(f"{f}.{la}@{d}")) for f, la, d in picked[4:]]


def _ascii(email: str) -> str:
    """Return the address as mail systems spell it: lower case, accents dropped."""
    return unicodedata.normalize("NFKD", email.lower()).encode("ascii", "ignore").decode()


def _calendar_header() -> Calendar:
    """Return an empty calendar shaped like a Google export, with its time zones."""
    cal = Calendar()
    for name, value in HEADER.items():
        cal.add(name, value)
    for tzid in ZONES:
        cal.add_component(_timezone(tzid))
    return cal


def _timezone(tzid: str) -> Timezone:
    """Return a VTIMEZONE with the zone's yearly rules, valid for any year since 1970."""
    tz = Timezone()
    tz.add("tzid", tzid)
    for part, (name, onset, offset_from, offset_to, rule) in zip(
        (Daylight(), Standard()), ZONES[tzid], strict=True
    ):
        part.add("tzname", name)
        part.add("dtstart", datetime.strptime(onset, "%Y%m%dT%H%M%S"))
        part.add("tzoffsetfrom", offset_from, encode=False)
        part.add("tzoffsetto", offset_to, encode=False)
        part.add("rrule", vRecur.from_ical(f"FREQ=YEARLY;{rule}"))
        tz.add_component(part)
    return tz


def _single(rng: random.Random, people: list[tuple[str, str]]) -> Event:
    """Return one non-recurring event on a working day."""
    kind = rng.choices(list(SHAPE), weights=[int(shape[0]) for shape in SHAPE.values()])[0]
    day = _working_day(rng)
    if kind == "ooo":
        return _all_day(rng, day)
    start = datetime.combine(day, _start_time(rng, kind), BERLIN)
    # Google exports one-off events in UTC and leaves the zone to X-WR-TIMEZONE
    event = _meeting(rng, people, kind, start.astimezone(UTC) if rng.random() < 0.7 else start)
    if rng.random() < 0.02:
        event["status"] = "CANCELLED"
    return event


def _working_day(rng: random.Random) -> date:
    """Return a weekday, mostly in the past; planned meetings thin out further ahead."""
    future = rng.random() < 0.08
    offset = int(rng.triangular(0, FUTURE_DAYS, 0)) if future else -rng.randint(1, PAST_DAYS)
    return _weekday(rng, REFERENCE + timedelta(days=offset))


def _weekday(rng: random.Random, day: date) -> date:
    """Return the day, or a working day of the same week when it falls on a weekend."""
    return day - timedelta(days=day.weekday() - rng.randint(0, 4) if day.weekday() > 4 else 0)


def _start_time(rng: random.Random, kind: str) -> time:
    """Return a plausible start time for a meeting of this kind."""
    return time(int(rng.choice(SHAPE[kind][3].split(","))), rng.choice((0, 0, 0, 30)))


def _meeting(
    rng: random.Random, people: list[tuple[str, str]], kind: str, start: datetime
) -> Event:
    """Return a timed event of this kind with its people, title and details."""
    low, high = (int(n) for n in SHAPE[kind][1].split("-"))
    pool = people[:6] if kind in ("one_on_one", "career") else people
    pool = [p for p in people if "example.com" not in p[1]] if kind == "external" else pool
    guests = rng.sample(pool, max(0, rng.randint(low, high) - 1))
    title = rng.choice(MENU[kind]).format(
        p=guests[0][0].split()[0] if guests else "Bob",
        x=rng.choice(PROJECTS),
        d=guests[0][1].split("@")[1] if guests else "partner.org",
    )
    if kind == "external" and rng.random() < 0.5:
        start = start.astimezone(NEW_YORK)  # invited from New York: their zone on the event
    event = _event(rng, title, start, start + timedelta(minutes=_minutes(rng, kind)))
    _invite(rng, event, guests, kind)
    return event


def _minutes(rng: random.Random, kind: str) -> int:
    """Return a duration in minutes (days for out-of-office) for this kind."""
    return int(rng.choice(SHAPE[kind][2].split(",")))


def _event(rng: random.Random, title: str, start: datetime | date, end: datetime | date) -> Event:
    """Return an event with the bookkeeping fields every exported event carries."""
    moment = start if isinstance(start, datetime) else datetime.combine(start, time(), UTC)
    created = min(EXPORTED, moment.astimezone(UTC) - timedelta(days=rng.randint(1, 60)))
    event = Event()
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("dtstamp", EXPORTED)
    event.add("uid", "".join(rng.choices(string.ascii_lowercase + string.digits, k=26)) + "@g")
    event.add("created", created)
    event.add("last-modified", min(EXPORTED, created + timedelta(hours=rng.randint(0, 400))))
    event.add("sequence", rng.choice((0, 0, 0, 1, 2)))
    event.add("status", "CONFIRMED")
    event.add("summary", title)
    event.add("transp", "TRANSPARENT" if rng.random() < 0.06 else "OPAQUE")
    _details(rng, event)
    return event


def _details(rng: random.Random, event: Event) -> None:
    """Add what people put in events: a place, an agenda with a call link, a reminder."""
    event.add("location", rng.choice(PLACES))
    if rng.random() < 0.35:
        code = "".join(rng.choices(string.ascii_lowercase, k=10))
        link = f"https://meet.example.com/{code[:3]}-{code[3:7]}-{code[7:]}"
        agenda = "Agenda:\n- status and blockers\n- decisions we need this week\n- next steps"
        event.add(
            "description",
            f"{agenda}\n\nJoin with video: {link}\nOr dial: +49 30 5550 "
            f"{rng.randint(1000, 9999)} PIN: {rng.randint(100000, 999999)}#\n" + "-" * 74,
        )
    if rng.random() < 0.3:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", "This is an event reminder")
        alarm.add("trigger", -timedelta(minutes=rng.choice((10, 10, 30, 5))))
        event.add_component(alarm)


def _invite(rng: random.Random, event: Event, guests: list[tuple[str, str]], kind: str) -> None:
    """Add the organizer and attendees, with alice's and everyone's answer."""
    organizer = ("Alice Adler", ME) if not guests or rng.random() < 0.4 else guests[0]
    event.add("organizer", _address(*organizer))
    if not guests:
        return
    mine = "ACCEPTED" if organizer[1] == ME else rng.choice(MY_ANSWERS)
    room = kind in ("project", "big") and rng.random() < 0.4
    for number, (name, email) in enumerate([("Alice Adler", ME), *guests][: 12 - room]):
        answer = mine if number == 0 else rng.choice(MY_ANSWERS)
        event.add("attendee", _address(name, email, answer, "INDIVIDUAL"))
    if room:
        event.add("attendee", _address(rng.choice(ROOMS), "room@resource.example", "ACCEPTED"))


def _address(name: str, email: str, answer: str = "", cutype: str = "RESOURCE") -> vCalAddress:
    """Return a mailto address with the parameters Google puts on it."""
    address = vCalAddress(f"mailto:{email}")
    address.params["CN"] = name
    if answer:
        address.params.update(CUTYPE=cutype, ROLE="REQ-PARTICIPANT", PARTSTAT=answer)
        address.params.update(RSVP="TRUE" if answer == "NEEDS-ACTION" else "FALSE")
    return address


def _all_day(rng: random.Random, day: date) -> Event:
    """Return an all-day out-of-office block of one or more days."""
    event = _event(rng, rng.choice(MENU["ooo"]), day, day + timedelta(days=_minutes(rng, "ooo")))
    event["transp"] = "TRANSPARENT" if rng.random() < 0.7 else "OPAQUE"
    event.add("organizer", _address("Alice Adler", ME))
    return event


def _series(rng: random.Random, people: list[tuple[str, str]]) -> list[Event]:
    """Return a weekly or biweekly series: its master and any moved instances."""
    kind = rng.choice(SERIES_KINDS)
    first = datetime.combine(_series_day(rng), _start_time(rng, kind), BERLIN)
    master = _meeting(rng, people, kind, first)
    starts = _add_rule(rng, master, standup=kind == "project" and rng.random() < 0.05)
    picked = rng.sample(starts, min(len(starts), rng.randint(2, 4)))
    if rng.random() < 0.2 and picked[1:]:  # the first pick is kept for moving, never skipped
        master.add("exdate", picked[1:])
    return [master] + [_moved(rng, master, start) for start in picked[:1] if rng.random() < 0.25]


def _series_day(rng: random.Random) -> date:
    """Return the first day of a series: any weekday from the start of the export to soon."""
    return _weekday(rng, REFERENCE + timedelta(days=rng.randint(-PAST_DAYS, 60)))


def _add_rule(rng: random.Random, master: Event, standup: bool) -> list[datetime]:
    """Add an open, counted or ending weekly rule; return some of its starts, to move or skip."""
    first: datetime = master["dtstart"].dt
    step = timedelta(weeks=1 if standup else rng.choice((1, 1, 2)))
    rule: dict[str, object] = {"freq": "WEEKLY", "interval": step.days // 7}
    rule["byday"] = WEEKDAYS if standup else WEEKDAYS[first.weekday()]
    if rule["interval"] == 1:
        del rule["interval"]  # as Google writes it
    last = datetime.combine(REFERENCE + timedelta(days=120), time(), BERLIN)
    ending = rng.random()
    if ending < 0.4 and not standup:
        rule["count"] = rng.randint(3, 12)
        last = min(last, first + step * (rule["count"] - 1))
    elif ending < 0.96:  # Google ends a series with UNTIL when it is split or stopped
        until = first + timedelta(weeks=rng.randint(3, 20))
        rule["until"] = until.astimezone(UTC)
        last = min(last, until)
    master.add("rrule", rule)
    return [first + step * n for n in range(int((last - first) / step) + 1)]


def _moved(rng: random.Random, master: Event, original: datetime) -> Event:
    """Return one instance of the series moved to another time, or cancelled."""
    length = master["dtend"].dt - master["dtstart"].dt
    next_day = timedelta(days=1 if original.weekday() < 4 else -1)  # stays a working day
    start = original + rng.choice((next_day, timedelta(hours=2), timedelta(hours=-1)))
    moved = _event(rng, str(master["summary"]), start, start + length)
    moved["uid"] = master["uid"]
    moved.add("recurrence-id", original)
    moved["sequence"] = int(master["sequence"]) + 1
    if rng.random() < 0.25:
        moved["status"] = "CANCELLED"
    for name in ("organizer", "attendee"):
        if name in master:
            moved[name] = master[name]
    return moved


def main(argv: list[str] | None = None) -> None:
    """Write the calendar to the given file."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path, help="the .ics file to write")
    parser.add_argument("--events", type=int, default=5000, help="how many VEVENTs (5000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (1)")
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(build_calendar(args.events, args.seed).to_ical())
    print(f"wrote {args.events} events to {args.out}")


if __name__ == "__main__":
    main()
