"""Booking an accepted proposal: a Google event with the partner invited, or an iTIP invite email.

Both happen once, whatever runs twice or crashes in between.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import icalendar
import pytest
from sqlalchemy import func, select

from service.adapters.db import Database
from service.adapters.google import CALENDAR_SCOPES, SIGN_IN_SCOPES
from service.adapters.mail_delivery import deliver
from service.adapters.secrets import SecretBox
from service.config import Settings
from service.models import OutboxEmail, Proposal, User
from service.proposals.book import BookingResult, book
from service.sources.google import save_connection
from tests.factories import ALICE, BERLIN, CAROL
from tests.google_server import FakeGoogle
from tests.smtp_server import SmtpServer

# 4 March 2037 is a Wednesday; Berlin is on winter time (UTC+1).
START = datetime(2037, 3, 4, 13, 5, tzinfo=BERLIN)
SLOTS = [START, START + timedelta(days=1)]
REASON = "Carol works on another team and can show you where you could move."
ACCEPTED = {
    "partner": CAROL,
    "reason": REASON,
    "slots": [[s.isoformat(), (s + timedelta(minutes=15)).isoformat()] for s in SLOTS],
    "status": "accepted",
    "chosen_start": START,
    "expires_at": START,
}
GRANTED = {*SIGN_IN_SCOPES, *CALENDAR_SCOPES}
EN_DASH = "\u2013"


@pytest.fixture
def settings(settings: Settings, smtp_server: SmtpServer, google_server: FakeGoogle) -> Settings:
    return settings.with_changes(smtp=smtp_server.settings, google=google_server.google_settings())


@pytest.fixture
def box(settings: Settings) -> SecretBox:
    return SecretBox(settings.encryption_keys)


def add_alice(database: Database, **changes: Any) -> int:
    """Store alice (Berlin) with a proposal she accepted for its first time; return its id."""
    with database.unit() as session:
        user = User(email=ALICE, tz="Europe/Berlin")
        session.add(user)
        session.flush()
        answered = {"user_id": user.id, "answered_at": datetime.now(UTC)}
        proposal = Proposal(**(ACCEPTED | answered | changes))
        session.add(proposal)
        session.flush()
        return proposal.id


def connect_google(database: Database, box: SecretBox, google_server: FakeGoogle) -> str:
    """Connect alice's Google Calendar; return the refresh token Google gave."""
    token = google_server.grant(ALICE, GRANTED)
    with database.unit() as session:
        user = session.scalars(select(User).where(User.email == ALICE)).one()
        save_connection(session, box, user, ALICE, token, GRANTED)
    return token


def run(database: Database, settings: Settings, box: SecretBox, proposal_id: int) -> BookingResult:
    """Book as the job does, committing at the end."""
    with database.unit() as session:
        proposal = session.get_one(Proposal, proposal_id)
        return book(session, settings, box, proposal, datetime.now(UTC))


def send_all(database: Database, settings: Settings) -> None:
    with database.unit() as session:
        ids = list(session.scalars(select(OutboxEmail.id).where(OutboxEmail.sent_at.is_(None))))
    for outbox_id in ids:
        deliver(database, outbox_id, settings, datetime.now(UTC))


def stored(database: Database, proposal_id: int) -> Proposal:
    with database.unit() as session:
        return session.get_one(Proposal, proposal_id)


def outbox_count(database: Database) -> int:
    with database.unit() as session:
        return session.scalar(select(func.count(OutboxEmail.id))) or 0


def invite_of(message: EmailMessage) -> tuple[icalendar.Calendar, EmailMessage, bytes]:
    """Return the text/calendar alternative parsed, that part, and the invite.ics attachment."""
    assert message.get_content_type() == "multipart/mixed"
    alternative = next(message.iter_parts())
    assert alternative.get_content_type() == "multipart/alternative"
    kinds = [part.get_content_type() for part in alternative.iter_parts()]
    assert kinds == ["text/plain", "text/html", "text/calendar"]
    part = list(alternative.iter_parts())[2]
    attachment = next(p for p in message.iter_attachments() if p.get_filename() == "invite.ics")
    return icalendar.Calendar.from_ical(part.get_content()), part, attachment.get_content()


def addressed_to(messages: list[EmailMessage], address: str) -> EmailMessage:
    found = [message for message in messages if message["To"] == address]
    assert len(found) == 1, f"{len(found)} emails to {address}"
    return found[0]


def attendees(event: Any) -> list[str]:
    values = event.get("attendee")
    return [str(value) for value in (values if isinstance(values, list) else [values])]


def test_an_ics_user_and_the_partner_each_get_an_invite_mail_clients_can_accept(
    database: Database, settings: Settings, box: SecretBox, smtp_server: SmtpServer
) -> None:
    proposal_id = add_alice(database)

    result = run(database, settings, box, proposal_id)
    send_all(database, settings)

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
    assert stored(database, proposal_id).booked_at is not None


