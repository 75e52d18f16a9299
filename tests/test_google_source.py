"""A Google Calendar as a source: events through the real API client, expanded into occurrences."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from service.adapters.db import Database
from service.adapters.google import CALENDAR_SCOPES, SIGN_IN_SCOPES, TransientGoogleError
from service.adapters.secrets import SecretBox
from service.config import Settings
from service.models import Connection, StoredOccurrence, User
from service.sources.calendar import plan_for_user
from service.sources.google import REVOKED, save_connection
from service.sources.sync import disconnect, sync_connection
from tests.factories import ALICE, BOB, CAROL, NOW, at
from tests.google_server import FakeGoogle

GRANTED = {*SIGN_IN_SCOPES, *CALENDAR_SCOPES}
BERLIN = "Europe/Berlin"


@pytest.fixture
def settings(google_server: FakeGoogle) -> Settings:
    return Settings(google=google_server.google_settings())


@pytest.fixture
def connection_id(database: Database, box: SecretBox, google_server: FakeGoogle) -> int:
    """Alice (in Berlin) with her Google Calendar connected, not synced yet."""
    token = google_server.grant(ALICE, GRANTED)
    with database.unit() as session:
        user = User(email=ALICE, tz=BERLIN)
        session.add(user)
        session.flush()
        return save_connection(session, box, user, ALICE, token, GRANTED).id


def sync(
    database: Database, settings: Settings, box: SecretBox, connection_id: int, hours: float = 1
) -> str:
    with database.unit() as session:
        connection = session.get(Connection, connection_id)
        assert connection is not None
        now = NOW + timedelta(hours=hours)
        return sync_connection(session, settings, box, connection, now).outcome


def stored(database: Database) -> list[StoredOccurrence]:
    with database.unit() as session:
        query = select(StoredOccurrence).order_by(StoredOccurrence.start)
        return list(session.scalars(query))


def when(moment: datetime) -> dict[str, str]:
    return {"dateTime": moment.isoformat(), "timeZone": BERLIN}


def weekly(event_id: str, title: str, first: datetime, *rules: str, **fields: Any) -> dict:
    """A weekly series as Google sends it: the first instance and its recurrence lines."""
    return {
        "id": event_id,
        "summary": title,
        "start": when(first),
        "end": when(first + timedelta(minutes=30)),
        "recurrence": ["RRULE:FREQ=WEEKLY", *rules],
        **fields,
    }


def instance(series: dict, original: datetime, **changes: Any) -> dict:
    """A changed instance of a series: Google's id, its series and which start it replaces."""
    stamp = original.astimezone(NOW.tzinfo).strftime("%Y%m%dT%H%M%S")
    body = {key: value for key, value in series.items() if key not in ("id", "recurrence")}
    return {
        **body,
        "id": f"{series['id']}_{stamp}",
        "recurringEventId": series["id"],
        "originalStartTime": when(original),
        **changes,
    }


def people(*emails: str, answer: str = "accepted") -> list[dict[str, Any]]:
    return [{"email": e, "responseStatus": answer, "self": e == ALICE} for e in emails]


ONE_ON_ONE = weekly(
    "oneonone",
    "1:1 Alice / Bob",
    at(5, 10, month=2),  # Thursdays at 10:00 from 5 February
    "EXDATE;TZID=Europe/Berlin:20260312T100000",
    attendees=people(ALICE, BOB),
    organizer={"email": BOB},
)


def test_a_weekly_one_on_one_keeps_its_exdate_out_and_its_moved_instance_moved(
    database: Database, settings: Settings, box: SecretBox, connection_id: int, google_server: Any
) -> None:
    google_server.add_event(ALICE, ONE_ON_ONE)
    moved = instance(ONE_ON_ONE, at(5, 10), start=when(at(6, 15)), end=when(at(6, 15, 30)))
    google_server.add_event(ALICE, moved)

    assert sync(database, settings, box, connection_id) == "connected"

    rows = stored(database)
    assert [row.start for row in rows] == [
        *(at(day, 10, month=2) for day in (5, 12, 19, 26)),
        at(6, 15),  # moved from Thursday 5 March; 12 March is excluded
        at(19, 10),
    ]
    assert {(row.uid, row.title, row.recurring) for row in rows} == {
        ("oneonone", "1:1 Alice / Bob", True)
    }
    assert {row.my_response for row in rows} == {"accepted"}


def test_a_cancelled_instance_is_not_a_touchpoint(
    database: Database, settings: Settings, box: SecretBox, connection_id: int, google_server: Any
) -> None:
    coffee = weekly(
        "coffee", "Coffee with Carol", at(25, 10, month=2), attendees=people(ALICE, CAROL)
    )
    google_server.add_event(ALICE, coffee)
    google_server.add_event(ALICE, instance(coffee, at(4, 10), status="cancelled"))

    sync(database, settings, box, connection_id)

    with database.unit() as session:
        user = session.scalars(select(User)).one()
        touchpoints = plan_for_user(session, user, NOW).touchpoints
    assert [tp.occurrence.start for tp in touchpoints] == [at(11, 10)]
    assert at(4, 10) not in [row.start for row in stored(database)]


