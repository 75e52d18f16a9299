"""Issue 11 in the service: one note a week per series, prompts remembered between plans, a
booked chat ends "due", and the partner's invite speaks to the partner."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from service.adapters.db import Database
from service.adapters.secrets import SecretBox
from service.config import Settings
from service.engine.series import week_of
from service.models import OutboxEmail, PlannedNote, User
from service.notes.plan import send_due_notes
from service.proposals import propose as proposing
from service.sources.calendar import plan_for_user
from tests.factories import (
    ALICE,
    BERLIN,
    CAROL,
    DAN,
    NOW,
    accepted_chat,
    add_accepted_proposal,
    add_user,
    at,
    book_proposal,
    lunch_with_carol,
    meeting,
    plan,
)

FRANK = "frank@example.com"


def standups(days: int = 14) -> list[Any]:
    """A daily stand-up (one uid, recurring) on the working days from NOW."""
    found = []
    for n in range(days):
        day = at(2, 9, 30) + timedelta(days=n)
        if day.weekday() < 5:
            found.append(
                meeting(
                    "Atlas stand-up",
                    day,
                    15,
                    with_=(CAROL, DAN, FRANK),
                    uid="standup@test",
                    recurring=True,
                )
            )
    return found


def rows(database: Database) -> list[PlannedNote]:
    with database.unit() as session:
        return list(session.scalars(select(PlannedNote).order_by(PlannedNote.start)))


def test_a_daily_stand_up_gets_one_planned_note_a_week(
    database: Database, settings: Settings
) -> None:
    user_id = add_user(database, standups())

    plan(database, settings, user_id)

    planned = rows(database)
    weeks = [week_of(r.start, BERLIN) for r in planned]
    assert len(planned) == 2  # two weeks, ten stand-ups
    assert len(set(weeks)) == 2
    assert all("Atlas" in r.text for r in planned)
    assert {r.person for r in planned} <= {CAROL, DAN, FRANK}
    assert all(r.prompts for r in planned)


def test_a_sent_note_s_prompts_are_not_used_again_for_that_person(
    database: Database, settings: Settings
) -> None:
    lunches = [lunch_with_carol(at(3, 12))] + [
        meeting("Lunch with Carol", at(3 + 7 * n, 12), 60, with_=(CAROL,), uid=f"lunch-{n}@test")
        for n in (1, 2)
    ]
    user_id = add_user(database, lunches)
    plan(database, settings, user_id)
    with database.unit() as session:
        user = session.get_one(User, user_id)
        sent = send_due_notes(session, settings, user, at(3, 11, 30))
    assert sent
    first = rows(database)[0]
    assert first.status == "sent"

    # A week later the first lunch is past: the next notes still avoid its prompts.
    plan(database, settings, user_id, now=at(5, 8))
    later = [r for r in rows(database) if r.start > at(5, 8)]
    assert later
    for row in later:
        assert set(row.prompts.split(",")).isdisjoint(first.prompts.split(",")), row.text
        assert row.text != first.text


def test_a_chat_accepted_ahead_stops_due_and_its_partner_is_not_proposed_again(
    database: Database, settings: Settings
) -> None:
    user_id = add_user(database, [lunch_with_carol(at(4, 12))])
    with database.unit() as session:
        before = plan_for_user(session, session.get_one(User, user_id), NOW)
    assert before.cadence.due
    chosen = before.proposals[0]
    assert chosen.partner == CAROL

    with database.unit() as session:
        made = NOW - timedelta(days=10)  # last week's proposal, answered today
        session.add(accepted_chat(user_id, chosen.start, booked_at=NOW, created_at=made))
    with database.unit() as session:
        user = session.get_one(User, user_id)
        after = plan_for_user(session, user, NOW)
        attempt = proposing.attempt(session, settings, user, NOW)
    assert not after.cadence.due
    assert after.cadence.booked_ahead == chosen.start
    assert after.proposals == ()
    assert attempt.reason == proposing.NOT_DUE


def test_the_partner_s_invite_says_what_it_is_about_and_never_the_requester_s_prep(
    database: Database, settings: Settings, box: SecretBox
) -> None:
    proposal_id = add_accepted_proposal(database, topic="Atlas")
    book_proposal(database, settings, box, proposal_id)

    with database.unit() as session:
        emails = session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "invite")).all()
        by_to = {e.to: e for e in emails}
        theirs, mine = by_to[CAROL], by_to[ALICE]
        partner_text = theirs.text + theirs.html + theirs.calendar
        my_text = mine.text + mine.calendar
    assert "A 15-minute career chat" in theirs.text
    assert "A 15-minute career chat" in theirs.html
    assert "from your work together on Atlas" in partner_text
    assert "insight I would like" not in partner_text
    assert "add value" not in partner_text
    assert "Why now" not in partner_text
    assert "insight I would like" in my_text