def test_the_invite_says_when_in_the_users_time_zone(
    database: Database, settings: Settings, box: SecretBox, smtp_server: SmtpServer
) -> None:
    run(database, settings, box, add_alice(database))
    send_all(database, settings)

    mine = addressed_to(smtp_server.wait_for(2), ALICE)
    assert mine["Subject"] == f"Booked: career chat with Carol, Wed 4 Mar 13:05{EN_DASH}13:20"
    theirs = addressed_to(smtp_server.messages, CAROL)
    assert theirs["Subject"].startswith("Invitation: career chat with Alice, Wed 4 Mar 13:05")
    assert theirs["Reply-To"] == ALICE


def test_the_reason_stays_in_the_users_copy_and_out_of_the_partners(
    database: Database, settings: Settings, box: SecretBox, smtp_server: SmtpServer
) -> None:
    run(database, settings, box, add_alice(database))
    send_all(database, settings)

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
    proposal_id = add_alice(database)

    first = run(database, settings, box, proposal_id)
    second = run(database, settings, box, proposal_id)
    send_all(database, settings)
    send_all(database, settings)

    assert (first.outcome, second.outcome) == ("invited", "already_booked")
    assert outbox_count(database) == 2
    assert sorted(m["To"] for m in smtp_server.wait_for(2)) == [ALICE, CAROL]


@pytest.mark.parametrize("status", ["proposed", "declined", "other_times"])
def test_a_proposal_not_accepted_is_not_booked(
    database: Database, settings: Settings, box: SecretBox, status: str
) -> None:
    proposal_id = add_alice(database, status=status, chosen_start=None)

    assert run(database, settings, box, proposal_id).outcome == "not_accepted"
    assert stored(database, proposal_id).booked_at is None
    assert outbox_count(database) == 0


def test_without_a_partner_the_invite_is_a_hold_for_the_user_alone(
    database: Database, settings: Settings, box: SecretBox, smtp_server: SmtpServer
) -> None:
    run(database, settings, box, add_alice(database, partner=None))
    send_all(database, settings)

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
    proposal_id = add_alice(
        database, reason=hostile, partner=f"carol@example.com\r\nBcc: {hostile}"
    )

    run(database, settings, box, proposal_id)
    send_all(database, settings)

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
    proposal_id = add_alice(database)
    connect_google(database, box, google_server)

    result = run(database, settings, box, proposal_id)

    (event,) = google_server.events(ALICE)
    assert result.outcome == "booked"
    assert event["id"] == result.event_id
    assert event["summary"] == "Career chat: Alice and Carol"
    assert [a["email"] for a in event["attendees"]] == [CAROL, ALICE]
    assert datetime.fromisoformat(event["start"]["dateTime"]) == START
    assert event["start"]["timeZone"] == "Europe/Berlin"
    assert "where you could move" not in event["description"]  # Carol sees the description
    (insert,) = google_server.calls("POST", r"/calendars/primary/events$")
    assert insert.query["sendUpdates"] == "all"
    assert stored(database, proposal_id).calendar_event_id == event["id"]
    assert outbox_count(database) == 0


def test_a_crash_after_the_google_insert_does_not_make_a_second_event(
    database: Database, settings: Settings, box: SecretBox, google_server: FakeGoogle
) -> None:
    proposal_id = add_alice(database)
    connect_google(database, box, google_server)
    with database.unit() as session:  # inserted at Google, then the worker dies: no commit
        book(session, settings, box, session.get_one(Proposal, proposal_id), datetime.now(UTC))
        session.rollback()

    result = run(database, settings, box, proposal_id)

    assert result.outcome == "booked"
    assert len(google_server.events(ALICE)) == 1
    assert stored(database, proposal_id).booked_at is not None


def test_a_revoked_google_grant_falls_back_to_invite_emails_and_tells_the_user(
    database: Database,
    settings: Settings,
    box: SecretBox,
    google_server: FakeGoogle,
    smtp_server: SmtpServer,
) -> None:
    proposal_id = add_alice(database)
    google_server.revoked.add(connect_google(database, box, google_server))

    result = run(database, settings, box, proposal_id)
    send_all(database, settings)

    assert result.outcome == "invited"
    assert google_server.events(ALICE) == []
    assert "withdrawn" in stored(database, proposal_id).booking_error
    messages = smtp_server.wait_for(2)
    text = addressed_to(messages, ALICE).get_body(("plain",)).get_content()
    assert "could not put this chat in your Google Calendar" in text
    assert "http://localhost/connect" in text
    invite_of(addressed_to(messages, CAROL))  # the chat still happens
