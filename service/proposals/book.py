"""Booking an accepted proposal: an event in the user's Google Calendar, or an iTIP invite by email.

Claim first: one conditional UPDATE sets booked_at while it is NULL, in the caller's transaction;
only the caller that changed the row goes on. Google: the event is inserted under an id derived
from the proposal before the claim commits, so a crash rolls the claim back and the retry's insert
finds the event (409) instead of making a second. Email: the invites join the outbox in the claim's
transaction, under Message-IDs stable per proposal and SEQUENCE, and each is claimed before sending.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import icalendar
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.adapters import mail
from service.adapters.db import claim
from service.adapters.google import (
    CredentialsRevoked,
    GoogleError,
    TransientGoogleError,
    event_id_for,
    insert_event,
)
from service.adapters.secrets import SecretBox
from service.config import Settings
from service.engine.i18n import gettext as _
from service.engine.i18n import language
from service.engine.people import clean, display_name
from service.models import Connection, OutboxEmail, Proposal, User
from service.models.proposals import ACCEPTED, Slot, chosen_slot
from service.proposals.answer import slot_label
from service.sources.google import calendar_service

log = logging.getLogger(__name__)

Outcome = Literal["booked", "invited", "already_booked", "not_accepted", "no_time"]
Role = Literal["user", "partner"]
Method = Literal["REQUEST", "CANCEL"]
PRODID = "-//Touchpoint//Career chat//EN"
REASON_CHARS = 500
TOPIC_CHARS = 80
_RSVP = {"ROLE": "REQ-PARTICIPANT", "PARTSTAT": "NEEDS-ACTION", "RSVP": "TRUE"}


@dataclass(frozen=True, slots=True)
class BookingResult:
    """What booking did: put the event in Google Calendar, queued the invite emails, or nothing."""

    outcome: Outcome
    event_id: str = ""


@dataclass(frozen=True, slots=True)
class Person:
    """Someone on the invite: an address and the name shown for it."""

    email: str
    name: str


@dataclass(frozen=True, slots=True)
class Chat:
    """The chat being booked: its proposal and user, the chosen time, and when it is booked."""

    settings: Settings
    proposal: Proposal
    user: User
    slot: Slot
    now: datetime

    @property
    def organizer(self) -> Person:
        return Person(self.user.email, display_name(self.user.email))

    @property
    def partner(self) -> Person | None:
        """Return the partner when the proposal names one plain address mail can go to."""
        email = self.proposal.partner or ""
        return Person(email, display_name(email)) if mail.is_plain_address(email) else None

    @property
    def summary(self) -> str:
        """Return the title: "Career chat: Alice and Carol" (just Alice for a hold)."""
        if self.partner is None:
            return clean(_("Career chat: %(name)s", name=self.organizer.name), 200)
        names = {"name": self.organizer.name, "other": self.partner.name}
        return clean(_("Career chat: %(name)s and %(other)s", **names), 200)


def book(
    session: Session, settings: Settings, box: SecretBox, proposal: Proposal, now: datetime
) -> BookingResult:
    """Book an accepted proposal once; the caller commits (a transient Google error rolls back)."""
    if not _claim(session, proposal, now):
        session.refresh(proposal)
        return BookingResult("already_booked" if proposal.booked_at else "not_accepted")
    session.refresh(proposal)
    slot = chosen_slot(proposal)
    if slot is None:  # accepted without a time we offered: nothing to book, and say why
        proposal.booking_error = _("the chosen time is not one of the times offered")
        return BookingResult("no_time")
    chat = Chat(settings, proposal, session.get_one(User, proposal.user_id), slot, now)
    # The event's title and notes, and both emails, in the user's language: the partner's too,
    # as nothing better is known of them.
    with language(chat.user.language):
        return _book(session, box, chat)


def _book(session: Session, box: SecretBox, chat: Chat) -> BookingResult:
    proposal = chat.proposal
    connection = google_connection(session, chat.user)
    if connection is not None:
        try:
            return _book_on_google(box, connection, chat)
        except TransientGoogleError:
            session.rollback()  # releases the claim: RQ's retry books it later
            raise
        except GoogleError as error:  # revoked, refused for good: the email still goes
            log.warning("proposal %s not booked on Google, emailing it: %s", proposal.id, error)
            proposal.booking_error = _why_not_google(error)
    return _invite_by_email(session, chat)


def _claim(session: Session, proposal: Proposal, now: datetime) -> bool:
    unbooked = (Proposal.status == ACCEPTED, Proposal.booked_at.is_(None))
    return claim(session, Proposal, proposal.id, *unbooked, booked_at=now)


def google_connection(session: Session, user: User) -> Connection | None:
    """Return the user's working Google connection, if they have one."""
    query = select(Connection).where(Connection.user_id == user.id, Connection.kind == "google")
    return session.scalars(query.where(Connection.status == "ok").order_by(Connection.id)).first()


