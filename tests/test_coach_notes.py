"""A month that reads like advice from someone who knows the week (issue 11).

One calendar built for it: a daily stand-up (organised from a Google group calendar, in a room),
a weekly 1:1 with the manager, a weekly design review, lunches with three peers in turn, an
external coffee, and a sync with nobody but a group calendar. The month's notes must differ per
person, come once a week per series, name the topic, never treat a group or a room as a person,
and every proposal's reason must describe its first slot.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from service.calendars.ics import IcsCalendar
from service.cli import main
from service.engine.cadence import short_date
from service.engine.model import Occurrence, Profile, Touchpoint, Window
from service.engine.plan import Plan, plan
from service.engine.relations import is_person_address
from service.engine.series import week_of
from tests.factories import ALICE, BERLIN, BOB, CAROL, DAN, ERIN, alice, at

FRANK = "frank@example.com"
GROUP = "j68lhv614hbv3u4ttbrs6glhpg@group.calendar.google.com"
ROOM = "c_1883ab5tq2@resource.calendar.google.com"
GOAL = "lead the Atlas platform team"
START = at(2, 8)
MONTH = Window(START, START + timedelta(days=30))
NOT_PEOPLE = (GROUP, ROOM, "j68lhv614hbv3u4ttbrs6glhpg", "C 1883ab5tq2", "Atlas team", "Room")


def attendee(email: str, name: str = "", cutype: str = "") -> str:
    params = f";CN={name}" if name else ""
    params += f";CUTYPE={cutype}" if cutype else ""
    return f"ATTENDEE{params};PARTSTAT=ACCEPTED:mailto:{email}"


def event(uid: str, title: str, start: datetime, minutes: int, *lines: str) -> list[str]:
    end = start + timedelta(minutes=minutes)
    return [
        "BEGIN:VEVENT",
        f"UID:{uid}",
        "DTSTAMP:20260101T000000Z",
        f"DTSTART;TZID=Europe/Berlin:{start:%Y%m%dT%H%M%S}",
        f"DTEND;TZID=Europe/Berlin:{end:%Y%m%dT%H%M%S}",
        f"SUMMARY:{title}",
        attendee(ALICE, "Alice"),
        *lines,
        "END:VEVENT",
    ]


PEERS = [attendee(CAROL, "Carol"), attendee(DAN, "Dan"), attendee(FRANK, "Frank")]
ROOM_LINE = attendee(ROOM, "Room Berlin 3", "ROOM")
LUNCHES = [(4, CAROL, "Carol"), (11, DAN, "Dan"), (18, FRANK, "Frank"), (25, CAROL, "Carol")]


def month_calendar() -> bytes:
    events = [
        *event(
            # A shared calendar's events name it as their organiser.
            "standup@test", "Atlas stand-up", at(5, 9, 30, month=1), 15, *PEERS, ROOM_LINE,
            f"ORGANIZER;CN=Atlas team:mailto:{GROUP}",
            "RRULE:FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;UNTIL=20260401T000000Z",
        ),
        *event(
            "one-on-one@test", "Alice / Bob 1:1", at(6, 14, month=1), 30, attendee(BOB, "Bob"),
            f"ORGANIZER;CN=Bob:mailto:{BOB}", "RRULE:FREQ=WEEKLY;UNTIL=20260401T000000Z",
        ),
        *event(
            "review@test", "Atlas design review", at(9, 11, month=1), 60, *PEERS, ROOM_LINE,
            "RRULE:FREQ=WEEKLY;UNTIL=20260401T000000Z",
        ),
        *event(
            "coffee-erin@test", "Virtual coffee with Erin", at(10, 8, 30), 30,
            attendee(ERIN, "Erin"), f"ORGANIZER;CN=Erin:mailto:{ERIN}",
        ),
        *event(
            "group-sync@test", "Atlas sync", at(12, 16), 30, attendee(GROUP, "Atlas team"),
            f"ORGANIZER;CN=Atlas team:mailto:{GROUP}",
        ),
    ]  # fmt: skip
    for day, email, name in LUNCHES:
        events += event(f"lunch-{day}@test", f"Lunch w/ {name}", at(day, 12), 60,
                        attendee(email, name), ROOM_LINE)  # fmt: skip
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//month//EN"]
    lines += ["X-WR-TIMEZONE:Europe/Berlin", f"X-WR-CALNAME:{ALICE}", *events, "END:VCALENDAR"]
    return ("\r\n".join(lines) + "\r\n").encode()


def occurrences(window: Window) -> list[Occurrence]:
    calendar = IcsCalendar.from_bytes(month_calendar())
    return list(calendar.occurrences(window.start - timedelta(days=60), window.end, BERLIN, ALICE))


def profile(**changes: object) -> Profile:
    return alice(goal=GOAL, **changes)


@pytest.fixture(scope="module")
def month() -> Plan:
    return plan(occurrences(MONTH), profile(), MONTH)


def noted(result: Plan) -> list[Touchpoint]:
    return [tp for tp in result.touchpoints if tp.note is not None]


def start_of(tp: Touchpoint) -> datetime:
    return tp.occurrence.starts_at(BERLIN).astimezone(BERLIN)


def test_the_month_has_touchpoints_and_notes_for_every_kind_of_meeting(month: Plan) -> None:
    titles = {tp.occurrence.title for tp in noted(month)}
    assert {"Atlas stand-up", "Alice / Bob 1:1", "Atlas design review"} <= titles
    assert {"Lunch w/ Carol", "Lunch w/ Dan", "Lunch w/ Frank"} <= titles
    assert "Virtual coffee with Erin" in titles


def test_each_series_gets_at_most_one_note_a_week(month: Plan) -> None:
    per_week: dict[tuple[str, object], int] = defaultdict(int)
    for tp in noted(month):
        if tp.occurrence.recurring:
            per_week[(tp.occurrence.uid, week_of(start_of(tp), BERLIN))] += 1
    assert per_week
    assert max(per_week.values()) == 1
    standups = [tp for tp in month.touchpoints if tp.occurrence.uid == "standup@test"]
    assert len(standups) > 15  # every working day is still a touchpoint ...
    assert sum(1 for tp in standups if tp.note) == 5  # ... with one note for each of 5 weeks


def test_notes_about_one_person_all_differ_within_the_month(month: Plan) -> None:
    by_person: dict[str, list[Touchpoint]] = defaultdict(list)
    for tp in noted(month):
        assert tp.note is not None
        by_person[tp.note.person].append(tp)
    assert {BOB, CAROL, DAN, FRANK, ERIN} <= by_person.keys()
    for person, tps in by_person.items():
        texts = [tp.note.text for tp in tps if tp.note]
        assert len(set(texts)) == len(texts), person
        used: list[tuple[datetime, str]] = []
        for tp in sorted(tps, key=start_of):
            assert tp.note is not None
            for key in tp.note.prompts:
                month_ago = start_of(tp) - timedelta(days=30)
                assert all(k != key for at_, k in used if at_ >= month_ago), (person, key)
            used += [(start_of(tp), key) for key in tp.note.prompts]


def test_notes_to_different_people_differ_by_who_they_are(month: Plan) -> None:
    first = {}
    for tp in noted(month):
        assert tp.note is not None
        first.setdefault(tp.note.person, tp.note.text.splitlines()[1])
    assert len(set(first.values())) == len(first)
    assert "Keep Bob up to date" in first[BOB]


def test_the_topic_is_named_where_the_title_has_one(month: Plan) -> None:
    for tp in noted(month):
        assert tp.note is not None
        if "Atlas" in tp.occurrence.title:
            body = "\n".join(tp.note.text.splitlines()[1:])  # beyond the title's own line
            assert "Atlas" in body, tp.note.text


def test_no_group_or_room_is_ever_a_person(month: Plan) -> None:
    everyone = set(month.people.by_email)
    assert GROUP not in everyone
    assert ROOM not in everyone
    assert {CAROL, DAN, FRANK, BOB, ERIN} <= everyone
    for tp in noted(month):
        assert tp.note is not None
        assert tp.note.person not in (GROUP, ROOM)
        assert not any(bad in tp.note.text or bad in tp.note.subject for bad in NOT_PEOPLE)
    sync = [tp for tp in month.touchpoints if tp.occurrence.title == "Atlas sync"]
    assert all(tp.note is None or tp.note.person == "" for tp in sync)
    assert all(p.partner not in (GROUP, ROOM) for p in month.proposals)


def test_who_each_person_is_comes_from_the_calendar(month: Plan) -> None:
    relations = {e: p.relation for e, p in month.people.by_email.items()}
    assert relations == {
        BOB: "manager", CAROL: "peer", DAN: "peer", FRANK: "peer", ERIN: "external",
    }  # fmt: skip
    assert month.people.get(CAROL) is not None
    assert month.people.get(CAROL).topics[0] == "Atlas"  # type: ignore[union-attr]


def every_morning_and_afternoon() -> list[datetime]:
    days = [START + timedelta(days=n) for n in range(28)]
    return [moment for day in days for moment in (day, day.replace(hour=13, minute=30))]


def test_every_proposal_reason_agrees_with_its_first_slot() -> None:
    everything = occurrences(MONTH)
    checked = 0
    for now in every_morning_and_afternoon():
        result = plan(everything, profile(), Window(now, now + timedelta(days=14)))
        if not result.proposals:
            continue
        checked += 1
        first, reason = result.proposals[0], result.proposals[0].reason
        assert all(p.reason == reason for p in result.proposals)
        if "right after" in reason:
            ends = [
                tp.occurrence.ends_at(BERLIN)
                for tp in result.touchpoints
                if first.partner in tp.people
                and timedelta(minutes=5)
                <= first.start - tp.occurrence.ends_at(BERLIN)
                < timedelta(minutes=10)
            ]
            assert ends, (now, reason, first.start)
            assert short_date(ends[0].astimezone(BERLIN)) in reason
    assert checked > 40


def test_no_proposed_slot_is_at_night_or_on_a_weekend_whatever_the_hours_say() -> None:
    everything = occurrences(MONTH)
    late = profile(hours=alice().hours.__class__(start=at(2, 5).time(), end=at(2, 23).time()))
    for now in every_morning_and_afternoon()[::3]:
        for who in (profile(), late):
            result = plan(everything, who, Window(now, now + timedelta(days=14)))
            for proposal in result.proposals:
                local = proposal.start.astimezone(BERLIN)
                assert local.weekday() < 5, local
                assert local.hour >= 7, local
                assert proposal.end.astimezone(BERLIN).hour < 21, local


def test_a_booked_chat_stops_due_and_takes_its_slot_out() -> None:
    everything = occurrences(MONTH)
    before = plan(everything, profile(), MONTH)
    assert before.cadence.due
    assert before.proposals
    slot, partner = before.proposals[0], before.proposals[0].partner
    chat = Occurrence(
        uid="touchpoint-chat-1",
        start=slot.start,
        end=slot.end,
        title="Career chat with Carol",
        attendees=(),
    )
    marked = profile(overrides=(("touchpoint-chat-1", "career"),))
    after = plan([*everything, chat], marked, MONTH)
    assert not after.cadence.due
    assert after.cadence.booked_ahead == slot.start
    assert after.proposals == ()
    assert partner is not None


def test_the_scan_names_people_and_never_a_group_or_a_room(tmp_path: Path) -> None:
    path = tmp_path / "month.ics"
    path.write_bytes(month_calendar())
    args = ["scan", str(path), "--from", "2026-03-02", "--days", "28", "--manager", BOB]
    text = CliRunner().invoke(main, args).output
    document = json.loads(CliRunner().invoke(main, [*args, "--format", "json"]).output)

    assert "Proposed 15-minute career chat with Carol (carol@example.com)" in text
    notes = [t for t in document["touchpoints"] if t["prep_note"]]
    assert len({t["prep_note"]["text"] for t in notes}) == len(notes)
    for touchpoint in document["touchpoints"]:
        assert all(is_person_address(email) for email in touchpoint["people"])
    prose = text.split("Proposed")[1] + "".join(t["prep_note"]["text"] for t in notes)
    assert not any(bad in prose for bad in NOT_PEOPLE)
    assert datetime.fromisoformat(document["proposals"][0]["start"]).astimezone(UTC)
