"""Project work from a meeting's shape, and two people with unknown words: the calendar decides."""

from __future__ import annotations

from datetime import timedelta

from service.engine.classify import classify
from service.engine.context import calendar_context
from service.engine.model import Occurrence, Window
from service.engine.plan import plan
from tests.factories import ALICE, BOB, CAROL, DAN, ERIN, alice, at, meeting

EVENING = at(4, 19)  # Wednesday after work: the working-hours rule cannot decide
FRANK, GRACE = "frank@example.com", "grace@example.com"


def judged(occ: Occurrence, *calendar: Occurrence) -> tuple[str | None, tuple[str, ...]]:
    context = calendar_context([occ, *calendar], alice())
    verdict = classify(occ, alice(), context)
    return verdict.kind, verdict.reasons


def test_a_code_name_the_same_people_meet_under_elsewhere_is_project_work() -> None:
    first = meeting("Kestrel", EVENING, with_=(CAROL, DAN))
    second = meeting("Kestrel cutover", at(6, 19), with_=(DAN, CAROL, FRANK))

    assert judged(first, second) == (
        "project",
        ("the same people meet about Kestrel elsewhere", "you, Carol and Dan"),
    )
    assert classify(first, alice()).kind is None  # alone, nothing says what it is


def test_a_code_name_shared_with_other_people_says_nothing() -> None:
    first = meeting("Kestrel", EVENING, with_=(CAROL, DAN))
    other = meeting("Kestrel", at(6, 19), with_=(FRANK, GRACE))

    assert judged(first, other)[0] is None


def test_names_of_people_are_not_code_names() -> None:
    first = meeting("Alice & Carol & Dan", EVENING, with_=(CAROL, DAN))
    second = meeting("Carol, Dan, Alice", at(6, 19), with_=(CAROL, DAN))

    assert judged(first, second)[0] is None


def test_a_ticket_key_is_project_work_without_any_context() -> None:
    verdict = classify(meeting("OPS-2291", EVENING, with_=(CAROL,)), alice())

    assert verdict.kind == "project"
    assert verdict.reasons[0] == "the title names the ticket OPS-2291"


def test_a_recurring_small_group_is_project_work() -> None:
    weekly = meeting("Lighthouse", EVENING, with_=(CAROL, DAN, FRANK), recurring=True)

    assert classify(weekly, alice()).kind == "project"
    assert classify(weekly, alice()).reasons[0] == "a recurring meeting of the same 4 people"


def test_the_calendar_knows_a_series_its_feed_lists_one_by_one() -> None:
    first = meeting("Lighthouse", EVENING, with_=(CAROL, DAN), uid="lh@test")
    again = meeting("Lighthouse", EVENING + timedelta(days=7), with_=(CAROL, DAN), uid="lh@test")

    assert judged(first, again)[0] == "project"
    assert classify(first, alice()).kind is None


def test_a_few_colleagues_in_working_hours_are_a_working_meeting() -> None:
    verdict = classify(meeting("Halbjahreszahlen", at(4, 10), with_=(CAROL, DAN)), alice())

    assert verdict.kind == "project"
    assert verdict.reasons[0] == "3 colleagues in working hours"


def test_an_outsider_an_evening_or_a_long_day_keeps_it_from_being_a_working_meeting() -> None:
    assert (
        classify(meeting("Halbjahreszahlen", at(4, 10), with_=(CAROL, ERIN)), alice()).kind is None
    )
    assert classify(meeting("Halbjahreszahlen", EVENING, with_=(CAROL, DAN)), alice()).kind is None
    long_day = meeting("Halbjahreszahlen", at(4, 9), 300, with_=(CAROL, DAN))
    assert classify(long_day, alice()).kind is None
    saturday = meeting("Halbjahreszahlen", at(7, 10), with_=(CAROL, DAN))
    assert classify(saturday, alice()).kind is None


def test_two_people_and_unknown_words_count_when_other_signals_agree() -> None:
    verdict = classify(meeting("Hålltider", at(4, 14), with_=(CAROL,)), alice())
    plain = classify(meeting("1:1", at(4, 14), with_=(CAROL,)), alice())

    assert verdict.kind == "one_on_one"
    assert verdict.reasons[0] == (
        "the title says nothing we know, but Carol is a colleague, it is in working hours and "
        "30 minutes suit a talk"
    )
    assert verdict.score < plain.score  # unknown words lower confidence


def test_two_people_and_unknown_words_from_outside_after_hours_are_not_a_touchpoint() -> None:
    verdict = classify(meeting("Veli görüşmesi", EVENING, with_=(ERIN,), organizer=ERIN), alice())

    assert verdict.kind is None
    assert verdict.reasons == (
        "the title says nothing we know, and Erin is from outside and it is outside working hours",
    )


def test_an_outsider_weighs_double_so_working_hours_alone_are_not_enough() -> None:
    once = meeting("Erin", at(4, 10), with_=(ERIN,))
    weekly = meeting("Erin", at(4, 10), with_=(ERIN,), recurring=True)
    weekly_unnamed = meeting("Zoltán", at(4, 10), with_=(ERIN,), recurring=True)

    assert classify(once, alice()).kind is None
    assert classify(weekly_unnamed, alice()).kind is None
    assert classify(weekly, alice()).kind == "one_on_one"
    assert "it is a series with Erin" in classify(weekly, alice()).reasons[0]


def test_the_manager_alone_with_unknown_words_is_a_one_on_one() -> None:
    assert classify(meeting("Kehityskeskustelu", at(4, 14), with_=(BOB,)), alice()).kind == (
        "one_on_one"
    )


def test_the_plan_reads_the_calendar_once_for_its_context() -> None:
    first = meeting("Kestrel", at(3, 19), with_=(CAROL, DAN))
    second = meeting("Kestrel cutover", at(5, 19), with_=(DAN, CAROL))
    window = Window(at(2, 8), at(9, 8))

    result = plan([first, second], alice(), window)

    assert [(t.occurrence.title, t.kind) for t in result.touchpoints] == [
        ("Kestrel", "project"),
        ("Kestrel cutover", "project"),
    ]
    assert ALICE not in result.touchpoints[0].people