def _book_on_google(box: SecretBox, connection: Connection, chat: Chat) -> BookingResult:
    """Insert the event on the user's primary calendar; Google emails the partner the invite."""
    service = calendar_service(chat.settings, box, connection)
    event_id = event_id_for(f"proposal:{_key(chat.proposal)}")
    insert_event(service, "primary", event_id, event_body(chat), send_updates="all")
    chat.proposal.calendar_event_id = event_id
    return BookingResult("booked", event_id=event_id)


def event_body(chat: Chat) -> dict[str, Any]:
    """Return the Google event: 15 minutes, the partner invited, the user's default reminders."""
    zone, partner = chat.user.zone.key, chat.partner
    guests = [{"email": partner.email}] if partner else []
    return {
        "summary": chat.summary,
        "description": description(chat, shared=True),
        "start": {"dateTime": chat.slot[0].isoformat(), "timeZone": zone},
        "end": {"dateTime": chat.slot[1].isoformat(), "timeZone": zone},
        "attendees": [*guests, {"email": chat.user.email, "responseStatus": "accepted"}],
        "reminders": {"useDefault": True},
    }


def _why_not_google(error: GoogleError) -> str:
    """Say in a few words for the user why the event is not in their Google Calendar."""
    if isinstance(error, CredentialsRevoked):
        return _("Touchpoint's access to it was withdrawn or has expired")
    code = error.status or error.reason or "error"
    return _("Google Calendar refused the event (%(code)s)", code=code)


def _invite_by_email(session: Session, chat: Chat) -> BookingResult:
    """Queue the invite to the user and to the partner, with the event as text/calendar."""
    roles: list[Role] = ["user", "partner"] if chat.partner else ["user"]
    for role in roles:
        _queue_invite(session, chat, role)
    return BookingResult("invited")


def _queue_invite(session: Session, chat: Chat, role: Role) -> OutboxEmail:
    organizer, partner = chat.organizer, chat.partner
    row = mail.queue(
        session,
        chat.settings,
        kind="invite",
        to=partner.email if partner and role == "partner" else organizer.email,
        context=_email_context(chat, role),
        user_id=chat.user.id,
        headers={"Reply-To": organizer.email} if role == "partner" else None,
        # Stable per proposal, sequence and recipient: the unique column refuses a second copy.
        message_id=invite_message_id(chat.settings, chat.proposal, role),
        calendar=build_invite(chat, shared=role == "partner"),
    )
    return row


def _email_context(chat: Chat, role: Role) -> dict[str, Any]:
    tz, partner, mine = chat.user.zone, chat.partner, role == "user"
    return {
        "role": role,
        "user": chat.organizer.name,
        "partner": partner.name if partner else "",
        "when": slot_label(chat.slot, tz),
        "tz": tz.key,
        "reason": clean(chat.proposal.reason, REASON_CHARS) if mine else "",
        "for_partner": "" if mine else partner_line(chat),
        "google_problem": chat.proposal.booking_error if mine else "",
    }