def test_it_keeps_who_comes_the_users_answer_and_whether_the_time_is_busy(
    database: Database, settings: Settings, box: SecretBox, connection_id: int, google_server: Any
) -> None:
    room = {"email": "room@example.com", "resource": True}
    lunch = {
        "summary": "Lunch with Carol\r\nATTENDEE:mailto:evil@example.org",
        "location": "Canteen",
        "start": when(at(4, 12)),
        "end": when(at(4, 13)),
        "attendees": [*people(ALICE, answer="declined"), *people(CAROL), room],
        "transparency": "transparent",
    }
    google_server.add_event(ALICE, lunch)

    sync(database, settings, box, connection_id)

    [row] = stored(database)
    assert (row.title, row.location) == (
        "Lunch with Carol ATTENDEE:mailto:evil@example.org",
        "Canteen",
    )
    assert [(a["email"], a["status"], a["cutype"]) for a in row.attendees] == [
        (ALICE, "declined", "individual"),
        (CAROL, "accepted", "individual"),
        ("room@example.com", "needs-action", "resource"),
    ]
    assert (row.my_response, row.transparent) == ("declined", True)


def test_an_unchanged_calendar_rewrites_nothing(
    database: Database, settings: Settings, box: SecretBox, connection_id: int, google_server: Any
) -> None:
    google_server.add_event(ALICE, ONE_ON_ONE)
    sync(database, settings, box, connection_id)
    before = [row.id for row in stored(database)]

    assert sync(database, settings, box, connection_id, hours=2) == "unchanged"

    assert [row.id for row in stored(database)] == before
    last = google_server.calls("GET", r"/events$")[-1]
    assert "syncToken" in last.query


def test_a_change_lists_the_calendar_again_and_replaces_its_events(
    database: Database, settings: Settings, box: SecretBox, connection_id: int, google_server: Any
) -> None:
    google_server.add_event(ALICE, ONE_ON_ONE)
    sync(database, settings, box, connection_id)
    google_server.update_event(ALICE, "oneonone", summary="Career chat with Bob")

    assert sync(database, settings, box, connection_id, hours=2) == "updated"

    assert {row.title for row in stored(database)} == {"Career chat with Bob"}


def test_an_expired_sync_token_means_a_full_sync(
    database: Database, settings: Settings, box: SecretBox, connection_id: int, google_server: Any
) -> None:
    google_server.add_event(ALICE, ONE_ON_ONE)
    sync(database, settings, box, connection_id)
    google_server.expire_sync_tokens()

    assert sync(database, settings, box, connection_id, hours=2) == "updated"

    incremental, full = google_server.calls("GET", r"/events$")[-2:]
    assert "syncToken" in incremental.query
    assert "syncToken" not in full.query
    assert len(stored(database)) == 6
    assert sync(database, settings, box, connection_id, hours=3) == "unchanged"


def test_a_new_day_lists_nothing_again_while_the_stored_days_reach_the_horizon(
    database: Database, settings: Settings, box: SecretBox, connection_id: int, google_server: Any
) -> None:
    google_server.add_event(ALICE, ONE_ON_ONE)
    sync(database, settings, box, connection_id)

    assert sync(database, settings, box, connection_id, hours=24 * 4) == "unchanged"
    assert "syncToken" in google_server.calls("GET", r"/events$")[-1].query


def test_the_series_reach_new_days_once_the_stored_days_ahead_run_short(
    database: Database, settings: Settings, box: SecretBox, connection_id: int, google_server: Any
) -> None:
    google_server.add_event(ALICE, ONE_ON_ONE)
    sync(database, settings, box, connection_id)

    assert sync(database, settings, box, connection_id, hours=24 * 8) == "updated"

    assert at(26, 10) in [row.start for row in stored(database)]


def test_a_revoked_grant_marks_the_connection_broken_and_keeps_its_events(
    database: Database, settings: Settings, box: SecretBox, connection_id: int, google_server: Any
) -> None:
    google_server.add_event(ALICE, ONE_ON_ONE)
    sync(database, settings, box, connection_id)
    google_server.revoke_user(ALICE)

    assert sync(database, settings, box, connection_id, hours=2) == "failed"

    with database.unit() as session:
        connection = session.scalars(select(Connection)).one()
        assert (connection.status, connection.last_error) == ("broken", REVOKED)
    assert len(stored(database)) == 6


def test_a_google_outage_is_raised_for_the_workers_to_retry_and_changes_nothing(
    database: Database, settings: Settings, box: SecretBox, connection_id: int, google_server: Any
) -> None:
    google_server.add_event(ALICE, ONE_ON_ONE)
    google_server.fail_next(r"/events$", 503)

    with pytest.raises(TransientGoogleError):
        sync(database, settings, box, connection_id)

    assert stored(database) == []
    with database.unit() as session:
        assert session.scalars(select(Connection.synced_at)).one() is None


def test_disconnecting_revokes_the_grant_at_google_and_deletes_the_events(
    database: Database, settings: Settings, box: SecretBox, connection_id: int, google_server: Any
) -> None:
    google_server.add_event(ALICE, ONE_ON_ONE)
    sync(database, settings, box, connection_id)
    [token] = [grant.refresh_token for grant in google_server.state.grants]

    with database.unit() as session:
        connection = session.get(Connection, connection_id)
        assert connection is not None
        disconnect(session, settings, box, connection)

    assert token in google_server.revoked
    assert stored(database) == []
    with database.unit() as session:
        assert session.scalars(select(Connection)).all() == []


def test_disconnecting_while_google_is_down_still_deletes_everything(
    database: Database, settings: Settings, box: SecretBox, connection_id: int, google_server: Any
) -> None:
    google_server.add_event(ALICE, ONE_ON_ONE)
    sync(database, settings, box, connection_id)
    google_server.fail_next(r"^/revoke$", 503)

    with database.unit() as session:
        connection = session.get(Connection, connection_id)
        assert connection is not None
        disconnect(session, settings, box, connection)

    assert google_server.revoked == set()
    assert stored(database) == []
