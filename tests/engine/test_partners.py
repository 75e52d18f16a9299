"""Choosing whom to ask: informal moments first, not always the manager, the stage matters."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from service.engine.model import Attendee, Kind, Profile, Touchpoint
from service.engine.partners import NOBODY, Partner, choose_partner
from tests.factories import ALICE, BOB, CAROL, DAN, ERIN, NOW, alice, at, meeting


def touchpoint(
    kind: Kind, start: datetime, *with_: str, minutes: int = 30, title: str = "", **changes: object
) -> Touchpoint:
    """Return a touchpoint of alice's with the given people."""
    title = title or f"{kind} with {', '.join(with_)}"
    occurrence = meeting(title, start, minutes, with_, **changes)
    return Touchpoint(occurrence, kind, 1.0, (), with_)


def weekly(kind: Kind, *with_: str, weeks: int, hour: int = 10) -> list[Touchpoint]:
    """Return `weeks` past touchpoints, one a week going back from last week."""
    return [touchpoint(kind, at(2, hour) - timedelta(weeks=n), *with_) for n in range(1, weeks + 1)]


def choose(
    past: Sequence[Touchpoint], upcoming: Sequence[Touchpoint] = (), profile: Profile | None = None
) -> Partner:
    """Return alice's partner as of NOW."""
    return choose_partner(past, upcoming, profile or alice(), NOW)


def test_it_suggests_carol_right_after_an_upcoming_lunch_with_her() -> None:
    lunch = touchpoint("meal", at(4, 12), CAROL, minutes=60, title="Lunch")
    partner = choose(weekly("one_on_one", BOB, weeks=6), [lunch])
    assert partner.email == CAROL
    assert partner.after == (at(4, 13),)
    assert (
        partner.reason
        == "You have lunch with Carol on Wed 4 Mar; ask for fifteen minutes right after."
    )


def test_it_does_not_always_pick_the_manager() -> None:
    past = weekly("one_on_one", BOB, weeks=6) + weekly("project", CAROL, BOB, weeks=3, hour=14)
    partner = choose(past)
    assert partner.email == CAROL
    assert partner.after == ()
    assert partner.reason == (
        "You have never had a career conversation with Carol, "
        "and you two have met 3 times in the last 90 days."
    )


def test_it_picks_the_manager_when_nobody_else_is_on_the_calendar() -> None:
    partner = choose(weekly("one_on_one", BOB, weeks=2))
    assert partner.email == BOB
    assert "Bob" in partner.reason


def test_it_brings_the_manager_back_when_career_talks_were_with_others_for_long() -> None:
    past = [
        *weekly("one_on_one", BOB, weeks=4),
        touchpoint("career", NOW - timedelta(days=20), CAROL),
        touchpoint("career", NOW - timedelta(days=40), DAN),
        touchpoint("career", NOW - timedelta(days=100), BOB),
    ]
    partner = choose(past)
    assert partner.email == BOB
    assert partner.reason == (
        "Your recent career conversations were with others; keep Bob, your manager, up to date too."
    )


def test_it_never_suggests_someone_on_the_never_suggest_list() -> None:
    lunch = touchpoint("meal", at(4, 12), CAROL, minutes=60)
    partner = choose(
        weekly("coffee", DAN, weeks=2), [lunch], alice(never_suggest=frozenset({CAROL.upper()}))
    )
    assert partner.email == DAN


def test_it_never_suggests_alice_rooms_or_no_reply_addresses() -> None:
    odd = ("Room-4.1@example.com", "c_123@resource.calendar.google.com", "no-reply@example.com")
    past = [touchpoint("project", NOW - timedelta(days=3), ALICE, *odd)]
    partner = choose(past)
    assert (partner.email, partner.reason, partner.after) == (None, NOBODY, ())


def test_it_skips_an_attendee_the_calendar_marks_as_a_room() -> None:
    room = Attendee("board@example.com", "Board room", "accepted", "room")
    lunch = touchpoint("meal", at(4, 12), "board@example.com", attendees=(room,))
    assert choose([], [lunch]).email is None


