"""The one-minute reflection: asked once after a chat, kept in the log, read by the next note."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import select

from service.adapters.db import Database
from service.adapters.mail import send_now
from service.config import Settings
from service.models import Proposal, Reflection, User
from service.reflections.ask import (
    Reply,
    due_reflections,
    last_with,
    queue_reflections,
    save_reflection,
)
from service.sources.calendar import plan_for_user
from tests.factories import ALICE, CAROL, DAN, NOW, add_user, at, meeting
from tests.smtp_server import SmtpServer

TUESDAY = at(3, 12)  # noon, the day after NOW
CHAT = at(2, 13, 5)  # Monday's booked chat with Carol
MENTORING = meeting("Mentoring with Dan", at(3, 10), with_=(DAN,))
LUNCH = meeting("Lunch with Carol", at(4, 12), 60, with_=(CAROL,))  # Wednesday


@pytest.fixture
def settings(settings: Settings, smtp_server: SmtpServer) -> Settings:
    return settings.with_changes(smtp=smtp_server.settings)


def book(database: Database, user_id: int, start: datetime = CHAT) -> int:
    """Store a proposal the user accepted for this time with Carol."""
    slot = [start.isoformat(), (start + timedelta(minutes=15)).isoformat()]
    with database.unit() as session:
        proposal = Proposal(
            user_id=user_id,
            partner=CAROL,
            slots=[slot],
            status="accepted",
            chosen_start=start,
            created_at=start - timedelta(days=2),
            expires_at=start,
        )
        session.add(proposal)
        session.flush()
        return proposal.id


def reflect(database: Database, settings: Settings, user_id: int, now: datetime) -> list[int]:
    """Queue the reflection emails due as the job does; return their outbox ids."""
    with database.unit() as session:
        user = session.get_one(User, user_id)
        return [email.id for email in queue_reflections(session, settings, user, now)]


def emailed(database: Database, settings: Settings, smtp: SmtpServer, outbox_id: int) -> Any:
    assert send_now(database, settings, outbox_id) == "sent"
    return smtp.wait_for(1)[-1]


def text_of(message: EmailMessage, kind: str = "plain") -> str:
    return message.get_body((kind,)).get_content()  # type: ignore[union-attr]


def test_a_chat_booked_yesterday_brings_one_reflection_email_with_a_reply_link(
    database: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    user_id = add_user(database)
    book(database, user_id)

    [outbox_id] = reflect(database, settings, user_id, TUESDAY)
    assert reflect(database, settings, user_id, TUESDAY) == []
    message = emailed(database, settings, smtp_server, outbox_id)

    assert message["Subject"] == "One minute on your chat with Carol"
    assert message["List-Unsubscribe"].startswith("<http://localhost/unsubscribe/")
    text = text_of(message)
    for question in ("What did you learn?", "What will you follow up on?", "What did you offer"):
        assert question in text
    assert re.search(r"Answer here: http://localhost/reflect/\S+", text)
    assert "Mon 2 Mar 13:05" in text


def test_a_chat_not_over_yet_is_not_asked_about(database: Database, settings: Settings) -> None:
    user_id = add_user(database)
    book(database, user_id)

    assert reflect(database, settings, user_id, CHAT + timedelta(minutes=10)) == []
    assert len(reflect(database, settings, user_id, CHAT + timedelta(minutes=16))) == 1


def test_a_career_conversation_on_the_calendar_is_asked_about_once_it_ended(
    database: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    user_id = add_user(database, (MENTORING,))

    assert reflect(database, settings, user_id, at(3, 10, 15)) == []
    [outbox_id] = reflect(database, settings, user_id, TUESDAY)
    message = emailed(database, settings, smtp_server, outbox_id)

    assert message["Subject"] == "One minute on your conversation with Dan"
    assert '"Mentoring with Dan" (Tue 3 Mar 10:00)' in text_of(message)


def test_a_conversation_ended_more_than_a_day_ago_is_let_go(
    database: Database, settings: Settings
) -> None:
    user_id = add_user(database, (MENTORING,))

    assert reflect(database, settings, user_id, at(4, 11)) == []


def test_a_booked_chat_synced_back_from_the_calendar_is_asked_about_once(
    database: Database, settings: Settings
) -> None:
    synced = meeting("Career chat: Alice and Carol", CHAT, 15, with_=(CAROL,))
    user_id = add_user(database, (synced,))
    proposal_id = book(database, user_id)

    with database.unit() as session:
        due = due_reflections(session, session.get_one(User, user_id), TUESDAY)
    assert [chat.source for chat in due] == [f"proposal:{proposal_id}"]
    assert len(reflect(database, settings, user_id, TUESDAY)) == 1


@pytest.mark.parametrize(
    "changes", [{"paused_until": TUESDAY + timedelta(days=3)}, {"weekly_nudges": 0}]
)
def test_a_paused_or_unsubscribed_user_is_not_asked(
    database: Database, settings: Settings, changes: dict[str, Any]
) -> None:
    user_id = add_user(database, **changes)
    book(database, user_id)

    assert reflect(database, settings, user_id, TUESDAY) == []


def test_two_people_at_one_conversation_each_get_their_own_email(
    database: Database, settings: Settings
) -> None:
    alice_id = add_user(database, (MENTORING,))
    dans_view = meeting("Mentoring with Alice", at(3, 10), with_=(ALICE,), uid=MENTORING.uid)
    dan_id = add_user(database, (dans_view,), email=DAN)

    assert len(reflect(database, settings, alice_id, TUESDAY)) == 1
    assert len(reflect(database, settings, dan_id, TUESDAY)) == 1


def test_a_hostile_title_cannot_add_headers_or_markup(
    database: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    title = "Mentoring <script>alert(1)</script>\r\nBcc: mallory@evil.example"
    hostile = meeting(title, at(3, 10), with_=(DAN,))
    user_id = add_user(database, (hostile,))

    [outbox_id] = reflect(database, settings, user_id, TUESDAY)
    message = emailed(database, settings, smtp_server, outbox_id)

    assert message["Bcc"] is None
    assert smtp_server.recipients == [[ALICE]]
    html = text_of(message, "html")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# The answer, and what the next prep note makes of it -----------------------------------------


def answer(database: Database, user_id: int, source: str, **answers: str) -> int:
    with database.unit() as session:
        reply = Reply(session.get_one(User, user_id), source, CAROL)
        entry = save_reflection(session, reply, {"person": CAROL, **answers}, TUESDAY)
        return entry.id


def test_answering_twice_edits_one_entry_of_the_log(database: Database) -> None:
    user_id = add_user(database)
    first = answer(database, user_id, "proposal:1", learned="Platform team is hiring")
    second = answer(database, user_id, "proposal:1", learned="Platform team hires in May")

    assert first == second
    with database.unit() as session:
        entry = session.scalars(select(Reflection)).one()
        assert (entry.source, entry.learned) == ("proposal:1", "Platform team hires in May")


def test_the_next_prep_note_for_that_person_recalls_the_follow_up(database: Database) -> None:
    user_id = add_user(database, (LUNCH,))
    answer(
        database,
        user_id,
        "proposal:1",
        learned="Platform team hires in May",
        follow_up="Send Carol the design doc.",
    )

    with database.unit() as session:
        known = last_with(session, user_id)
        plan = plan_for_user(session, session.get_one(User, user_id), NOW, last_with=known)

    assert known == {
        CAROL: "you meant to follow up on: Send Carol the design doc; "
        "you learned: Platform team hires in May"
    }
    [lunch] = [tp for tp in plan.touchpoints if tp.occurrence.uid == LUNCH.uid]
    assert lunch.note is not None
    lead = "Last time with Carol, you meant to follow up on: Send Carol the design doc"
    assert lunch.note.text.startswith(lead)


def test_only_the_latest_reflection_with_a_person_is_recalled(database: Database) -> None:
    user_id = add_user(database)
    answer(database, user_id, "proposal:1", offered="An intro to Bob")
    answer(database, user_id, "proposal:2", offered="A review of her talk")

    with database.unit() as session:
        assert last_with(session, user_id) == {CAROL: "you offered: A review of her talk"}
