"""Stored occurrences round-trip into the engine, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

from service.adapters.db import Database
from service.models import Connection, User
from service.sources.calendar import plan_for_user, store_occurrences, sync_span
from tests.factories import ALICE, BOB, CAROL, NOW, at, meeting


def test_a_synced_lunch_comes_back_as_a_touchpoint_with_a_note(database_url: str) -> None:
    db = Database(database_url)
    with db.unit() as session:
        user = User(email=ALICE, tz="Europe/Berlin", manager_email=BOB)
        session.add(user)
        session.flush()
        connection = Connection(user_id=user.id, kind="ics_upload", label="work.ics")
        session.add(connection)
        session.flush()
        lunch = meeting("Lunch with Carol", at(4, 12), 60, with_=(CAROL,))
        offsite = meeting("Offsite", date(2026, 3, 6), with_=(BOB, CAROL))
        start, end = sync_span(NOW)
        stored = store_occurrences(session, connection, [lunch, offsite, lunch], start, end)
    with db.unit() as session:
        result = plan_for_user(session, session.get(User, user.id), NOW)
    db.dispose()

    assert stored == 2
    assert [(tp.occurrence.title, tp.kind) for tp in result.touchpoints] == [
        ("Lunch with Carol", "meal")
    ]
    assert result.touchpoints[0].occurrence.start == at(4, 12)
    assert "Carol" in result.touchpoints[0].note.subject
    offsite_back = [o for o, _ in result.occurrences if o.all_day]
    assert offsite_back[0].start == date(2026, 3, 6)
    assert offsite_back[0].end - offsite_back[0].start == timedelta(days=1)
