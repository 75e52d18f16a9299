"""Withdrawing a booked chat: Google deletes the event and tells the partner, or an iTIP CANCEL.

Both happen once, whoever clicks twice.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar

from service.adapters.db import Database
from service.adapters.secrets import SecretBox
from service.config import Settings
from service.models import Proposal
from service.proposals.book import invite_uid
from service.proposals.withdraw import withdraw
from tests.factories import (
    ALICE,
    CAROL,
    CHAT_START,
    add_accepted_proposal,
    book_proposal,
    connect_google,
    outbox_count,
    send_outbox,
    stored_proposal,
)
from tests.google_server import FakeGoogle
from tests.smtp_server import SmtpServer, addressed_to, invite_of


def cancel(
    database: Database, settings: Settings, box: SecretBox, proposal_id: int, now: datetime
) -> str:
    """Withdraw as the dashboard does, committing at the end."""
    with database.unit() as session:
        proposal = session.get_one(Proposal, proposal_id)
        return withdraw(session, settings, box, proposal, now)


def test_an_ics_user_and_the_partner_each_get_a_cancel_for_the_invite_they_had(
    database: Database, settings: Settings, box: SecretBox, smtp_server: SmtpServer
) -> None:
    proposal_id = add_accepted_proposal(database)
    book_proposal(database, settings, box, proposal_id)
    send_outbox(database, settings)
    smtp_server.wait_for(2)

    outcome = cancel(database, settings, box, proposal_id, datetime.now(UTC))
    send_outbox(database, settings)

    assert outcome == "withdrawn"
    messages = smtp_server.wait_for(4)[2:]
    uid = invite_uid(settings, stored_proposal(database, proposal_id))
    for address in (ALICE, CAROL):
        message = addressed_to(messages, address)
        calendar, part, attachment = invite_of(message)
        assert message["Subject"].startswith("Cancelled: career chat")
        assert part.get_param("method") == "CANCEL"
        assert str(calendar["METHOD"]) == "CANCEL"
        (event,) = calendar.walk("VEVENT")
        assert str(event["UID"]) == uid
        assert event["SEQUENCE"] == 1
        assert str(event["STATUS"]) == "CANCELLED"
        assert icalendar.Calendar.from_ical(attachment).walk("VEVENT")[0]["UID"] == uid
    assert stored_proposal(database, proposal_id).status == "withdrawn"


def test_withdrawing_twice_sends_each_person_one_cancel(
    database: Database, settings: Settings, box: SecretBox
) -> None:
    proposal_id = add_accepted_proposal(database)
    book_proposal(database, settings, box, proposal_id)

    first = cancel(database, settings, box, proposal_id, datetime.now(UTC))
    second = cancel(database, settings, box, proposal_id, datetime.now(UTC))

    assert (first, second) == ("withdrawn", "not_upcoming")
    assert outbox_count(database) == 4  # two invites, two cancels
    assert stored_proposal(database, proposal_id).invite_sequence == 1


def test_a_google_users_event_is_deleted_once_and_google_tells_the_partner(
    database: Database, settings: Settings, box: SecretBox, google_server: FakeGoogle
) -> None:
    proposal_id = add_accepted_proposal(database)
    connect_google(database, box, google_server)
    booked = book_proposal(database, settings, box, proposal_id)

    first = cancel(database, settings, box, proposal_id, datetime.now(UTC))
    second = cancel(database, settings, box, proposal_id, datetime.now(UTC))

    assert (first, second) == ("withdrawn", "not_upcoming")
    (deletion,) = google_server.calls("DELETE", rf"/calendars/primary/events/{booked.event_id}$")
    assert deletion.query["sendUpdates"] == "all"
    assert [e["status"] for e in google_server.events(ALICE)] == ["cancelled"]
    assert outbox_count(database) == 0


def test_a_chat_that_has_started_is_not_withdrawn(
    database: Database, settings: Settings, box: SecretBox
) -> None:
    proposal_id = add_accepted_proposal(database)
    book_proposal(database, settings, box, proposal_id)

    outcome = cancel(database, settings, box, proposal_id, CHAT_START + timedelta(minutes=1))

    assert outcome == "not_upcoming"
    assert stored_proposal(database, proposal_id).status == "accepted"
    assert outbox_count(database) == 2  # the invites only


def test_a_chat_accepted_but_not_booked_yet_is_not_withdrawn(
    database: Database, settings: Settings, box: SecretBox
) -> None:
    proposal_id = add_accepted_proposal(database)

    outcome = cancel(database, settings, box, proposal_id, datetime.now(UTC))

    assert outcome == "not_upcoming"
    assert stored_proposal(database, proposal_id).status == "accepted"
    assert outbox_count(database) == 0
