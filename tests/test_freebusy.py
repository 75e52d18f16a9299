"""The partner's free/busy from Google: times avoid what is visible; the rest is unknown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from service.adapters.db import Database
from service.adapters.google import CALENDAR_SCOPES, FREEBUSY, SIGN_IN_SCOPES
from service.adapters.secrets import SecretBox
from service.config import Settings
from service.models import Connection, Proposal, User
from service.proposals import propose as proposing
from service.sources.calendar import store_occurrences, sync_span
from service.sources.freebusy import partner_busy
from service.sources.google import save_connection
from tests.factories import ALICE, BOB, CAROL, NOW, at, meeting
from tests.google_server import FakeGoogle

LUNCH = meeting("Lunch with Carol", at(4, 12), 60, with_=(CAROL,))  # Wednesday
# Without Carol's calendar, the engine offers Mon 09:15, Tue 09:15 and Wed 13:05 (Berlin).
MONDAY_MORNING = at(2, 9, 15)
FREEBUSY_CALLS = r"/freeBusy$"
GRANTED = {*SIGN_IN_SCOPES, *CALENDAR_SCOPES}


@pytest.fixture
def settings(settings: Settings, google_server: FakeGoogle) -> Settings:
    return settings.with_changes(google=google_server.google_settings())


@pytest.fixture
def box(settings: Settings) -> SecretBox:
    return SecretBox(settings.encryption_keys)


def add_alice(
    database: Database, box: SecretBox, google_server: FakeGoogle, scopes: set[str] = GRANTED
) -> int:
    """Store alice with her Google Calendar connected (lunch with Carol on Wednesday)."""
    token = google_server.grant(ALICE, scopes)
    with database.unit() as session:
        user = User(email=ALICE, tz="Europe/Berlin", manager_email=BOB)
        session.add(user)
        session.flush()
        connection = save_connection(session, box, user, ALICE, token, scopes)
        store_occurrences(session, connection, [LUNCH], *sync_span(NOW))
        return user.id


def proposed_starts(database: Database, settings: Settings, box: SecretBox) -> list[datetime]:
    """Propose for alice at NOW as the morning job does; return the offered starts."""
    with database.unit() as session:
        user = session.scalars(select(User)).one()
        result = proposing.attempt(session, settings, user, NOW, box=box)
        assert result.reason == proposing.SENT, result.why
    with database.unit() as session:
        proposal = session.scalars(select(Proposal)).one()
        return [datetime.fromisoformat(start) for start, _end in proposal.slots]


def overlaps(start: datetime, busy: tuple[datetime, datetime]) -> bool:
    return start < busy[1] and start + timedelta(minutes=15) > busy[0]


def test_proposed_times_avoid_the_partners_busy_times(
    database: Database, settings: Settings, box: SecretBox, google_server: FakeGoogle
) -> None:
    add_alice(database, box, google_server)
    taken = [(at(2, 9), at(2, 12)), (at(3, 9), at(3, 11))]
    for start, end in taken:
        google_server.busy(CAROL, start, end)

    starts = proposed_starts(database, settings, box)

    assert len(starts) == 3
    assert not any(overlaps(start, busy) for start in starts for busy in taken)
    assert at(4, 13, 5) in starts  # right after the lunch with Carol: she is free then
    assert len(google_server.calls("POST", FREEBUSY_CALLS)) == 1


def test_a_hidden_partner_calendar_is_unknown_and_the_times_are_still_proposed(
    database: Database, settings: Settings, box: SecretBox, google_server: FakeGoogle
) -> None:
    add_alice(database, box, google_server)
    google_server.busy(CAROL, at(2, 9), at(2, 12))
    google_server.hide_free_busy(CAROL)

    starts = proposed_starts(database, settings, box)

    # As if nothing were known about Carol's day: right after the lunch first, then Monday.
    assert starts[:2] == [at(4, 13, 5), MONDAY_MORNING]


def test_a_partner_google_does_not_know_is_unknown_not_free(
    database: Database, settings: Settings, box: SecretBox, google_server: FakeGoogle
) -> None:
    user_id = add_alice(database, box, google_server)
    window = (NOW, NOW + timedelta(days=14))

    with database.unit() as session:
        user = session.get_one(User, user_id)
        assert partner_busy(session, settings, box, user, CAROL, *window) is None
        google_server.busy(CAROL, at(2, 9), at(2, 12))
        busy = partner_busy(session, settings, box, user, CAROL, *window)

    assert busy == [(at(2, 9).astimezone(UTC), at(2, 12).astimezone(UTC))]


def test_without_the_freebusy_scope_google_is_not_asked(
    database: Database, settings: Settings, box: SecretBox, google_server: FakeGoogle
) -> None:
    add_alice(database, box, google_server, GRANTED - {FREEBUSY})
    google_server.busy(CAROL, at(2, 9), at(2, 12))

    starts = proposed_starts(database, settings, box)

    assert starts[:2] == [at(4, 13, 5), MONDAY_MORNING]
    assert google_server.calls("POST", FREEBUSY_CALLS) == []


def test_a_google_outage_leaves_the_partner_unknown_and_still_proposes(
    database: Database, settings: Settings, box: SecretBox, google_server: FakeGoogle
) -> None:
    add_alice(database, box, google_server)
    google_server.busy(CAROL, at(2, 9), at(2, 12))
    google_server.fail_next(FREEBUSY_CALLS, 500)

    starts = proposed_starts(database, settings, box)

    assert starts[:2] == [at(4, 13, 5), MONDAY_MORNING]


def test_a_user_with_only_an_ics_calendar_gets_no_free_busy(
    database: Database, settings: Settings, box: SecretBox, google_server: FakeGoogle
) -> None:
    with database.unit() as session:
        user = User(email=ALICE, tz="Europe/Berlin")
        session.add(user)
        session.flush()
        session.add(Connection(user_id=user.id, kind="ics_upload", label="work.ics"))
        google_server.busy(CAROL, at(2, 9), at(2, 12))
        assert partner_busy(session, settings, box, user, CAROL, NOW, at(3, 0)) is None

    assert google_server.calls("POST", FREEBUSY_CALLS) == []