def test_it_says_whom_to_ask_when_nobody_fits() -> None:
    partner = choose([])
    assert partner.email is None
    assert (
        partner.reason
        == "Pick someone who will listen without an agenda: a peer, a mentor, someone from "
        "another team."
    )


def test_an_internal_move_favours_someone_from_another_team() -> None:
    past = weekly("project", CAROL, BOB, weeks=5) + weekly("coffee", DAN, weeks=2, hour=15)
    partner = choose(past, profile=alice(stage="internal_move"))
    assert partner.email == DAN
    assert (
        partner.reason
        == "Dan works on another team and you two have met twice in the last 90 days."
    )


def test_an_external_move_favours_someone_outside_the_company() -> None:
    past = weekly("project", CAROL, weeks=4) + weekly("coffee", ERIN, weeks=1, hour=15)
    partner = choose(past, profile=alice(stage="external_move"))
    assert partner.email == ERIN
    assert "outside your company" in partner.reason


def test_an_external_move_favours_a_mentor_over_a_busy_peer() -> None:
    past = [*weekly("project", CAROL, weeks=4), touchpoint("career", NOW - timedelta(days=30), DAN)]
    partner = choose(past, profile=alice(stage="external_move"))
    assert partner.email == DAN
    assert "mentored you" in partner.reason


def test_a_new_project_favours_people_from_upcoming_project_meetings() -> None:
    kickoff = touchpoint("project", at(5, 14), DAN, title="Atlas kickoff")
    partner = choose(weekly("project", CAROL, weeks=4), [kickoff], alice(stage="new_project"))
    assert partner.email == DAN
    assert partner.reason == "Dan is in your upcoming project meetings; ask what it needs."


def test_growth_favours_whoever_alice_has_not_talked_careers_with() -> None:
    past = [
        *weekly("coffee", CAROL, weeks=2),
        *weekly("coffee", DAN, weeks=2, hour=15),
        touchpoint("career", NOW - timedelta(days=10), CAROL),
    ]
    assert choose(past).email == DAN


def test_growth_favours_whoever_alice_talked_careers_with_longest_ago() -> None:
    past = [
        *weekly("coffee", CAROL, weeks=2),
        *weekly("coffee", DAN, weeks=2, hour=15),
        touchpoint("career", NOW - timedelta(days=80), CAROL),
        touchpoint("career", NOW - timedelta(days=130), DAN),
    ]
    partner = choose(past)
    assert partner.email == DAN
    assert partner.reason == "Your last career conversation with Dan was 130 days ago."


def test_an_upcoming_informal_touchpoint_outranks_the_stage() -> None:
    coffee = touchpoint("coffee", at(3, 15), CAROL)
    past = weekly("coffee", DAN, weeks=3)
    partner = choose(past, [coffee], alice(stage="internal_move"))
    assert partner.email == CAROL
    assert (
        partner.reason
        == "You have coffee with Carol on Tue 3 Mar; ask for fifteen minutes right after."
    )


def test_it_lists_every_upcoming_informal_touchpoint_with_the_partner() -> None:
    upcoming = [
        touchpoint("coffee", at(11, 15), CAROL),
        touchpoint("meal", at(4, 12), CAROL, minutes=60),
    ]
    assert choose([], upcoming).after == (at(4, 13), at(11, 15, 30))


def test_it_makes_a_readable_name_from_the_address_when_none_is_known() -> None:
    bare = "carol.smith@example.com"
    attendees = (Attendee(ALICE), Attendee(bare))
    coffee = touchpoint("coffee", at(12, 10), bare, attendees=attendees)
    partner = choose([], [coffee])
    assert (
        partner.reason
        == "You have coffee with Carol Smith on Thu 12 Mar; ask for fifteen minutes right after."
    )


def test_it_offers_nothing_after_a_lunch_that_is_already_over() -> None:
    yesterday = touchpoint("meal", NOW - timedelta(days=1), CAROL)
    partner = choose([], [yesterday])
    assert partner.email is None
