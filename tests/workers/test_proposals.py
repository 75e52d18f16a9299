"""The proposal jobs on real Redis, RQ and SMTP: one email on a weekday morning, never twice."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from typing import Any

from rq import Queue
from sqlalchemy import func, select

from service.adapters.db import Database
from service.models import Connection, OutboxEmail, Proposal, User
from tests.factories import ALICE, BOB, at
from tests.smtp_server import SmtpServer
from tests.workers.jobs import work
from workers import proposals

QUEUES = ("proposals", "email")
MORNING = at(2, 8, 30)  # Monday 2 March, 08:30 in Berlin


def add_user(database: Database, *, connected: bool = True, **changes: Any) -> int:
    """Store alice in Berlin with an empty uploaded calendar: a career chat is due."""
    with database.unit() as session:
        user = User(email=ALICE, tz="Europe/Berlin", manager_email=BOB, **changes)
        session.add(user)
        session.flush()
        if connected:
            session.add(Connection(user_id=user.id, kind="ics_upload", label="work.ics"))
        return user.id


def proposal_count(database: Database) -> int:
    with database.unit() as session:
        return session.scalar(select(func.count(Proposal.id))) or 0


def emails(smtp_server: SmtpServer) -> list[EmailMessage]:
    return list(smtp_server.messages)


def test_a_due_user_gets_one_proposal_email_at_half_past_eight_even_when_dispatched_twice(
    database: Database, smtp_server: SmtpServer, queues: list[Queue]
) -> None:
    add_user(database)

    assert proposals.dispatch_at(MORNING) == 1
    assert proposals.dispatch_at(MORNING + timedelta(minutes=10)) == 0
    work(queues)
    proposals.dispatch_at(MORNING + timedelta(minutes=20))
    work(queues)

    [message] = emails(smtp_server)
    assert message["To"] == ALICE
    assert "Accept:" in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert proposal_count(database) == 1


def test_an_hourly_tick_running_a_little_late_still_catches_the_morning(
    database: Database, queues: list[Queue]
) -> None:
    add_user(database)

    assert proposals.dispatch_at(at(2, 9, 2)) == 1


def test_the_same_user_is_not_dispatched_at_two_in_the_afternoon(
    database: Database, smtp_server: SmtpServer, queues: list[Queue]
) -> None:
    add_user(database)

    assert proposals.dispatch_at(at(2, 14)) == 0
    work(queues)

    assert emails(smtp_server) == []
    assert proposal_count(database) == 0


def test_nobody_is_dispatched_on_a_day_off(database: Database, queues: list[Queue]) -> None:
    add_user(database)

    assert proposals.dispatch_at(at(7, 8, 30)) == 0  # a Saturday


def test_working_days_follow_the_users_settings(database: Database, queues: list[Queue]) -> None:
    add_user(database, work_days="6,0,1,2,3")  # Sunday to Thursday

    assert proposals.dispatch_at(at(8, 8, 30)) == 1  # a Sunday


def test_a_paused_user_gets_no_proposal(
    database: Database, smtp_server: SmtpServer, queues: list[Queue]
) -> None:
    add_user(database, paused_until=MORNING + timedelta(days=3))

    assert proposals.dispatch_at(MORNING) == 0
    work(queues)

    assert emails(smtp_server) == []


def test_a_user_without_a_working_calendar_is_not_dispatched(
    database: Database, queues: list[Queue]
) -> None:
    add_user(database, connected=False)

    assert proposals.dispatch_at(MORNING) == 0


def test_a_user_who_wants_no_proposals_is_not_dispatched(
    database: Database, queues: list[Queue]
) -> None:
    add_user(database, weekly_nudges=0)

    assert proposals.dispatch_at(MORNING) == 0


def test_the_job_says_why_nothing_was_proposed_when_one_is_open(
    database: Database, smtp_server: SmtpServer, queues: list[Queue]
) -> None:
    user_id = add_user(database)

    assert proposals.propose_for_user(user_id) == "sent"
    assert proposals.propose_for_user(user_id) == "already_open"
    work(queues)

    assert len(emails(smtp_server)) == 1


def test_a_deleted_user_ends_the_job_quietly(database: Database) -> None:
    assert proposals.propose_for_user(404) == "gone"


def test_three_ignored_proposals_pause_the_user_and_say_so_once(
    database: Database, smtp_server: SmtpServer, queues: list[Queue]
) -> None:
    user_id = add_user(database)
    with database.unit() as session:
        for days in (20, 13, 6):
            made = MORNING - timedelta(days=days)
            session.add(
                Proposal(user_id=user_id, created_at=made, expires_at=made + timedelta(days=5))
            )

    assert proposals.dispatch_at(MORNING) == 0  # paused before its morning run
    proposals.dispatch_at(MORNING + timedelta(hours=1))
    work(queues)

    [message] = emails(smtp_server)
    assert message["Subject"].startswith("We paused proposals after 3 went unanswered")
    with database.unit() as session:
        assert session.get_one(User, user_id).paused_until == MORNING + timedelta(days=30)
        kinds = session.scalars(select(OutboxEmail.kind)).all()
        assert kinds == ["paused"]
