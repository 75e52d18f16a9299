"""The dashboard's layout of a week: timeline days, series, people cards, chart bars, year strip,
and the calendar check's guess of whose calendar it is."""

from __future__ import annotations

from datetime import timedelta

from service.dashboard import insights, week
from service.dashboard.checks import latest_in_file, likely_owner
from tests.factories import ALICE, BOB, CAROL, DAN, NOW, alice, at, meeting


def touchpoints(*occurrences):  # type: ignore[no-untyped-def]
    return insights.touchpoints_of(occurrences, alice(manager=BOB))


def test_the_timeline_has_every_day_of_two_weeks_with_its_touchpoints_in_order() -> None:
    later = meeting("Lunch with Carol", at(4, 12), 60, with_=(CAROL,))
    earlier = meeting("Coffee with Dan", at(4, 9), with_=(DAN,))

    days = week.timeline(touchpoints(later, earlier), alice(), NOW)

    assert len(days) == 14
    assert (days[0].day.isoformat(), days[0].offset) == ("2026-03-02", 0)
    titles = [t.occurrence.title for t in days[2].touchpoints]
    assert titles == ["Coffee with Dan", "Lunch with Carol"]
    assert [d.weekend for d in days[:7]] == [False] * 5 + [True, True]
    assert [len(w) for w in week.weeks_of(days)] == [7, 7]


def test_a_series_shares_one_card_anchor_and_single_meetings_have_their_own() -> None:
    weekly = [
        meeting("1:1 Alice / Bob", at(3, 14) + timedelta(weeks=n), uid="weekly", recurring=True)
        for n in range(2)
    ]
    lunch = meeting("Lunch with Carol", at(4, 12), 60, with_=(CAROL,))

    first, second, single = touchpoints(*weekly, lunch)

    assert week.anchor(first) == week.anchor(second)
    assert week.anchor(single) != week.anchor(first)


def test_initials_come_from_the_name_else_the_address() -> None:
    assert week.initials("Carol van Example", CAROL) == "CE"
    assert week.initials("", "dan@example.com") == "D"
    assert week.initials("  ", "9x@example.com") == "9"
    assert week.colour_of("Carol@Example.com") == week.colour_of(CAROL)


def test_people_cards_say_the_relationship_and_the_last_career_conversation() -> None:
    profile = alice(manager=BOB)
    past = touchpoints(
        meeting("Mentoring with Dan", at(17, 9, month=2), with_=(DAN,)),
        meeting("1:1 Alice / Bob", at(24, 14, month=2)),
    )
    ahead = touchpoints(meeting("Lunch with Carol", at(4, 12), 60, with_=(CAROL,)))
    year = insights.past_year(past, profile, NOW)

    cards = {p.email: p for p in week.people(year, ahead, profile, {DAN: "Dan Example"})}

    assert cards[DAN].relationship == "mentors"
    assert cards[DAN].last_career is not None
    assert cards[DAN].last_career.date().isoformat() == "2026-02-17"
    assert cards[DAN].initials == "DE"
    assert cards[BOB].relationship == "manager"
    assert cards[BOB].last_career is None
    assert cards[CAROL].next_meeting is not None
    assert ALICE not in cards


def test_the_mix_bars_are_scaled_to_the_largest_group() -> None:
    mix = {c: [] for c in insights.CATEGORIES}
    mix["peers"] = [insights.PersonCount(CAROL, "Carol", 4)]
    mix["manager"] = [insights.PersonCount(BOB, "Bob", 1)]

    bars = {bar.category: bar for bar in week.mix_bars(mix, width=200)}

    assert (bars["peers"].width, bars["manager"].width, bars["external"].width) == (200, 50, 0)
    assert [bar.y for bar in week.mix_bars(mix)] == [0, 28, 56, 84, 112]


def test_the_year_strip_counts_career_conversations_per_week() -> None:
    profile = alice()
    past = touchpoints(
        meeting("Mentoring with Dan", at(17, 9, month=2), with_=(DAN,)),
        meeting("Career chat with Carol", at(19, 9, month=2), with_=(CAROL,)),
        meeting("Lunch with Carol", at(20, 12, month=2), 60, with_=(CAROL,)),
    )

    strip = week.year_strip(insights.past_year(past, profile, NOW), profile, NOW)

    assert len(strip) == 52
    assert strip[-1].start.isoformat() == "2026-03-02"  # this week last
    assert [w.count for w in strip if w.count] == [2]
    assert week.career_count(strip) == 2
    assert strip[0].start in {w.start for w in week.month_marks(strip)}


def test_a_calendar_the_user_is_on_is_theirs() -> None:
    meetings = [({ALICE, BOB}, BOB)] * 6
    assert likely_owner(meetings, ALICE) == ""


def test_a_calendar_of_someone_elses_meetings_names_them_the_organiser_first() -> None:
    meetings = [({BOB, CAROL}, BOB)] * 6
    assert likely_owner(meetings, ALICE) == BOB
    assert likely_owner(meetings[:4], ALICE) == ""  # too few to say


def test_a_kept_upload_tells_its_latest_event() -> None:
    data = b"BEGIN:VEVENT\r\nDTSTART;TZID=X:20190503T120000\r\nEND:VEVENT\r\n"
    data += b"BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20180101\r\nEND:VEVENT\r\n"
    assert latest_in_file(data) is not None
    assert latest_in_file(data).isoformat() == "2019-05-03"  # type: ignore[union-attr]
    assert latest_in_file(b"") is None
