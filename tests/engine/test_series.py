"""One note a week per series: the first of the week, or the last one before a chat that week."""

from __future__ import annotations

from datetime import timedelta

from service.engine.model import Touchpoint
from service.engine.series import noted_occurrences, week_of
from tests.factories import BERLIN, CAROL, at, meeting


def standup(day: int) -> Touchpoint:
    occ = meeting("Stand-up", at(day, 9, 30), 15, with_=(CAROL,), uid="s@t", recurring=True)
    return Touchpoint(occ, "project", 0.6, (), (CAROL,))


def lunch(day: int) -> Touchpoint:
    occ = meeting("Lunch", at(day, 12), 60, with_=(CAROL,))
    return Touchpoint(occ, "meal", 0.8, (), (CAROL,))


WEEKDAYS = [2, 3, 4, 5, 6, 9, 10, 11, 12, 13]  # Monday 2 to Friday 13 March 2026


def test_each_week_notes_the_first_occurrence() -> None:
    upcoming = [standup(d) for d in WEEKDAYS]
    chosen = noted_occurrences([], upcoming, BERLIN)
    assert sorted(upcoming[i].occurrence.start.day for i in chosen) == [2, 9]


def test_a_chat_that_week_moves_the_note_to_the_meeting_before_it() -> None:
    upcoming = [standup(d) for d in WEEKDAYS]
    chosen = noted_occurrences([], upcoming, BERLIN, anchors=[at(4, 13, 5)])
    assert sorted(upcoming[i].occurrence.start.day for i in chosen) == [4, 9]


def test_a_week_whose_first_meeting_is_past_gets_no_second_note() -> None:
    past, upcoming = [standup(2), standup(3)], [standup(d) for d in WEEKDAYS[2:]]
    chosen = noted_occurrences(past, upcoming, BERLIN)
    assert sorted(upcoming[i].occurrence.start.day for i in chosen) == [9]


def test_single_meetings_always_get_their_note() -> None:
    upcoming = [lunch(3), lunch(4), lunch(5)]
    assert noted_occurrences([], upcoming, BERLIN) == {0, 1, 2}


def test_weeks_run_monday_to_sunday_where_the_user_is() -> None:
    sunday_night = at(8, 23, 30)
    assert week_of(sunday_night, BERLIN) == at(2, 0).date()
    assert week_of(sunday_night + timedelta(hours=1), BERLIN) == at(9, 0).date()
