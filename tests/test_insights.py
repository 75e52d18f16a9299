"""What the dashboard derives from a calendar: people mix, cadence clock, days, exports."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from service.dashboard import insights
from service.engine.model import Cadence
from service.engine.people import display_name
from service.models import Reflection
from service.reflections import log as reflection_log
from tests.factories import BERLIN, BOB, CAROL, DAN, ERIN, NOW, alice, at, meeting

FRANK = "frank@example.com"  # mentored alice once
GINA = "gina@sales.example.com"  # another colleague, on a sub-domain


def year_of_meetings() -> list:
    return [
        meeting("1:1 Alice / Bob", at(23, 10, month=2), with_=(BOB,)),
        meeting("1:1 Alice / Bob", at(9, 10, month=2), with_=(BOB,)),
        meeting("Sprint planning", at(10, 10, month=2), 45, with_=(CAROL, DAN)),
        meeting("Mentoring with Frank", at(12, 16, month=1), with_=(FRANK,)),
        meeting("Coffee with Gina", at(20, 9, month=1), with_=(GINA,)),
        meeting("Lunch with Erin", at(5, 12, month=2), 60, with_=(ERIN,)),
        meeting("All hands", at(6, 15, month=2), 60, with_=(BOB, CAROL, DAN, ERIN, *PEOPLE)),
        meeting("Coffee with Dan", at(3, 9, month=2), with_=(DAN,), my_response="declined"),
        meeting("Lunch with Erin", datetime(2025, 2, 1, 12, tzinfo=BERLIN), 60, with_=(ERIN,)),
        meeting("Lunch with Gina", at(4, 12), 60, with_=(GINA,)),  # still to come
    ]


PEOPLE = tuple(f"person{i}@example.com" for i in range(10))


def mix_of(occurrences: list, **profile_changes: object) -> dict[str, int]:
    profile = alice(**profile_changes)
    return insights.people_mix(insights.touchpoints_of(occurrences, profile), profile, NOW)


def test_the_people_mix_counts_meetings_of_the_last_year_per_category() -> None:
    assert mix_of(year_of_meetings()) == {
        "manager": 2,
        "peers": 2,
        "mentors": 1,
        "cross_team": 1,
        "external": 1,
    }


def test_big_declined_old_and_future_meetings_are_not_in_the_mix() -> None:
    only_those = year_of_meetings()[6:]

    assert sum(mix_of(only_those).values()) == 0


def test_a_meeting_the_user_marked_not_a_touchpoint_leaves_the_mix() -> None:
    lunch = meeting("Lunch with Erin", at(5, 12, month=2), 60, with_=(ERIN,))

    assert mix_of([lunch], overrides=((lunch.uid, None),))["external"] == 0


def test_a_colleague_in_a_career_talk_counts_as_a_mentor_even_when_also_a_peer() -> None:
    project = meeting("Sprint review", at(10, 10, month=2), 45, with_=(CAROL, DAN))
    talk = meeting("Career chat", at(11, 10, month=2), with_=(CAROL,))

    mix = mix_of([project, talk])

    assert (mix["mentors"], mix["peers"]) == (2, 1)


def test_the_manager_stays_the_manager_after_a_career_talk() -> None:
    talk = meeting("Development conversation", at(11, 10, month=2), with_=(BOB,))

    assert mix_of([talk])["manager"] == 1


def test_the_top_people_come_with_their_names_most_met_first() -> None:
    profile = alice()
    touchpoints = insights.touchpoints_of(year_of_meetings(), profile)

    grouped = insights.people_by_category(touchpoints, profile, NOW)

    assert grouped["peers"] == [
        insights.PersonCount(CAROL, "Carol", 1),
        insights.PersonCount(DAN, "Dan", 1),
    ]
    assert grouped["cross_team"] == [insights.PersonCount(GINA, "Gina", 1)]
    assert grouped["manager"][0].count == 2


def test_the_clock_reaches_back_a_year_when_the_planner_saw_no_career_talk() -> None:
    profile = alice()
    old_talk = meeting("Mentoring with Frank", at(12, 16, month=1), with_=(FRANK,))
    touchpoints = insights.touchpoints_of([old_talk], profile)
    nothing_recent = Cadence(last=None, days_since=None, due=True)

    clock = insights.clock_of(nothing_recent, touchpoints, profile, NOW)

    assert (clock.days_since, clock.due) == (48, True)
    assert clock.last == at(12, 16, month=1)
    assert clock.gauge == 48


def test_the_clock_says_by_when_the_next_talk_is_ideal() -> None:
    last = at(17, 9, month=2)
    cadence = Cadence(last=last, days_since=12, due=False)

    clock = insights.clock_of(cadence, [], alice(ideal_days=30, max_days=40), NOW)

    assert clock.ideally_by == last + timedelta(days=30)
    assert clock.at_latest_by == last + timedelta(days=40)


def test_touchpoints_are_grouped_by_local_day_with_readable_labels() -> None:
    profile = alice()
    found = insights.touchpoints_of(
        [
            meeting("Lunch with Carol", at(2, 12), 60, with_=(CAROL,)),
            meeting("Coffee with Dan", at(3, 9), with_=(DAN,)),
            meeting("Coffee with Erin", at(5, 9), with_=(ERIN,)),
        ],
        profile,
    )

    days = insights.by_day(found, profile, NOW)

    assert [label for label, _ in days] == ["Today", "Tomorrow", "Thursday 5 March"]


def test_times_are_shown_in_the_users_zone() -> None:
    profile = alice()
    lunch = insights.touchpoints_of(
        [meeting("Lunch with Carol", at(4, 12), 60, with_=(CAROL,))], profile
    )[0]

    assert insights.local_time(lunch, profile) == "12:00\u201313:00"
    assert insights.short_moment(datetime(2026, 3, 4, 12, 5, tzinfo=UTC), BERLIN) == (
        "Wed 4 Mar 13:05"
    )


def entry(**fields: str) -> Reflection:
    values = dict.fromkeys(
        ("person", "going_well", "missing", "opportunity", "learned", "follow_up", "offered"), ""
    )
    values.update(fields)
    return Reflection(created_at=datetime(2026, 3, 2, 7, 30, tzinfo=UTC), **values)


def test_the_markdown_export_has_a_heading_per_entry_and_keeps_the_words() -> None:
    text = reflection_log.reflections_markdown(
        [entry(person="Carol", going_well="Shipped the importer", opportunity="# Lead next")],
        BERLIN,
    )

    assert "## 2026-03-02 08:30 · Carol" in text
    assert "**What is going well:**\n\nShipped the importer" in text
    assert "\\# Lead next" in text
    assert "What is missing" not in text


def test_the_json_export_lists_every_field() -> None:
    data = json.loads(reflection_log.reflections_json([entry(missing="Feedback")]))

    assert data == {
        "reflections": [
            {
                "created_at": "2026-03-02T07:30:00+00:00",
                "person": "",
                "going_well": "",
                "missing": "Feedback",
                "opportunity": "",
                "learned": "",
                "follow_up": "",
                "offered": "",
            }
        ]
    }


def test_an_address_without_a_name_reads_as_one() -> None:
    assert display_name("gina.rossi@sales.example.com") == "Gina Rossi"


def test_the_day_before_today_is_yesterday() -> None:
    assert insights.day_label(date(2026, 3, 1), NOW.date()) == "Yesterday"
