"""The person model: who each address is to alice, what the calendar says about meeting them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from service.engine.classify import classify
from service.engine.model import Attendee, Occurrence, Touchpoint, Window
from service.engine.notes import compose_note
from service.engine.plan import plan
from service.engine.relations import Ledger, is_person_address, people_of, topic_of
from tests.factories import ALICE, BOB, CAROL, DAN, ERIN, NOW, alice, at, meeting

GRACE = "grace@example.com"


@pytest.mark.parametrize(
    "address",
    [
        "j68lhv614hbv3u4ttbrs6glhpg@group.calendar.google.com",
        "c_1883ab5tq2@resource.calendar.google.com",
        "en.german#holiday@group.v.calendar.google.com".replace("group.v.", "import."),
        "atlas-team@googlegroups.com",
        "no-reply@example.com",
        "noreply@example.com",
        "do-not-reply@example.com",
        "calendar-notification@example.com".replace("-notification", ""),
        "room-3@example.com",
        "eng-all@example.com",
        "everyone@example.com",
        "dev@lists.example.com",
    ],
)
def test_groups_rooms_lists_and_no_reply_addresses_are_not_people(address: str) -> None:
    assert not is_person_address(address)


@pytest.mark.parametrize("cutype", ["ROOM", "RESOURCE", "GROUP"])
def test_a_calendar_user_type_other_than_a_person_is_not_a_person(cutype: str) -> None:
    assert not is_person_address("board@example.com", cutype)
    assert is_person_address("board@example.com", "INDIVIDUAL")


@pytest.mark.parametrize("address", [CAROL, "mary-jane.o-neil@example.com", "roomba@x.org"])
def test_people_are_people(address: str) -> None:
    assert is_person_address(address)


@pytest.mark.parametrize(
    ("title", "topic"),
    [
        ("Atlas design review", "Atlas"),
        ("Sprint retro \u2013 Atlas", "Atlas"),
        ("Lunch w/ Carol", ""),
        ("Virtual coffee with Erin (Partner Org)", ""),
        ("Weekly sync", ""),
        ("Q3 planning: Helios", "Q3 Helios"),
    ],
)
def test_the_topic_is_what_the_title_names_beyond_the_kind_of_meeting(
    title: str, topic: str
) -> None:
    assert topic_of(title, ["Carol", "Erin"]) == topic


def judged(*occurrences: Occurrence) -> list[tuple[Occurrence, object]]:
    return [(o, classify(o, alice())) for o in occurrences]


def test_relationships_come_from_the_calendar() -> None:
    review = meeting("Atlas review", at(2, 10), with_=(CAROL, DAN), uid="r", recurring=True)
    coffee = meeting("Coffee", at(3, 10), with_=(GRACE,))
    mentoring = meeting("Mentoring", at(3, 15), with_=("hana@example.com",))
    skip = meeting("Skip level", at(4, 9), with_=("zoe@example.com",))
    outside = meeting("Coffee", at(4, 15), with_=(ERIN,))
    one_on_one = meeting("1:1", at(5, 10), with_=(BOB,))
    found = people_of(judged(review, coffee, mentoring, skip, outside, one_on_one), alice())  # type: ignore[arg-type]
    relations = {e: p.relation for e, p in found.by_email.items()}
    assert relations == {
        CAROL: "peer",
        DAN: "peer",
        GRACE: "cross_team",
        "hana@example.com": "mentor",
        "zoe@example.com": "skip_level",
        ERIN: "external",
        BOB: "manager",
    }
    assert found.name(CAROL) == "Carol"
    assert found.get(CAROL).topics == ("Atlas",)  # type: ignore[union-attr]


def test_a_name_comes_from_the_calendar_or_the_address() -> None:
    occ = meeting(
        "Coffee",
        at(3, 10),
        with_=(),
        attendees=(Attendee(ALICE), Attendee("mary.jones@example.com", name="Mary J.")),
    )
    found = people_of(judged(occ), alice())  # type: ignore[arg-type]
    assert found.name("mary.jones@example.com") == "Mary J."
    assert found.name("tom.smith@example.com") == "Tom Smith"


def weekly(title: str, who: str, weeks: range, hour: int = 10) -> list[Occurrence]:
    return [
        meeting(
            title,
            NOW.replace(hour=hour) + timedelta(weeks=n),
            with_=(who,),
            uid=f"{title}@t",
            recurring=True,
        )
        for n in weeks
    ]


def notes_of(occurrences: list[Occurrence], **profile: object) -> list[Touchpoint]:
    window = Window(NOW, NOW + timedelta(days=28))
    result = plan(occurrences, alice(**profile), window)
    return [tp for tp in result.touchpoints if tp.note is not None]


def test_someone_back_after_weeks_apart_gets_a_catch_up() -> None:
    # Weekly with Dan for two months, two weeks skipped, then again next week.
    occurrences = weekly("Dan / Alice", DAN, range(-8, -2)) + weekly(
        "Dan / Alice", DAN, range(0, 1)
    )
    (first,) = [tp for tp in notes_of(occurrences) if tp.occurrence.title == "Dan / Alice"][:1]
    assert first.note is not None
    assert "Dan is back after three weeks apart" in first.note.text


def test_someone_not_seen_for_months_gets_news() -> None:
    old = meeting("Coffee", NOW - timedelta(days=75), with_=(CAROL,))
    again = meeting("Coffee", at(4, 15), with_=(CAROL,))
    (tp,) = notes_of([old, again])
    assert tp.note is not None
    assert "You have not met Carol since December" in tp.note.text


def test_a_first_meeting_is_named_as_such() -> None:
    (tp,) = notes_of([meeting("Coffee", at(4, 15), with_=(ERIN,))])
    assert tp.note is not None
    assert "Your first meeting with Erin" in tp.note.text


def test_a_new_series_offers_a_shared_list_of_open_points() -> None:
    earlier = meeting("Lunch", NOW - timedelta(days=3), with_=(CAROL,))
    notes = notes_of([*weekly("Helios sync", CAROL, range(0, 3)), earlier])
    assert notes[0].note is not None
    assert "This series is new" in notes[0].note.text


def test_the_ledger_asks_to_give_first_when_the_user_took_more() -> None:
    tp = Touchpoint(meeting("Coffee", at(4, 15), with_=(CAROL,)), "coffee", 0.8, (), (CAROL,))
    occurrences = [(tp.occurrence, classify(tp.occurrence, alice()))]
    taker = people_of(occurrences, alice(), ledgers={CAROL: Ledger(offered=0, asked=3)})  # type: ignore[arg-type]
    giver = people_of(occurrences, alice(), ledgers={CAROL: Ledger(offered=3, asked=0)})  # type: ignore[arg-type]
    asked = compose_note(tp, alice(), people=taker).text
    offered = compose_note(tp, alice(), people=giver).text
    assert (
        "Give before you ask: you asked Carol for something 3 times and offered nothing yet."
        in asked
    )
    assert "You have offered Carol a lot lately: it is fair to ask." in offered


def test_a_weekly_one_on_one_never_repeats_a_prompt_in_a_month() -> None:
    notes = notes_of(weekly("Bob / Alice 1:1", BOB, range(-4, 8)), goal="lead the team")
    assert len(notes) == 4
    keys = [k for tp in notes if tp.note for k in tp.note.prompts]
    assert len(keys) == len(set(keys))
    assert len({tp.note.text for tp in notes if tp.note}) == 4
