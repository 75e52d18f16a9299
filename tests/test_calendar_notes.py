"""Prep notes in Google Calendar: only in the calendar Touchpoint made, one event per note."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import unquote

import pytest
from sqlalchemy import select

from service.adapters.db import Database
from service.adapters.google import (
    APP_CALENDARS,
    CALENDAR_SCOPES,
    SIGN_IN_SCOPES,
    TransientGoogleError,
)
from service.adapters.secrets import SecretBox
from service.config import Settings
from service.engine.model import Occurrence
from service.models import Connection, User
from service.notes.feed import APP_CALENDAR_NAME, CalendarChange, sync_calendar_notes
from service.notes.plan import plan_notes
from service.sources.calendar import store_occurrences, sync_span
from service.sources.google import save_connection
from tests.factories import ALICE, BOB, CAROL, DAN, NOW, at, meeting
from tests.google_server import FakeGoogle

LUNCH = meeting("Lunch with Carol", at(3, 12), 60, with_=(CAROL,), uid="lunch-carol@test")
COFFEE = meeting("Coffee with Dan", at(4, 15), 30, with_=(DAN,), uid="coffee-dan@test")
SCOPES = {*SIGN_IN_SCOPES, *CALENDAR_SCOPES, APP_CALENDARS}
WRITES = r"^/calendar/v3/calendars/[^/]+/events"
OWN_EVENT = {
    "summary": "Team sync",
    "start": {"dateTime": at(3, 9).isoformat()},
    "end": {"dateTime": at(3, 10).isoformat()},
}


@pytest.fixture
def settings(settings: Settings, google_server: FakeGoogle) -> Settings:
    return settings.with_changes(google=google_server.google_settings())


@pytest.fixture
def box(settings: Settings) -> SecretBox:
    return SecretBox(settings.encryption_keys)


def add_alice(
    database: Database,
    box: SecretBox,
    google_server: FakeGoogle,
    occurrences: list[Occurrence],
    *,
    scopes: set[str] = SCOPES,
    **changes: Any,
) -> int:
    """Store alice with her Google Calendar connected, holding these meetings."""
    token = google_server.grant(ALICE, scopes)
    with database.unit() as session:
        user = User(email=ALICE, tz="Europe/Berlin", manager_email=BOB, **changes)
        session.add(user)
        session.flush()
        connection = save_connection(session, box, user, ALICE, token, scopes)
        store_occurrences(session, connection, occurrences, *sync_span(NOW))
        return user.id


def replan(
    database: Database, settings: Settings, box: SecretBox, user_id: int, **calendar: Any
) -> CalendarChange:
    """Plan the notes, then bring the calendar up to date, as the notes job does."""
    with database.unit() as session:
        user = session.get_one(User, user_id)
        if "occurrences" in calendar:
            connection = session.scalars(select(Connection)).one()
            store_occurrences(session, connection, calendar["occurrences"], *sync_span(NOW))
        plan_notes(session, settings, user, NOW)
    with database.unit() as session:
        user = session.get_one(User, user_id)
        return sync_calendar_notes(session, settings, box, user, NOW)


def app_calendar(database: Database) -> str:
    with database.unit() as session:
        return session.scalars(select(Connection.app_calendar_id)).one()


def live_events(google_server: FakeGoogle, calendar_id: str) -> list[dict[str, Any]]:
    return [e for e in google_server.events(calendar_id) if e.get("status") != "cancelled"]


def starts(events: list[dict[str, Any]]) -> list[datetime]:
    return sorted(datetime.fromisoformat(e["start"]["dateTime"]) for e in events)


def test_notes_go_in_an_app_calendar_made_once_never_in_the_users_own(
    database: Database, settings: Settings, box: SecretBox, google_server: FakeGoogle
) -> None:
    own = google_server.add_event(ALICE, OWN_EVENT)
    user_id = add_alice(database, box, google_server, [LUNCH, COFFEE], calendar_notes=True)

    assert replan(database, settings, box, user_id) == CalendarChange(written=2)
    assert replan(database, settings, box, user_id) == CalendarChange()

    calendar_id = app_calendar(database)
    assert google_server.calendars[calendar_id].summary == APP_CALENDAR_NAME
    assert len(google_server.calls("POST", r"/calendar/v3/calendars$")) == 1
    notes = live_events(google_server, calendar_id)
    assert sorted(e["summary"] for e in notes) == [
        "Prep: coffee with Dan (Wed 15:00)",
        "Prep: lunch with Carol (Tue 12:00)",
    ]
    assert starts(notes) == [at(3, 11), at(4, 14)]  # an hour before each
    assert all(e["transparency"] == "transparent" for e in notes)
    assert google_server.events(ALICE) == [own]
    writes = [unquote(call.path) for call in google_server.calls("POST", WRITES)]
    assert len(writes) == 2
    assert all(calendar_id in path for path in writes)


def test_a_moved_lunch_moves_its_event(
    database: Database, settings: Settings, box: SecretBox, google_server: FakeGoogle
) -> None:
    user_id = add_alice(database, box, google_server, [LUNCH], calendar_notes=True)
    replan(database, settings, box, user_id)

    moved = meeting("Lunch with Carol", at(5, 13), 60, with_=(CAROL,), uid=LUNCH.uid)
    assert replan(database, settings, box, user_id, occurrences=[moved]) == CalendarChange(1)

    (event,) = live_events(google_server, app_calendar(database))
    assert starts([event]) == [at(5, 12)]
    assert event["summary"] == "Prep: lunch with Carol (Thu 13:00)"


def test_a_cancelled_lunch_removes_its_event(
    database: Database, settings: Settings, box: SecretBox, google_server: FakeGoogle
) -> None:
    user_id = add_alice(database, box, google_server, [LUNCH, COFFEE], calendar_notes=True)
    replan(database, settings, box, user_id)

    change = replan(database, settings, box, user_id, occurrences=[COFFEE])

    assert change == CalendarChange(removed=1)
    (left,) = live_events(google_server, app_calendar(database))
    assert left["summary"].startswith("Prep: coffee with Dan")


def test_turning_calendar_notes_off_removes_the_events(
    database: Database, settings: Settings, box: SecretBox, google_server: FakeGoogle
) -> None:
    user_id = add_alice(database, box, google_server, [LUNCH], calendar_notes=True)
    replan(database, settings, box, user_id)
    with database.unit() as session:
        session.get_one(User, user_id).calendar_notes = False

    assert replan(database, settings, box, user_id) == CalendarChange(removed=1)
    assert live_events(google_server, app_calendar(database)) == []


@pytest.mark.parametrize(
    ("notes_on", "scopes"),
    [(False, SCOPES), (True, {*SIGN_IN_SCOPES, *CALENDAR_SCOPES})],
    ids=["not wanted", "not granted"],
)
def test_nothing_is_written_unless_wanted_and_granted(
    database: Database,
    settings: Settings,
    box: SecretBox,
    google_server: FakeGoogle,
    notes_on: bool,
    scopes: set[str],
) -> None:
    user_id = add_alice(
        database, box, google_server, [LUNCH], scopes=scopes, calendar_notes=notes_on
    )

    assert replan(database, settings, box, user_id) == CalendarChange()
    assert google_server.requests == []


def test_a_deleted_app_calendar_is_made_again_with_every_note(
    database: Database, settings: Settings, box: SecretBox, google_server: FakeGoogle
) -> None:
    user_id = add_alice(database, box, google_server, [LUNCH, COFFEE], calendar_notes=True)
    replan(database, settings, box, user_id)
    first = app_calendar(database)
    del google_server.calendars[first]  # the user deleted it in Google Calendar

    moved = meeting("Coffee with Dan", at(4, 16), 30, with_=(DAN,), uid=COFFEE.uid)
    assert replan(database, settings, box, user_id, occurrences=[LUNCH, moved]).written == 2

    second = app_calendar(database)
    assert second != first
    assert starts(live_events(google_server, second)) == [at(3, 11), at(4, 15)]


def test_a_google_outage_is_retried_and_makes_the_calendar_and_each_event_once(
    database: Database, settings: Settings, box: SecretBox, google_server: FakeGoogle
) -> None:
    user_id = add_alice(database, box, google_server, [LUNCH, COFFEE], calendar_notes=True)
    google_server.fail_next(WRITES, 500, times=1, method="POST")

    with pytest.raises(TransientGoogleError):
        replan(database, settings, box, user_id)
    assert replan(database, settings, box, user_id).written == 2

    assert len(google_server.calls("POST", r"/calendar/v3/calendars$")) == 1
    assert len(live_events(google_server, app_calendar(database))) == 2


def test_a_note_whose_event_is_gone_for_good_is_made_again_when_it_changes(
    database: Database, settings: Settings, box: SecretBox, google_server: FakeGoogle
) -> None:
    user_id = add_alice(database, box, google_server, [LUNCH], calendar_notes=True)
    replan(database, settings, box, user_id)
    calendar_id = app_calendar(database)
    google_server.calendars[calendar_id].events.clear()  # purged on Google's side

    moved = meeting("Lunch with Carol", at(5, 13), 60, with_=(CAROL,), uid=LUNCH.uid)
    assert replan(database, settings, box, user_id, occurrences=[moved]) == CalendarChange(1)

    assert starts(live_events(google_server, calendar_id)) == [at(5, 12)]
