"""The notes jobs on real Redis, SMTP and the fake Google: each note sent once, whatever runs twice.

The jobs read the clock, so the meetings here are placed relative to it, and marked by hand as
touchpoints so the engine's mealtime rules cannot depend on when the test runs.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rq import Queue, SimpleWorker
from rq.job import Job, JobStatus
from sqlalchemy import select

from service.adapters.db import Database
from service.adapters.google import APP_CALENDARS, CALENDAR_SCOPES, SIGN_IN_SCOPES
from service.adapters.redis import connect
from service.adapters.secrets import SecretBox
from service.config import Settings
from service.models import Connection, Mark, PlannedNote, User
from service.sources.calendar import store_occurrences, sync_span
from service.sources.google import save_connection
from tests.factories import ALICE, BOB, CAROL, meeting
from tests.google_server import FakeGoogle
from tests.smtp_server import SmtpServer
from workers import runtime
from workers.notes import dispatch_notes, enqueue_plan

SCOPES = {*SIGN_IN_SCOPES, *CALENDAR_SCOPES, APP_CALENDARS}
EVENT_WRITES = r"^/calendar/v3/calendars/[^/]+/events$"


@pytest.fixture
def settings(settings: Settings, smtp_server: SmtpServer, google_server: FakeGoogle) -> Settings:
    return settings.with_changes(smtp=smtp_server.settings, google=google_server.google_settings())


@pytest.fixture(autouse=True)
def worker_settings(settings: Settings) -> Iterator[None]:
    """Jobs in this process use the test's settings, not the environment."""
    runtime.use(settings)
    yield
    runtime.reset()


@pytest.fixture
def queues(settings: Settings) -> list[Queue]:
    connection = connect(settings.redis_url)
    return [Queue(name, connection=connection) for name in ("notes", "email")]


def work(queues: list[Queue], *, scheduler: bool = False) -> None:
    """Run every queued job (notes, then the emails they hand over), then stop."""
    worker = SimpleWorker(queues, connection=queues[0].connection)
    worker.work(burst=True, with_scheduler=scheduler)


def lunch(start: datetime) -> Any:
    return meeting("Lunch with Carol", start, 60, with_=(CAROL,), uid="lunch-carol@test")


def add_user(
    database: Database, email: str, meetings: list[Any], *, google: str = "", **changes: Any
) -> int:
    """Store a user (Berlin) whose calendar holds these meetings, each marked as a meal."""
    now = datetime.now(UTC)
    with database.unit() as session:
        user = User(email=email, tz="Europe/Berlin", manager_email=BOB, **changes)
        session.add(user)
        session.flush()
        if google:
            box = SecretBox(runtime.current().settings.encryption_keys)
            connection = save_connection(session, box, user, email, google, SCOPES)
        else:
            connection = Connection(user_id=user.id, kind="ics_upload", label="work.ics")
            session.add(connection)
            session.flush()
        store_occurrences(session, connection, meetings, *sync_span(now))
        session.add_all(Mark(user_id=user.id, uid=m.uid, kind="meal") for m in meetings)
        return user.id


def resync(database: Database, user_id: int, meetings: list[Any]) -> None:
    with database.unit() as session:
        connection = session.scalars(select(Connection).where(Connection.user_id == user_id)).one()
        store_occurrences(session, connection, meetings, *sync_span(datetime.now(UTC)))


def statuses(database: Database) -> list[str]:
    with database.unit() as session:
        return list(session.scalars(select(PlannedNote.status).order_by(PlannedNote.id)))


def job_of(queues: list[Queue], user_id: int) -> Job:
    return Job.fetch(f"plan-notes-{user_id}", connection=queues[0].connection)


def test_a_due_note_is_emailed_once_when_the_job_runs_twice(
    settings: Settings, database: Database, smtp_server: SmtpServer, queues: list[Queue]
) -> None:
    user_id = add_user(database, ALICE, [lunch(datetime.now(UTC) + timedelta(minutes=30))])

    for _ in range(2):
        enqueue_plan(settings, user_id)
        work(queues)

    (message,) = smtp_server.wait_for(1)
    time.sleep(0.2)  # nothing else arrives
    assert len(smtp_server.messages) == 1
    assert message["To"] == ALICE
    assert message["Subject"].startswith("Prep: lunch with Carol")
    assert statuses(database) == ["sent"]


def test_the_dispatcher_plans_only_for_users_with_a_note_due(
    settings: Settings, database: Database, smtp_server: SmtpServer, queues: list[Queue]
) -> None:
    soon = add_user(database, ALICE, [lunch(datetime.now(UTC) + timedelta(minutes=30))])
    later = add_user(database, CAROL, [lunch(datetime.now(UTC) + timedelta(days=3))])
    for user_id in (soon, later):
        enqueue_plan(settings, user_id)
    work(queues)
    smtp_server.wait_for(1)

    assert dispatch_notes() == 0  # alice's note went out; carol's is days away
    with database.unit() as session:
        note = session.scalars(select(PlannedNote).where(PlannedNote.user_id == later)).one()
        note.due_at = datetime.now(UTC) - timedelta(minutes=1)
    assert dispatch_notes() == 1
    assert queues[0].job_ids == [f"plan-notes-{later}"]


def test_asking_twice_for_a_plan_queues_one_job(
    settings: Settings, database: Database, queues: list[Queue]
) -> None:
    user_id = add_user(database, ALICE, [])

    first, second = enqueue_plan(settings, user_id), enqueue_plan(settings, user_id)

    assert first.id == second.id
    assert queues[0].count == 1


def test_a_cancelled_lunch_cancels_its_note_and_its_google_event(
    settings: Settings, database: Database, google_server: FakeGoogle, queues: list[Queue]
) -> None:
    token = google_server.grant(ALICE, SCOPES)
    start = datetime.now(UTC) + timedelta(days=2)
    user_id = add_user(database, ALICE, [lunch(start)], google=token, calendar_notes=True)
    enqueue_plan(settings, user_id)
    work(queues)

    resync(database, user_id, [])
    enqueue_plan(settings, user_id)
    work(queues)

    assert statuses(database) == ["cancelled"]
    (calendar_id,) = (c.id for c in google_server.calendars.values() if c.id != ALICE)
    (event,) = google_server.events(calendar_id)
    assert event["status"] == "cancelled"
    assert google_server.events(ALICE) == []  # her own calendar was never written to


def test_a_google_outage_delays_the_calendar_but_not_the_email(
    settings: Settings,
    database: Database,
    google_server: FakeGoogle,
    smtp_server: SmtpServer,
    queues: list[Queue],
) -> None:
    token = google_server.grant(ALICE, SCOPES)
    start = datetime.now(UTC) + timedelta(minutes=30)
    user_id = add_user(database, ALICE, [lunch(start)], google=token, calendar_notes=True)
    google_server.fail_next(EVENT_WRITES, 500, method="POST")

    enqueue_plan(settings, user_id)
    work(queues)

    smtp_server.wait_for(1)
    assert job_of(queues, user_id).get_status() == JobStatus.SCHEDULED
    registry = queues[0].scheduled_job_registry
    for job_id in registry.get_job_ids():  # as if the retry's wait had passed
        registry.schedule(Job.fetch(job_id, connection=queues[0].connection), datetime.now(UTC))
    work(queues, scheduler=True)

    assert len(google_server.calls("POST", EVENT_WRITES)) == 2
    assert job_of(queues, user_id).get_status() == JobStatus.FINISHED
    time.sleep(0.2)
    assert len(smtp_server.messages) == 1
