"""Prep notes: planned at the lead time, moved with the meeting, cancelled with it, sent once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import select

from service.adapters.db import Database
from service.adapters.mail import send_now
from service.config import Settings
from service.engine.model import Occurrence
from service.models import Mark, OutboxEmail, PlannedNote, Reflection, User
from service.notes.plan import PlanChange, send_due_notes
from tests.factories import (
    ALICE,
    CAROL,
    DAN,
    NOW,
    add_user,
    at,
    lunch_with_carol,
    meeting,
    plan,
    resync,
)
from tests.smtp_server import SmtpServer

# Tuesday 3 March, 12:00 in Berlin: tomorrow from NOW (Monday 08:00).
LUNCH = lunch_with_carol(at(3, 12))
COFFEE = meeting("Coffee with Dan", at(3, 15), 30, with_=(DAN,), uid="coffee-dan@test")


@pytest.fixture
def settings(settings: Settings, smtp_server: SmtpServer) -> Settings:
    return settings.with_changes(smtp=smtp_server.settings)


def send(database: Database, settings: Settings, user_id: int, now: datetime) -> list[int]:
    with database.unit() as session:
        return send_due_notes(session, settings, session.get_one(User, user_id), now)


def notes(database: Database) -> list[PlannedNote]:
    with database.unit() as session:
        return list(session.scalars(select(PlannedNote).order_by(PlannedNote.start)))


def delivered(database: Database, settings: Settings, smtp: SmtpServer, ids: list[int]) -> Any:
    for outbox_id in ids:
        assert send_now(database, settings, outbox_id) == "sent"
    return smtp.wait_for(len(ids))


def body(message: EmailMessage, subtype: str = "plain") -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def test_a_lunch_tomorrow_gets_a_note_due_an_hour_before(
    database: Database, settings: Settings
) -> None:
    user_id = add_user(database, [LUNCH])

    assert plan(database, settings, user_id) == PlanChange(created=1)

    (note,) = notes(database)
    assert (note.status, note.kind, note.due_at) == ("planned", "meal", at(3, 11))
    assert note.subject == "Prep: lunch with Carol (Tue 12:00)"
    assert "Carol" in note.text


def test_planning_again_changes_nothing(database: Database, settings: Settings) -> None:
    user_id = add_user(database, [LUNCH])
    plan(database, settings, user_id)

    assert plan(database, settings, user_id, NOW + timedelta(minutes=5)) == PlanChange(unchanged=1)
    assert len(notes(database)) == 1


def test_a_moved_lunch_moves_its_note(database: Database, settings: Settings) -> None:
    user_id = add_user(database, [LUNCH])
    plan(database, settings, user_id)

    resync(database, user_id, [meeting("Lunch with Carol", at(5, 13), 60, with_=(CAROL,),
                                       uid="lunch-carol@test")])  # fmt: skip

    assert plan(database, settings, user_id) == PlanChange(moved=1)
    (note,) = notes(database)
    assert (note.start, note.due_at, note.status) == (at(5, 13), at(5, 12), "planned")
    assert note.subject == "Prep: lunch with Carol (Thu 13:00)"


def test_a_moved_instance_of_a_weekly_lunch_keeps_the_other_weeks(
    database: Database, settings: Settings
) -> None:
    def weekly(start: datetime) -> Occurrence:
        return meeting("Lunch with Carol", start, 60, with_=(CAROL,), uid="weekly@test",
                       recurring=True)  # fmt: skip

    user_id = add_user(database, [weekly(at(3, 12)), weekly(at(10, 12))])
    plan(database, settings, user_id)
    first, second = (note.id for note in notes(database))

    resync(database, user_id, [weekly(at(4, 12, 30)), weekly(at(10, 12))])

    assert plan(database, settings, user_id) == PlanChange(moved=1, unchanged=1)
    moved, kept = notes(database)
    assert (moved.id, moved.due_at) == (first, at(4, 11, 30))
    assert (kept.id, kept.due_at) == (second, at(10, 11))


def test_a_cancelled_lunch_cancels_its_note(database: Database, settings: Settings) -> None:
    user_id = add_user(database, [LUNCH])
    plan(database, settings, user_id)

    resync(database, user_id, [])

    assert plan(database, settings, user_id) == PlanChange(cancelled=1)
    assert [note.status for note in notes(database)] == ["cancelled"]
    assert send(database, settings, user_id, at(3, 11)) == []


def test_marking_it_not_a_touchpoint_cancels_the_note_and_undoing_brings_it_back(
    database: Database, settings: Settings
) -> None:
    user_id = add_user(database, [LUNCH])
    plan(database, settings, user_id)

    with database.unit() as session:
        session.add(Mark(user_id=user_id, uid=LUNCH.uid, kind=None))
    assert plan(database, settings, user_id) == PlanChange(cancelled=1)

    with database.unit() as session:
        session.delete(session.scalars(select(Mark)).one())
    assert plan(database, settings, user_id) == PlanChange(created=1)
    assert [note.status for note in notes(database)] == ["planned"]


def test_a_note_planned_after_its_lead_time_is_due_at_once(
    database: Database, settings: Settings
) -> None:
    user_id = add_user(database, [LUNCH])
    late = at(3, 11, 40)

    plan(database, settings, user_id, late)

    assert notes(database)[0].due_at == late


def test_a_due_note_is_emailed_once_with_unsubscribe_and_snooze_links(
    database: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    user_id = add_user(database, [LUNCH])
    plan(database, settings, user_id)

    assert send(database, settings, user_id, at(3, 10, 59)) == []
    queued = send(database, settings, user_id, at(3, 11))
    assert send(database, settings, user_id, at(3, 11, 1)) == []

    (message,) = delivered(database, settings, smtp_server, queued)
    assert message["Subject"] == "Prep: lunch with Carol (Tue 12:00)"
    assert message["List-Unsubscribe"].startswith("<http://localhost/notes/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "http://localhost/notes/snooze/" in body(message)
    assert [note.status for note in notes(database)] == ["sent"]


@pytest.mark.parametrize(
    "changes",
    [{"email_notes": False}, {"paused_until": datetime(2026, 3, 9, tzinfo=UTC)}],
    ids=["notes off", "paused"],
)
def test_nothing_is_sent_with_notes_off_or_paused(
    database: Database, settings: Settings, changes: dict[str, Any]
) -> None:
    user_id = add_user(database, [LUNCH], **changes)
    plan(database, settings, user_id)

    assert send(database, settings, user_id, at(3, 11)) == []
    assert [note.status for note in notes(database)] == ["planned"]


def test_the_morning_digest_lists_the_days_notes_once_at_eight(
    database: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    user_id = add_user(database, [LUNCH, COFFEE], digest=True)
    plan(database, settings, user_id)
    assert {note.due_at for note in notes(database)} == {at(3, 8)}

    assert send(database, settings, user_id, at(3, 7, 59)) == []
    queued = send(database, settings, user_id, at(3, 8))
    assert send(database, settings, user_id, at(3, 8, 1)) == []
    assert send(database, settings, user_id, at(3, 11)) == []

    (message,) = delivered(database, settings, smtp_server, queued)
    assert message["Subject"] == "Prep for today, Tue 3 Mar: 2 touchpoints"
    text = body(message)
    assert text.index("Lunch with Carol") < text.index("Coffee with Dan")
    assert "keep it light" in text
    with database.unit() as session:
        assert session.get_one(User, user_id).digest_sent_on == at(3, 8).date()


def test_a_touchpoint_added_after_the_digest_gets_its_own_note(
    database: Database, settings: Settings
) -> None:
    user_id = add_user(database, [LUNCH], digest=True)
    plan(database, settings, user_id)
    send(database, settings, user_id, at(3, 8))

    resync(database, user_id, [LUNCH, COFFEE])
    plan(database, settings, user_id, at(3, 9))

    assert [n.due_at for n in notes(database) if n.status == "planned"] == [at(3, 14)]
    assert len(send(database, settings, user_id, at(3, 14))) == 1


def test_the_last_reflection_with_carol_is_in_the_next_note_with_carol(
    database: Database, settings: Settings
) -> None:
    user_id = add_user(database, [LUNCH])
    with database.unit() as session:
        older = {"learned": "nothing much", "created_at": NOW - timedelta(days=30)}
        session.add(Reflection(user_id=user_id, person=CAROL, **older))
        latest = {"learned": "how the platform team hires", "created_at": NOW - timedelta(days=2)}
        session.add(Reflection(user_id=user_id, person=CAROL, **latest))

    plan(database, settings, user_id)

    (note,) = notes(database)
    assert note.text.startswith("Last time with Carol, you learned: how the platform team hires.")
    assert "nothing much" not in note.text


def test_a_hostile_title_stays_harmless_in_the_email(
    database: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    title = 'Lunch <script>alert("x")</script>\r\nBcc: victim@example.org'
    user_id = add_user(database, [meeting(title, at(3, 12), 60, with_=(CAROL,))])
    plan(database, settings, user_id)

    (message,) = delivered(
        database, settings, smtp_server, send(database, settings, user_id, at(3, 11))
    )

    assert message["Bcc"] is None
    assert smtp_server.recipients == [[ALICE]]
    assert "<script>" not in body(message, "html")
    assert "&lt;script&gt;" in body(message, "html")
    with database.unit() as session:
        assert "\n" not in session.scalars(select(OutboxEmail.subject)).one()
