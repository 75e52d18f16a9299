"""The touchpoint classifier: which calendar moments are good for a career conversation, and why."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from service.engine.classify import classify, is_busy, is_career
from service.engine.model import Attendee, Kind, Verdict
from tests.factories import ALICE, BOB, CAROL, DAN, ERIN, alice, at, meeting, person

NOON = at(4, 12)  # Wednesday, lunchtime in Berlin
AFTERNOON = at(4, 15)
CROWD = tuple(f"colleague{n}@example.com" for n in range(12))


def judge(
    title: str,
    with_: tuple[str, ...] = (CAROL,),
    start: datetime = NOON,
    minutes: int = 45,
    **changes: Any,
) -> Verdict:
    """Classify a meeting alice has with the given people, on Wednesday at noon by default."""
    return classify(meeting(title, start, minutes, with_=with_, **changes), alice())


def kind_of(title: str, with_: tuple[str, ...] = (CAROL,), **changes: Any) -> Kind | None:
    return judge(title, with_, **changes).kind


# Titles in seven languages, with two colleagues so a title that is not understood cannot pass
# as a 1:1; the 1:1 titles are judged with Carol alone.
TITLES: list[tuple[str, Kind | None]] = [
    # English
    ("Lunch with Carol", "meal"), ("Team lunch 🍕", "meal"), ("Breakfast @ Joe's", "meal"),
    ("Dinner w/ Dan", "meal"), ("🍽️", "meal"), ("Coffee chat", "coffee"),
    ("Virtual coffee ☕", "coffee"), ("Coffee roulette", "coffee"), ("Donut chat", "coffee"),
    ("Walk & talk 🚶", "coffee"), ("Tea with Dan", "coffee"), ("Project Phoenix sync", "project"),
    ("Design review", "project"), ("Sprint planning", "project"), ("Q3 kick-off", "project"),
    ("Retro", "project"), ("Pairing session", "project"), ("Mentoring session", "career"),
    ("Skip-level", "career"), ("Career chat", "career"), ("IDP check-in", "career"),
    ("Performance review", "career"), ("🌱 growth chat", "career"), ("All-hands", None),
    ("Interview: Jane Doe (backend)", None), ("Dentist 🦷", None), ("✈️ BER → LIS", None),
    ("Focus time", None), ("OOO", None), ("Holiday party 🎉", None),
    ("Lunch & Learn: Kubernetes", None),
    # German
    ("Mittagessen mit Carol", "meal"), ("Teamfrühstück", "meal"), ("Abendessen", "meal"),
    ("Kaffeeklatsch", "coffee"), ("Kaffee ☕", "coffee"), ("Spaziergang", "coffee"),
    ("Projekt-Sync Apollo", "project"), ("Entwicklungsgespräch", "career"),
    ("Karrieregespräch", "career"), ("Mitarbeitergespräch", "career"),
    ("Feedbackgespräch", "career"), ("Vorstellungsgespräch Frau Müller", None),
    ("Urlaub 🏖️", None), ("Zahnarzt", None),
    # French
    ("Déjeuner", "meal"), ("Petit-déjeuner d'équipe", "meal"), ("Dîner client", "meal"),
    ("Pause café", "coffee"), ("Balade", "coffee"), ("Point carrière", "career"),
    ("Entretien annuel", "career"), ("Entretien de carrière", "career"),
    ("Revue de projet", "project"), ("Entretien d\u2019embauche", None), ("Congés", None),
    # Spanish
    ("Almuerzo con Carol", "meal"), ("Comida de equipo", "meal"), ("Desayuno", "meal"),
    ("Cena", "meal"), ("Cafecito", "coffee"), ("Paseo", "coffee"), ("Charla de carrera", "career"),
    ("Planificación del sprint", "project"), ("Entrevista candidato", None), ("Vacaciones", None),
    # Portuguese
    ("Almoço", "meal"), ("Pequeno-almoço", "meal"), ("Café da manhã", "meal"), ("Jantar", "meal"),
    ("Cafezinho", "coffee"), ("Conversa de carreira", "career"), ("Reunião de projeto", "project"),
    ("Férias", None),
    # Italian
    ("Pranzo", "meal"), ("Colazione", "meal"), ("Pausa caffè", "coffee"),
    ("Passeggiata", "coffee"), ("Colloquio di crescita", "career"),
    ("Riunione di progetto", "project"), ("Ferie", None),
    # Dutch
    ("Koffie", "coffee"), ("Ontbijt", "meal"), ("Avondeten", "meal"), ("Wandeling", "coffee"),
    ("Loopbaangesprek", "career"), ("Ontwikkelgesprek", "career"), ("Projectoverleg", "project"),
    ("Vakantie", None),
]  # fmt: skip
ONE_ON_ONE_TITLES = [
    "1:1",
    "1-on-1",
    "One on one",
    "Alice <> Carol",
    "Alice / Carol",
    "Carol x Alice",
    "Catch-up",
    "sync w/ Carol",
    "f/u on the launch",
    "Tête-à-tête",
    "Austausch",
    "",
    "Quarterly numbers",
]


@pytest.mark.parametrize(("title", "expected"), TITLES)
def test_it_understands_titles_in_seven_languages(title: str, expected: Kind | None) -> None:
    verdict = judge(title, with_=(CAROL, DAN))

    assert verdict.kind == expected
    assert verdict.reasons


@pytest.mark.parametrize("title", ONE_ON_ONE_TITLES)
def test_a_meeting_with_exactly_one_other_person_is_a_one_on_one(title: str) -> None:
    assert kind_of(title, with_=(CAROL,)) == "one_on_one"


def test_it_names_the_title_word_and_the_people_in_its_reasons() -> None:
    verdict = judge("Lunch with Carol")

    assert verdict.reasons[:2] == ("title mentions Lunch", "just you and Carol")
    assert "at lunchtime" in verdict.reasons


def test_title_words_for_a_meal_beat_the_one_on_one_rule() -> None:
    assert kind_of("Lunch with Bob", with_=(BOB,)) == "meal"
    assert kind_of("Coffee", with_=(BOB,)) == "coffee"
    assert kind_of("Growth conversation", with_=(BOB,)) == "career"


def test_a_meeting_with_the_manager_alone_is_a_one_on_one() -> None:
    verdict = judge("Weekly sync", with_=(BOB,))

    assert verdict.kind == "one_on_one"
    assert "with your manager" in verdict.reasons


def test_a_career_conversation_scores_highest() -> None:
    career = judge("Mentoring", minutes=240)
    one_on_one = judge("1:1")
    big_project = judge("Project sync", with_=CROWD[:7])

    assert career.kind == "career"
    assert career.score >= 0.9
    assert career.score > one_on_one.score > big_project.score
    assert is_career(meeting("Mentoring", NOON), alice())
    assert not is_career(meeting("1:1", NOON), alice())


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"my_response": "declined"}, "you declined it"),
        ({"status": "cancelled"}, "it was cancelled"),
        ({"transparent": True}, "it is marked free: a hold, not a meeting"),
        ({"component": "VTODO"}, "it is a VTODO entry, not a meeting"),
    ],
)
def test_it_skips_what_will_not_happen_as_a_meeting(changes: dict[str, Any], reason: str) -> None:
    verdict = judge("Lunch with Carol", **changes)

    assert verdict.kind is None
    assert verdict.score == 0.0
    assert verdict.reasons == (reason,)


def test_it_skips_all_day_events() -> None:
    verdict = classify(meeting("Team lunch", at(4, 0).date(), with_=(CAROL,)), alice())

    assert verdict.kind is None
    assert verdict.reasons == ("all-day events are not meetings",)


def test_a_lunch_alone_is_a_break_not_a_touchpoint() -> None:
    verdict = judge("Lunch", with_=())

    assert verdict.kind is None
    assert verdict.reasons == ("nobody else is in it",)


def test_a_title_that_names_someone_counts_even_when_nobody_is_invited() -> None:
    named = judge("Lunch w/ Carol", with_=())
    invited = judge("Lunch w/ Carol")

    assert named.kind == "meal"
    assert "nobody is invited, but the title names Carol" in named.reasons
    assert named.score < invited.score
    assert judge("Alice <> Dan", with_=()).kind == "one_on_one"
    assert judge("Lunch with the team", with_=()).kind is None


def test_it_skips_a_meeting_everyone_else_declined() -> None:
    occ = meeting("1:1", NOON, attendees=(person(ALICE), person(CAROL, status="declined")))

    assert classify(occ, alice()).reasons == ("Carol declined",)


@pytest.mark.parametrize(
    ("title", "word"),
    [
        ("Company all-hands", "all-hands"),
        ("Town hall Q1", "Town hall"),
        ("Security training", "training"),
        ("Webinar: pricing", "Webinar"),
        ("Summer party", "party"),
        ("Offsite planning day", "Offsite"),
    ],
)
def test_large_gatherings_are_too_big_to_talk(title: str, word: str) -> None:
    verdict = judge(title, with_=(CAROL, DAN))

    assert verdict.kind is None
    assert verdict.reasons == (f"title mentions {word}: too big to talk",)


def test_more_than_eight_other_people_is_too_big_even_for_lunch() -> None:
    assert judge("Team lunch", with_=CROWD[:8]).kind == "meal"
    assert judge("Team lunch", with_=CROWD[:9]).reasons == ("9 other people: too big to talk",)


def test_standups_and_demos_count_only_when_small() -> None:
    assert kind_of("Daily standup", with_=CROWD[:4]) == "project"
    assert kind_of("Daily standup", with_=CROWD[:7]) is None
    assert kind_of("Demo", with_=(CAROL, DAN)) == "project"


@pytest.mark.parametrize(
    ("title", "why"),
    [
        ("Interview: Jane Doe", "an interview is about the candidate, not you"),
        ("Candidate debrief", "an interview is about the candidate, not you"),
        ("Doctor", "a personal appointment"),
        ("Kids pickup", "a personal appointment"),
        ("Flight LH 123", "that is travel"),
        ("Hotel check-in", "that is travel"),
        ("Heads down", "time kept free of meetings"),
        ("No meetings", "time kept free of meetings"),
        ("Out of office", "you are away"),
        ("Congés", "you are away"),
    ],
)
def test_it_skips_interviews_appointments_travel_focus_and_time_off(title: str, why: str) -> None:
    verdict = judge(title)

    assert verdict.kind is None
    assert verdict.reasons[0].endswith(why)


def test_a_meal_word_outweighs_a_place_that_sounds_like_travel() -> None:
    assert kind_of("Lunch at Hotel Adlon") == "meal"


def test_accents_and_case_do_not_matter() -> None:
    for title in ("DÉJEUNER", "dejeuner", "Déjeuner", "déjeuner"):
        assert kind_of(title, with_=(CAROL, DAN)) == "meal"


def test_words_only_match_whole_words() -> None:
    assert kind_of("Team sync", with_=(CAROL, DAN)) == "project"  # "Tea" is not "Team"
    assert kind_of("Lunchroom booking", with_=(CAROL, DAN)) != "meal"
    assert "Conference" not in judge("Conference call", with_=(CAROL, DAN)).reasons[0]
    assert kind_of("Third-party API review", with_=(CAROL, DAN)) == "project"  # nor a party


def test_an_unclear_meeting_of_several_people_after_hours_is_not_a_touchpoint() -> None:
    verdict = judge("Quarterly numbers", with_=(CAROL, DAN), start=at(4, 19))

    assert verdict.kind is None
    assert verdict.reasons == ("the title does not say what it is, and 2 others are in it",)


def test_a_small_unclear_meeting_in_a_meeting_room_is_project_work() -> None:
    assert (
        kind_of("Quarterly numbers", with_=(CAROL, DAN), location="Meeting room 4.12") == "project"
    )


def test_a_meeting_room_raises_a_project_meeting() -> None:
    plain = judge("Design review", with_=(CAROL, DAN))
    in_room = judge("Design review", with_=(CAROL, DAN), location="Room Everest")

    assert in_room.score > plain.score
    assert "in a meeting room" in in_room.reasons


def test_smaller_project_meetings_score_higher() -> None:
    assert (
        judge("Design review", with_=(CAROL, DAN)).score
        > judge("Design review", with_=CROWD[:7]).score
    )


def test_a_three_hour_lunch_is_less_likely_than_an_hour() -> None:
    usual = judge("Lunch", minutes=60)
    marathon = judge("Lunch", minutes=180)

    assert marathon.kind == "meal"
    assert marathon.score < usual.score
    assert "3 hours is long for a meal" in marathon.reasons


def test_a_meal_at_mealtime_scores_higher_than_in_the_afternoon() -> None:
    lunch = judge("Lunch", start=NOON)
    late = judge("Lunch", start=AFTERNOON)

    assert lunch.score > late.score
    assert "at lunchtime" in lunch.reasons
    assert "not at a mealtime" in late.reasons
    assert "at breakfast time" in judge("Breakfast", start=at(4, 8)).reasons
    assert "at dinnertime" in judge("Dinner", start=at(4, 19)).reasons


def test_a_restaurant_or_cafe_makes_an_unclear_meeting_a_meal_or_coffee() -> None:
    assert kind_of("Carol", with_=(CAROL, DAN), location="Trattoria Roma") == "meal"
    assert kind_of("Carol", with_=(CAROL, DAN), location="Café Einstein") == "coffee"
    assert kind_of("Carol", start=AFTERNOON, location="Kantine") == "coffee"
    assert kind_of("Carol", location="Kantine") == "meal"


def test_a_restaurant_raises_a_meal() -> None:
    plain = judge("Lunch")
    out = judge("Lunch", location="Restaurant Lorenz Adlon")

    assert out.score > plain.score
    assert "at Restaurant" in out.reasons


def test_someone_from_outside_makes_it_a_networking_moment() -> None:
    verdict = judge("Coffee", with_=(ERIN,))

    assert verdict.kind == "coffee"
    assert "Erin is from outside (partner.org): a networking moment" in verdict.reasons


def test_it_says_who_set_it_up() -> None:
    assert "Carol set it up" in judge("Coffee", organizer=CAROL).reasons


def test_the_organiser_counts_even_when_the_feed_leaves_them_out() -> None:
    occ = meeting("", NOON, organizer=DAN, attendees=(person(ALICE),))

    assert classify(occ, alice()).people == (DAN,)
    assert classify(occ, alice()).kind == "one_on_one"


def test_being_tentative_or_not_answering_lowers_the_score_a_little() -> None:
    sure = judge("1:1")
    tentative = judge("1:1", my_response="tentative")
    unanswered = judge("1:1", my_response="needs-action")

    assert tentative.kind == unanswered.kind == "one_on_one"
    assert sure.score > tentative.score > 0.5
    assert unanswered.score < sure.score
    assert "you are only tentative" in tentative.reasons


def test_what_the_user_marked_wins_over_everything() -> None:
    profile = alice(overrides=(("lunch@test", None), ("all-hands@test", "project")))
    lunch = meeting("Lunch with Carol", NOON, with_=(CAROL,), uid="lunch@test")
    all_hands = meeting("All-hands", NOON, with_=CROWD, uid="all-hands@test")
    declined = meeting("All-hands", NOON, uid="all-hands@test", my_response="declined")

    assert classify(lunch, profile).kind is None
    assert classify(lunch, profile).reasons == ("you marked it",)
    assert classify(all_hands, profile).kind == "project"
    assert classify(declined, profile).kind == "project"


def test_people_are_the_other_humans_in_order_lower_cased() -> None:
    attendees = (
        person(ALICE),
        Attendee("Dan@Example.com", "Dan"),
        Attendee("room-berlin-4@example.com", "Berlin 4", cutype="room"),
        Attendee("c_1888@resource.calendar.google.com", "Beamer"),
        Attendee("Room.Lisbon@example.com", "Lisbon"),
        Attendee("eng@example.com", "Engineering", cutype="group"),
        Attendee("team-payments@example.com", "Payments"),
        person(CAROL),
        person(BOB),
    )
    occ = meeting("Sprint planning", NOON, attendees=attendees)

    assert classify(occ, alice()).people == (DAN, CAROL, BOB)


def test_a_mailing_list_makes_it_no_one_on_one() -> None:
    occ = meeting("", NOON, attendees=(person(ALICE), person(CAROL), person("all@example.com")))

    assert classify(occ, alice()).kind is None


def test_a_rejection_still_lists_the_people() -> None:
    verdict = judge("Interview: Jane Doe", with_=(CAROL, DAN))

    assert verdict.people == (CAROL, DAN)


def test_it_blocks_time_for_meetings_that_will_happen() -> None:
    assert is_busy(meeting("1:1", NOON))
    assert is_busy(meeting("1:1", NOON, my_response="tentative"))
    assert not is_busy(meeting("1:1", NOON, my_response="declined"))
    assert not is_busy(meeting("1:1", NOON, status="cancelled"))
    assert not is_busy(meeting("Hold", NOON, transparent=True))
    assert not is_busy(meeting("Write the report", NOON, component="VTODO"))


def test_an_all_day_event_blocks_time_only_when_it_is_opaque() -> None:
    assert is_busy(meeting("OOO", at(4, 0).date(), with_=()))
    assert not is_busy(meeting("Carol's birthday", at(4, 0).date(), with_=(), transparent=True))
