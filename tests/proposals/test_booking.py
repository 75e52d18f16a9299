"""Booking an accepted proposal: a Google event with the partner invited, or an iTIP invite email.

Both happen once, whatever runs twice or crashes in between.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import icalendar
import pytest

from service.adapters.db import Database
from service.adapters.secrets import SecretBox
from service.config import Settings
from service.models import Proposal
from service.proposals.book import book
from tests.factories import (
    ALICE,
    CAROL,
    CHAT_START,
    REASON,
    add_accepted_proposal,
    book_proposal,
    connect_google,
    outbox_count,
    send_outbox,
    stored_proposal,
)
from tests.google_server import FakeGoogle
from tests.smtp_server import SmtpServer, addressed_to, invite_of

EN_DASH = "\u2013"


def attendees(event: Any) -> list[str]:
    values = event.get("attendee")
    return [str(value) for value in (values if isinstance(values, list) else [values])]


def test_an_ics_user_and_the_partner_each_get_an_invite_mail_clients_can_accept(
    database: Database, settings: Settings, box: SecretBox, smtp_server: SmtpServer
) -> None:
    proposal_id = add_accepted_proposal(database)

    result = book_proposal(database, settings, box, proposal_id)
    send_outbox(database, settings)

    assert result.outcome == "invited"
    messages = smtp_server.wait_for(2)
    for address in (ALICE, CAROL):
        calendar, part, attachment = invite_of(addressed_to(messages, address))
        assert part.get_param("method") == "REQUEST"
        assert str(calendar["METHOD"]) == "REQUEST"
        (event,) = calendar.walk("VEVENT")
        assert event.decoded("DTSTART") == datetime(2037, 3, 4, 12, 5, tzinfo=UTC)
        assert event.decoded("DTEND") == datetime(2037, 3, 4, 12, 20, tzinfo=UTC)
        assert event.get("DTSTART").to_ical() == b"20370304T120500Z"
        assert str(event["ORGANIZER"]) == f"mailto:{ALICE}"
        assert attendees(event) == [f"mailto:{CAROL}", f"mailto:{ALICE}"]
        assert all(a.params["RSVP"] == "TRUE" for a in event["ATTENDEE"])
        assert str(event["SUMMARY"]) == "Career chat: Alice and Carol"
        assert event["SEQUENCE"] == 0
        assert str(event["UID"]).endswith("@localhost")
        assert icalendar.Calendar.from_ical(attachment).walk("VEVENT")[0]["UID"] == event["UID"]
    assert stored_proposal(database, proposal_id).booked_at is not None


def test_the_invite_says_when_in_the_users_time_zone(
    database: Database, settings: Settings, box: SecretBox, smtp_server: SmtpServer
) -> None:
    book_proposal(database, settings, box, add_accepted_proposal(database))
    send_outbox(database, settings)

    mine = addressed_to(smtp_server.wait_for(2), ALICE)
    assert mine["Subject"] == f"Booked: career chat with Carol, Wed 4 Mar 13:05{EN_DASH}13:20"
    theirs = addressed_to(smtp_server.messages, CAROL)
    assert theirs["Subject"].startswith("Invitation: career chat with Alice, Wed 4 Mar 13:05")
    assert theirs["Reply-To"] == ALICE


def test_the_reason_stays_in_the_users_copy_and_out_of_the_partners(
    database: Database, settings: Settings, box: SecretBox, smtp_server: SmtpServer
) -> None:
    book_proposal(database, settings, box, add_accepted_proposal(database))
    send_outbox(database, settings)

    messages = smtp_server.wait_for(2)
    mine, _, _ = invite_of(addressed_to(messages, ALICE))
    theirs, _, _ = invite_of(addressed_to(messages, CAROL))
    assert REASON in str(mine.walk("VEVENT")[0]["DESCRIPTION"])
    assert "How can I add value for Carol?" in str(mine.walk("VEVENT")[0]["DESCRIPTION"])
    assert "where you could move" not in theirs.walk("VEVENT")[0]["DESCRIPTION"]
    assert "where you could move" not in addressed_to(messages, CAROL).as_string()


def test_booking_twice_sends_each_person_one_invite(
    database: Database, settings: Settings, box: SecretBox, smtp_server: SmtpServer
) -> None:
    proposal_id = add_accepted_proposal(database)

    first = book_proposal(database, settings, box, proposal_id)
    second = book_proposal(database, settings, box, proposal_id)
    send_outbox(database, settings)
    send_outbox(database, settings)

    assert (first.outcome, second.outcome) == ("invited", "already_booked")
    assert outbox_count(database) == 2
    assert sorted(m["To"] for m in smtp_server.wait_for(2)) == [ALICE, CAROL]


@pytest.mark.parametrize("status", ["proposed", "declined", "other_times"])
def test_a_proposal_not_accepted_is_not_booked(
    database: Database, settings: Settings, box: SecretBox, status: str
) -> None:
    proposal_id = add_accepted_proposal(database, status=status, chosen_start=None)

    assert book_proposal(database, settings, box, proposal_id).outcome == "not_accepted"
    assert stored_proposal(database, proposal_id).booked_at is None
    assert outbox_count(database) == 0


def test_without_a_partner_the_invite_is_a_hold_for_the_user_alone(
    database: Database, settings: Settings, box: SecretBox, smtp_server: SmtpServer
) -> None:
    book_proposal(database, settings, box, add_accepted_proposal(database, partner=None))
    send_outbox(database, settings)

    (message,) = smtp_server.wait_for(1)
    calendar, _, _ = invite_of(message)
    (event,) = calendar.walk("VEVENT")
    assert attendees(event) == [f"mailto:{ALICE}"]
    assert str(event["SUMMARY"]) == "Career chat: Alice"
    assert "only a hold" in message.get_body(("plain",)).get_content()


def test_hostile_text_cannot_add_calendar_properties_or_email_headers(
    database: Database, settings: Settings, box: SecretBox, smtp_server: SmtpServer
) -> None:
    hostile = "x\r\nATTENDEE:mailto:mallory@evil.test\r\nBcc: mallory@evil.test\r\nBEGIN:VALARM"
    proposal_id = add_accepted_proposal(
        database, reason=hostile, partner=f"carol@example.com\r\nBcc: {hostile}"
    )

    book_proposal(database, settings, box, proposal_id)
    send_outbox(database, settings)

    (message,) = smtp_server.wait_for(1)  # the partner is no plain address: nobody else gets it
    assert smtp_server.recipients == [[ALICE]]
    assert message["Bcc"] is None
    assert "mallory" not in message["Subject"]
    calendar, _, _ = invite_of(message)
    (event,) = calendar.walk("VEVENT")
    assert attendees(event) == [f"mailto:{ALICE}"]
    assert calendar.walk("VALARM") == []
    assert "ATTENDEE:mailto:mallory@evil.test" in str(event["DESCRIPTION"])  # as text, one line


def test_a_google_user_gets_one_event_with_the_partner_invited_by_google(
    database: Database, settings: Settings, box: SecretBox, google_server: FakeGoogle
) -> None:
    proposal_id = add_accepted_proposal(database)
    connect_google(database, box, google_server)

    result = book_proposal(database, settings, box, proposal_id)

    (event,) = google_server.events(ALICE)
    assert result.outcome == "booked"
    assert event["id"] == result.event_id
    assert event["summary"] == "Career chat: Alice and Carol"
    assert [a["email"] for a in event["attendees"]] == [CAROL, ALICE]
    assert datetime.fromisoformat(event["start"]["dateTime"]) == CHAT_START
    assert event["start"]["timeZone"] == "Europe/Berlin"
    assert "where you could move" not in event["description"]  # Carol sees the description
    (insert,) = google_server.calls("POST", r"/calendars/primary/events$")
    assert insert.query["sendUpdates"] == "all"
    assert stored_proposal(database, proposal_id).calendar_event_id == event["id"]
    assert outbox_count(database) == 0


def test_a_crash_after_the_google_insert_does_not_make_a_second_event(
    database: Database, settings: Settings, box: SecretBox, google_server: FakeGoogle
) -> None:
    proposal_id = add_accepted_proposal(database)
    connect_google(database, box, google_server)
    with database.unit() as session:  # inserted at Google, then the worker dies: no commit
        book(session, settings, box, session.get_one(Proposal, proposal_id), datetime.now(UTC))
        session.rollback()

    result = book_proposal(database, settings, box, proposal_id)

    assert result.outcome == "booked"
    assert len(google_server.events(ALICE)) == 1
    assert stored_proposal(database, proposal_id).booked_at is not None


def test_a_revoked_google_grant_falls_back_to_invite_emails_and_tells_the_user(
    database: Database,
    settings: Settings,
    box: SecretBox,
    google_server: FakeGoogle,
    smtp_server: SmtpServer,
) -> None:
    proposal_id = add_accepted_proposal(database)
    google_server.revoked.add(connect_google(database, box, google_server))

    result = book_proposal(database, settings, box, proposal_id)
    send_outbox(database, settings)

    assert result.outcome == "invited"
    assert google_server.events(ALICE) == []
    assert "withdrawn" in stored_proposal(database, proposal_id).booking_error
    messages = smtp_server.wait_for(2)
    text = addressed_to(messages, ALICE).get_body(("plain",)).get_content()
    assert "could not put this chat in your Google Calendar" in text
    assert "http://localhost/connect" in text
    invite_of(addressed_to(messages, CAROL))  # the chat still happens
