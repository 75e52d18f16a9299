"""Prep notes: two to four short lines before each touchpoint, shaped by kind, stage and person."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from service.engine import prompts
from service.engine.model import KINDS, STAGES, Attendee, Kind, PrepNote, Touchpoint
from service.engine.notes import _environment, compose_note
from tests.factories import ALICE, BOB, CAROL, DAN, ERIN, alice, at, meeting

GOAL = "lead the platform team by 2027"
PROMISE = "you promised to send Carol the migration plan"
WEDNESDAY_NOON = at(4, 12)
RELATIONSHIPS = {
    "manager": (BOB,),
    "peer": (CAROL,),
    "external": (ERIN,),
    "group": (CAROL, DAN, ERIN),
}


def touchpoint(
    kind: Kind = "coffee",
    with_: tuple[str, ...] = (CAROL,),
    title: str = "Coffee",
    start: datetime | date = WEDNESDAY_NOON,
    **changes: object,
) -> Touchpoint:
    occurrence = meeting(title, start, with_=with_, **changes)
    return Touchpoint(occurrence=occurrence, kind=kind, score=0.8, reasons=("test",), people=with_)


def note(tp: Touchpoint, **profile: object) -> PrepNote:
    return compose_note(tp, alice(**profile))


def lines(text: str) -> list[str]:
    return text.splitlines()


def words(text: str) -> int:
    return len(text.split())


def test_a_lunch_note_keeps_it_light_with_one_question() -> None:
    text = note(touchpoint("meal", title="Lunch")).text
    assert "lunch with Carol" in text
    assert "one question" in text


def test_a_coffee_note_stays_informal() -> None:
    text = note(touchpoint("coffee")).text
    assert "informal" in text
    assert "one question" in text


def test_a_one_on_one_note_asks_directly_in_the_last_minutes() -> None:
    text = note(touchpoint("one_on_one", with_=(BOB,), title="Bob / Alice")).text
    assert "last minutes" in text
    assert "ask directly" in text


def test_a_project_note_asks_for_two_minutes_at_the_end() -> None:
    text = note(touchpoint("project", title="Migration sync")).text
    assert "two minutes at the end" in text
    assert '"Migration sync"' in text


def test_a_career_note_prepares_what_is_going_well_missing_and_the_opportunity() -> None:
    text = note(touchpoint("career", with_=(BOB,), title="Development chat")).text
    assert "already is a career conversation" in text
    assert "going well" in text
    assert "missing" in text
    assert "opportunity" in text
    assert "one concrete ask" in text


def test_each_kind_gives_its_own_advice() -> None:
    openings = {lines(note(touchpoint(kind)).text)[0] for kind in KINDS}
    assert len(openings) == len(KINDS)


def test_each_stage_changes_the_note() -> None:
    texts = {note(touchpoint(), stage=stage).text for stage in STAGES}
    assert len(texts) == len(STAGES)


def test_a_new_project_asks_what_good_looks_like_and_who_to_know() -> None:
    text = note(touchpoint(), stage="new_project").text
    assert "what good looks like" in text
    assert "get to know" in text


def test_an_internal_move_asks_the_manager_how_they_see_it() -> None:
    text = note(touchpoint("one_on_one", with_=(BOB,)), stage="internal_move").text
    assert "how Bob sees a move to another team" in text


def test_an_internal_move_asks_a_peer_what_other_teams_need() -> None:
    text = note(touchpoint(), stage="internal_move").text
    assert "what other teams need" in text
    assert "who you should talk to" in text


@pytest.mark.parametrize("colleague", [BOB, CAROL])
def test_an_external_move_stays_discreet_with_colleagues(colleague: str) -> None:
    text = note(touchpoint(with_=(colleague,)), stage="external_move").text
    assert "discreet" in text
    assert "never say you are leaving" in text
    assert "sponsorship" not in text


def test_an_external_move_asks_someone_outside_for_the_market_and_an_introduction() -> None:
    text = note(touchpoint(with_=(ERIN,)), stage="external_move").text
    assert "market" in text
    assert "introduction" in text
    assert "discreet" not in text


def test_growth_asks_for_feedback_on_one_skill_and_the_next_stretch() -> None:
    text = note(touchpoint(), stage="growth").text
    assert "feedback on one skill" in text
    assert "next stretch" in text


def test_the_goal_appears_in_the_users_own_words() -> None:
    assert f'Your goal: "{GOAL}".' in note(touchpoint(), goal=GOAL).text


def test_no_goal_line_appears_without_a_goal() -> None:
    assert "goal" not in note(touchpoint()).text


def test_the_manager_is_kept_up_to_date_and_asked_for_sponsorship() -> None:
    text = note(touchpoint(with_=(BOB,))).text
    assert "Keep Bob up to date" in text
    assert "sponsorship" in text


def test_a_peer_is_offered_a_hand() -> None:
    assert "Add value for Carol: offer a hand" in note(touchpoint(with_=(CAROL,))).text


def test_someone_outside_gets_value_first_and_is_asked_about_the_market() -> None:
    text = note(touchpoint(with_=(ERIN,))).text
    assert "Add value first" in text
    assert "market" in text


def test_manager_peer_and_external_people_get_different_advice() -> None:
    texts = [note(touchpoint(with_=(who,))).text for who in (BOB, CAROL, ERIN)]
    second_lines = {lines(text)[1].split(":")[0] for text in texts}
    assert len(second_lines) == 3


def test_a_group_meeting_names_the_meeting_and_picks_one_person() -> None:
    tp = touchpoint("project", with_=(BOB, DAN, ERIN), title="Sprint review")
    result = note(tp)
    assert result.subject == "Prep: Sprint review (Wed 12:00)"
    assert lines(result.text)[0] == 'After "Sprint review", ask Dan for two minutes at the end.'
    assert "Bob" not in result.text
    assert "Erin" not in result.text


def test_a_group_meeting_picks_someone_outside_when_looking_outside() -> None:
    tp = touchpoint("project", with_=(BOB, DAN, ERIN), title="Partner sync")
    text = note(tp, stage="external_move").text
    assert "ask Erin for two minutes" in text


def test_last_time_appears_for_that_person() -> None:
    text = compose_note(touchpoint(), alice(), last_with={CAROL: PROMISE}).text
    assert lines(text)[0] == f"Last time with Carol, {PROMISE}."


def test_last_time_with_someone_else_stays_out_of_the_note() -> None:
    text = compose_note(touchpoint(with_=(ERIN,)), alice(), last_with={CAROL: PROMISE}).text
    assert "Last time" not in text


def test_last_time_matches_the_email_whatever_its_case() -> None:
    text = compose_note(touchpoint(), alice(), last_with={"Carol@Example.com": PROMISE}).text
    assert PROMISE in text


@pytest.mark.parametrize("relationship", RELATIONSHIPS)
@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_every_note_has_two_to_four_lines_within_120_words(
    kind: Kind, stage: str, relationship: str
) -> None:
    tp = touchpoint(kind, with_=RELATIONSHIPS[relationship], title="Quarterly planning")
    everyone = dict.fromkeys((BOB, CAROL, DAN, ERIN), PROMISE)
    text = compose_note(tp, alice(stage=stage, goal=GOAL), last_with=everyone).text
    assert 2 <= len(lines(text)) <= 4
    assert words(text) <= 120
    assert all(line.strip() == line and line for line in lines(text))


@pytest.mark.parametrize("kind", ["meal", "coffee", "one_on_one", "project", "career"])
def test_the_person_is_named_in_subject_and_text(kind: Kind) -> None:
    result = note(touchpoint(kind, title="Catch-up"))
    assert "Carol" in result.subject
    assert "Carol" in lines(result.text)[0]


def test_the_subject_reads_like_a_short_heading() -> None:
    assert note(touchpoint("meal", title="Lunch")).subject == "Prep: lunch with Carol (Wed 12:00)"


def test_the_subject_shows_the_day_and_time_where_the_user_is() -> None:
    subject = note(touchpoint(), tz=ZoneInfo("America/New_York")).subject
    assert subject.endswith("(Wed 06:00)")


def test_an_all_day_touchpoint_shows_only_the_day() -> None:
    tp = touchpoint("career", with_=(BOB,), title="Mentoring day", start=at(5, 0).date())
    assert note(tp).subject == "Prep: career chat with Bob (Thu)"


def test_a_name_is_read_from_the_email_when_the_calendar_has_none() -> None:
    smith = "carol.smith@example.com"
    tp = touchpoint(with_=(smith,), attendees=(Attendee(ALICE), Attendee(smith)))
    result = note(tp)
    assert "Carol Smith" in result.subject
    assert "Coffee with Carol Smith" in result.text


def test_the_name_from_the_calendar_is_used_when_there_is_one() -> None:
    tp = touchpoint(attendees=(Attendee(ALICE), Attendee(CAROL, name="Carol Jones")))
    assert "Carol Jones" in note(tp).subject


def test_a_meal_note_follows_the_time_of_day() -> None:
    assert (
        "At breakfast with Carol" in note(touchpoint("meal", title="Catch-up", start=at(4, 8))).text
    )
    assert (
        "At dinner with Carol" in note(touchpoint("meal", title="Catch-up", start=at(4, 19))).text
    )


def test_a_hostile_title_cannot_add_lines_to_the_subject_or_the_note() -> None:
    hostile = "Sync\r\nBcc: victim@evil.example\r\n\r\n<script>alert(1)</script>\x00\u202e"
    result = note(touchpoint("project", with_=(CAROL, DAN), title=hostile))
    assert "\r" not in result.subject
    assert "\n" not in result.subject
    assert result.subject.startswith("Prep: Sync Bcc: victim@evil.example <script>")
    assert not any(line.startswith("Bcc") for line in lines(result.text))
    assert 2 <= len(lines(result.text)) <= 4


def test_a_hostile_name_cannot_add_lines_either() -> None:
    name = "Carol\nSubject: you won\u2028" + "x" * 300
    tp = touchpoint(attendees=(Attendee(ALICE), Attendee(CAROL, name=name)))
    result = note(tp)
    assert "\n" not in result.subject
    assert len(result.subject) < 120
    assert not any(line.startswith("Subject") for line in lines(result.text))


def test_an_overlong_goal_is_truncated_and_the_note_stays_within_120_words() -> None:
    goal = " ".join(["grow into a staff engineer who shapes the platform roadmap"] * 30)
    text = compose_note(
        touchpoint("career", with_=(BOB,)), alice(goal=goal), last_with={BOB: PROMISE * 5}
    ).text
    assert 'Your goal: "grow into a staff engineer' in text
    assert "…" in text
    assert words(text) <= 120
    assert len(lines(text)) <= 4


def test_a_note_with_every_field_at_its_longest_stays_within_120_words() -> None:
    many = " ".join("a" * 40)
    tp = touchpoint(
        "career",
        with_=(CAROL, DAN),
        title=many,
        attendees=(Attendee(ALICE), Attendee(CAROL, name=many), Attendee(DAN, name=many)),
    )
    text = compose_note(tp, alice(goal=many), last_with={CAROL: many}).text
    assert words(text) <= 120
    assert 2 <= len(lines(text)) <= 4


def test_a_touchpoint_without_anyone_named_still_gets_a_note() -> None:
    tp = touchpoint("project", with_=(), title="Design review")
    result = note(tp)
    assert result.subject == "Prep: Design review (Wed 12:00)"
    assert "ask one person for two minutes" in result.text


def test_the_user_is_never_the_person_to_talk_to() -> None:
    tp = touchpoint(with_=(ALICE.upper(), CAROL))
    assert "Alice" not in note(tp).text


def test_the_same_input_gives_the_same_note() -> None:
    tp = touchpoint("project", with_=(CAROL, DAN, ERIN), title="Sprint review")
    first = compose_note(tp, alice(goal=GOAL), last_with={DAN: PROMISE})
    again = compose_note(tp, alice(goal=GOAL), last_with={DAN: PROMISE})
    assert first == again


def test_every_prompt_of_the_bank_has_its_own_wording() -> None:
    facts = {
        "who": "Carol", "title": "Atlas review", "topic": "Atlas", "their_topic": "Atlas",
        "stage": "growth", "goal": "", "last_seen": "January", "gap_days": 14, "give": False,
        "take": False, "asked": 0, "offered": 0,
    }  # fmt: skip
    adds = {k for keys in prompts.ADD_BY_RELATION.values() for k in keys}
    adds |= {"back", "first", "months", "new_series", "topic_notes", "topic_hand"}
    asks = {k for stage in prompts.ASK_BY_STAGE.values() for ks in stage.values() for k in ks}
    asks |= {"topic_lead", "np_topic_needs", "goal_step", "career_ask"}
    add_lines = {
        _environment("en").get_template("notes/_add.txt").render({**facts, "add": k}).strip()
        for k in adds
    }
    ask_lines = {
        _environment("en").get_template("notes/_ask.txt").render({**facts, "ask": k}).strip()
        for k in asks
    }
    assert len(add_lines) == len(adds)
    assert len(ask_lines) == len(asks)
    assert all("\n" not in line and line for line in add_lines | ask_lines)
