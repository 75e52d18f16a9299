"""A sync that changed a calendar while Redis was away still plans its prep notes."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from service import clock
from service.adapters.db import Database
from service.config import Settings
from service.demo import demo_calendar
from service.models import OutboxEmail, PlannedNote, User
from service.sources.connect import connect_ics_upload
from tests.factories import ALICE
from workers import runtime
from workers.sync import after_sync

QUEUES = ("notes",)


def test_a_changed_sync_plans_at_once_when_the_plan_cannot_be_queued(
    settings: Settings, database: Database
) -> None:
    now = clock.now()
    with database.unit() as session:
        user = User(email=ALICE, tz="Europe/Berlin")
        session.add(user)
        session.flush()
        calendar = demo_calendar(now, user.zone).replace(b"demo@touchpoint.local", ALICE.encode())
        connect_ics_upload(session, settings, user, "work.ics", calendar, now)
        user_id = user.id
    runtime.use(settings.with_changes(redis_url="redis://127.0.0.1:9/0"))  # nothing listens

    after_sync(user_id)

    with database.unit() as session:
        planned = session.scalars(select(PlannedNote).where(PlannedNote.user_id == user_id)).all()
        waiting = session.scalars(select(OutboxEmail).where(OutboxEmail.sent_at.is_(None))).all()
    assert planned  # every meeting ahead has its note planned
    due = [note for note in planned if note.due_at <= now + timedelta(minutes=5)]
    assert len(waiting) == len([note for note in due if note.outbox_id])  # for the sweep to send
