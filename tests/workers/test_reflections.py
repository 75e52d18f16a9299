"""The reflection jobs on real Redis, RQ and SMTP: one email per chat, whatever runs twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from rq import Queue

from service.adapters.db import Database
from service.models import Connection, User
from tests.factories import ALICE, accepted_chat
from tests.smtp_server import SmtpServer
from tests.workers.jobs import work
from workers import reflections

QUEUES = ("proposals", "email")


def chat_with_carol(database: Database, hours_ago: float, **changes: Any) -> int:
    """Store alice with a chat with Carol she accepted, hours_ago hours before now."""
    start = datetime.now(UTC) - timedelta(hours=hours_ago)
    with database.unit() as session:
        user = User(email=ALICE, tz="Europe/Berlin", **changes)
        session.add(user)
        session.flush()
        session.add(Connection(user_id=user.id, kind="ics_upload", label="work.ics"))
        session.add(accepted_chat(user.id, start))
        return user.id


def test_a_chat_yesterday_brings_one_reflection_email_even_when_dispatched_twice(
    database: Database, smtp_server: SmtpServer, queues: list[Queue]
) -> None:
    chat_with_carol(database, hours_ago=24)

    assert reflections.dispatch_reflections() == 1
    assert reflections.dispatch_reflections() == 0  # the first job is still waiting
    work(queues)
    assert reflections.dispatch_reflections() == 0  # nothing left to ask about
    work(queues)

    [message] = smtp_server.messages
    assert (message["To"], message["Subject"]) == (ALICE, "One minute on your chat with Carol")


def test_the_job_run_twice_sends_one_email(
    database: Database, smtp_server: SmtpServer, queues: list[Queue]
) -> None:
    user_id = chat_with_carol(database, hours_ago=2)

    assert reflections.reflect_for_user(user_id) == 1
    assert reflections.reflect_for_user(user_id) == 0
    work(queues)

    assert len(smtp_server.messages) == 1


def test_a_chat_still_going_on_is_not_dispatched(
    database: Database, smtp_server: SmtpServer, queues: list[Queue]
) -> None:
    chat_with_carol(database, hours_ago=0.1)

    assert reflections.dispatch_reflections() == 0


def test_a_paused_user_gets_no_reflection_email(
    database: Database, smtp_server: SmtpServer, queues: list[Queue]
) -> None:
    chat_with_carol(database, hours_ago=24, paused_until=datetime.now(UTC) + timedelta(days=3))

    assert reflections.dispatch_reflections() == 0
    work(queues)

    assert smtp_server.messages == []


def test_a_deleted_user_ends_the_job_quietly(database: Database) -> None:
    assert reflections.reflect_for_user(404) == 0
