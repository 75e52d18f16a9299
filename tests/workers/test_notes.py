"""The notes jobs on real Redis, SMTP and the fake Google: each note sent once, whatever runs twice.

The jobs read the clock, so the meetings here are placed relative to it, and marked by hand as
touchpoints so the engine's mealtime rules cannot depend on when the test runs.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from rq import Queue
from rq.job import Job, JobStatus
from sqlalchemy import select

from service.adapters.db import Database
from service.adapters.google import APP_CALENDARS, CALENDAR_SCOPES, SIGN_IN_SCOPES
from service.adapters.secrets import SecretBox
from service.config import Settings
from service.models import PlannedNote
from tests import factories
from tests.factories import ALICE, CAROL, lunch_with_carol, note_statuses, resync
from tests.google_server import FakeGoogle
from tests.smtp_server import SmtpServer
from tests.workers.jobs import let_retry_waits_pass, work
from workers.notes import dispatch_notes, enqueue_plan

SCOPES = {*SIGN_IN_SCOPES, *CALENDAR_SCOPES, APP_CALENDARS}
EVENT_WRITES = r"^/calendar/v3/calendars/[^/]+/events$"
QUEUES = ("notes", "email")


def add_user(database: Database, meetings: list[Any] | None = None, **changes: Any) -> int:
    """Store a user (alice unless email= says) whose calendar, synced now, holds these meetings,
    each marked as a meal by hand."""
    return factories.add_user(
        database, meetings or [], synced=datetime.now(UTC), meals=True, scopes=SCOPES, **changes
    )


def google_user_lunching(
    database: Database, box: SecretBox, google_server: FakeGoogle, in_: timedelta
) -> int:
    """Store alice with Google Calendar and prep notes in it, lunching with Carol in_ from now."""
    token = google_server.grant(ALICE, SCOPES)
    lunch = lunch_with_carol(datetime.now(UTC) + in_)
    return add_user(database, [lunch], google=(box, token), calendar_notes=True)


def job_of(queues: list[Queue], user_id: int) -> Job:
    return Job.fetch(f"plan-notes-{user_id}", connection=queues[0].connection)


def test_a_due_note_is_emailed_once_when_the_job_runs_twice(
    settings: Settings, database: Database, smtp_server: SmtpServer, queues: list[Queue]
) -> None:
    user_id = add_user(database, [lunch_with_carol(datetime.now(UTC) + timedelta(minutes=30))])

    for _ in range(2):
        enqueue_plan(settings, user_id)
        work(queues)

    (message,) = smtp_server.wait_for(1)
    time.sleep(0.2)  # nothing else arrives
    assert len(smtp_server.messages) == 1
    assert message["To"] == ALICE
    assert message["Subject"].startswith("Prep: lunch with Carol")
    assert note_statuses(database) == ["sent"]


def test_the_dispatcher_plans_only_for_users_with_a_note_due(
    settings: Settings, database: Database, smtp_server: SmtpServer, queues: list[Queue]
) -> None:
    soon = add_user(database, [lunch_with_carol(datetime.now(UTC) + timedelta(minutes=30))])
    later = add_user(
        database, [lunch_with_carol(datetime.now(UTC) + timedelta(days=3))], email=CAROL
    )
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
    user_id = add_user(database)

    first, second = enqueue_plan(settings, user_id), enqueue_plan(settings, user_id)

    assert first.id == second.id
    assert queues[0].count == 1


def test_a_cancelled_lunch_cancels_its_note_and_its_google_event(
    settings: Settings,
    database: Database,
    box: SecretBox,
    google_server: FakeGoogle,
    queues: list[Queue],
) -> None:
    user_id = google_user_lunching(database, box, google_server, timedelta(days=2))
    enqueue_plan(settings, user_id)
    work(queues)

    resync(database, user_id, [], synced=datetime.now(UTC))
    enqueue_plan(settings, user_id)
    work(queues)

    assert note_statuses(database) == ["cancelled"]
    (calendar_id,) = (c.id for c in google_server.calendars.values() if c.id != ALICE)
    (event,) = google_server.events(calendar_id)
    assert event["status"] == "cancelled"
    assert google_server.events(ALICE) == []  # her own calendar was never written to


def test_a_google_outage_delays_the_calendar_but_not_the_email(
    settings: Settings,
    database: Database,
    box: SecretBox,
    google_server: FakeGoogle,
    smtp_server: SmtpServer,
    queues: list[Queue],
) -> None:
    user_id = google_user_lunching(database, box, google_server, timedelta(minutes=30))
    google_server.fail_next(EVENT_WRITES, 500, method="POST")

    enqueue_plan(settings, user_id)
    work(queues)

    smtp_server.wait_for(1)
    assert job_of(queues, user_id).get_status() == JobStatus.SCHEDULED
    let_retry_waits_pass(queues[0])
    work(queues, scheduler=True)

    assert len(google_server.calls("POST", EVENT_WRITES)) == 2
    assert job_of(queues, user_id).get_status() == JobStatus.FINISHED
    time.sleep(0.2)
    assert len(smtp_server.messages) == 1