def unsent_invites(session: Session, settings: Settings, proposal: Proposal) -> list[int]:
    """Return the ids of this proposal's invite emails that no sender has claimed yet."""
    ids = [invite_message_id(settings, proposal, role) for role in ("user", "partner")]
    query = select(OutboxEmail.id).where(OutboxEmail.message_id.in_(ids))
    query = query.where(OutboxEmail.claimed_at.is_(None), OutboxEmail.sent_at.is_(None))
    return list(session.scalars(query.order_by(OutboxEmail.id)))


def invite_uid(settings: Settings, proposal: Proposal) -> str:
    """Return the event's UID: the same for every version of this proposal's invite."""
    return f"proposal-{_key(proposal)}@{mail.domain(settings)}"


def invite_message_id(settings: Settings, proposal: Proposal, role: Role) -> str:
    """Return the Message-ID of one recipient's copy of the invite at its current SEQUENCE."""
    return f"<invite.{_key(proposal)}.{proposal.invite_sequence}.{role}@{mail.domain(settings)}>"


def build_invite(chat: Chat, *, shared: bool, method: Method = "REQUEST") -> str:
    """Return the chat as an iTIP message (RFC 5546); icalendar escapes every text value.

    shared: the partner's copy, without the reason meant for the user.
    """
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = icalendar.Event()
    event.add("uid", invite_uid(chat.settings, chat.proposal))
    event.add("sequence", chat.proposal.invite_sequence)
    event.add("dtstamp", chat.now)
    event.add("dtstart", chat.slot[0])
    event.add("dtend", chat.slot[1])
    event.add("summary", chat.summary)
    event.add("description", description(chat, shared=shared))
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    event.add("transp", "OPAQUE")
    event.add("organizer", _address(chat.organizer, {}))
    for person in [chat.partner, chat.organizer] if chat.partner else [chat.organizer]:
        event.add("attendee", _address(person, _RSVP))
    calendar.add_component(event)
    return calendar.to_ical().decode()


def _address(person: Person, params: dict[str, str]) -> icalendar.vCalAddress:
    address = icalendar.vCalAddress(f"mailto:{person.email}")
    if name := person.name.replace('"', ""):  # display_name cleaned it already
        address.params["CN"] = name
    address.params.update(params)
    return address


def partner_line(chat: Chat) -> str:
    """Return the one line the partner reads: what the chat is about, and that it is short."""
    topic = clean(chat.proposal.topic, TOPIC_CHARS)
    if topic:
        return _(
            "A 15-minute career chat: %(name)s would value your view, from your work together "
            "on %(topic)s, on what they do well and what to grow next. Nothing to prepare.",
            name=chat.organizer.name,
            topic=topic,
        )
    return _(
        "A 15-minute career chat: %(name)s would value your view on what they do well and what "
        "to grow next. Nothing to prepare.",
        name=chat.organizer.name,
    )


def description(chat: Chat, *, shared: bool) -> str:
    """Return the event's notes: why this person and two prep questions (the user's copy), or
    one line for the partner.

    The reason and the questions speak to the user about their own career ("works on another
    team and can show you where you could move"): they stay out of what the partner sees.
    """
    partner, reason = chat.partner, clean(chat.proposal.reason, REASON_CHARS)
    if shared and partner is not None:
        return partner_line(chat)
    them = partner.name if partner else _("the other person")
    lines = [_("Why now: %(reason)s", reason=reason), ""] if reason else []
    if partner is None:
        lines += [_("No partner was suggested: this is a hold in your calendar."), ""]
    lines += [_("15 minutes is enough if you prepare. Before you meet, think about two things:")]
    lines += [
        "1. " + _("How can I add value for %(other)s?", other=them),
        "2. " + _("What is one insight I'd like from %(other)s?", other=them),
    ]
    return "\n".join(lines)


def _key(proposal: Proposal) -> str:
    # Ids can come back after a deletion (SQLite): the creation time keeps the key unique.
    return f"{proposal.id}-{int(proposal.created_at.timestamp())}"
