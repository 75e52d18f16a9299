"""Withdrawing a booked career chat: the Google event deleted, or an iTIP CANCEL emailed.

Claim first: one conditional UPDATE moves the proposal from accepted to withdrawn, so a second
click (or a second tab) changes nothing and cancels nothing twice. Google: the event is deleted
with sendUpdates=all, so Google tells the partner. Email: the CANCEL joins the outbox in the
claim's transaction, under the invite's UID and the next SEQUENCE, to the user and the partner.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.adapters import mail
from service.adapters.db import claim
from service.adapters.google import GoogleError, TransientGoogleError, delete_event
from service.adapters.secrets import SecretBox
from service.config import Settings
from service.engine.i18n import gettext as _
from service.engine.i18n import language
from service.models import OutboxEmail, Proposal, User
from service.models.proposals import ACCEPTED, chosen_slot
from service.proposals.answer import slot_label
from service.proposals.book import Chat, Role, build_invite, google_connection, invite_message_id
from service.sources.google import calendar_service

log = logging.getLogger(__name__)

WITHDRAWN = "withdrawn"

Outcome = Literal["withdrawn", "not_upcoming"]


def withdraw(
    session: Session, settings: Settings, box: SecretBox, proposal: Proposal, now: datetime
) -> Outcome:
    """Cancel a booked chat that has not started yet, once; the caller commits.

    A transient Google error rolls the claim back and raises: the user can try again.
    """
    slot = chosen_slot(proposal)
    if proposal.booked_at is None or slot is None or slot[0] <= now:
        return "not_upcoming"
    if not _claim(session, proposal):
        return "not_upcoming"
    session.refresh(proposal)
    chat = Chat(settings, proposal, session.get_one(User, proposal.user_id), slot, now)
    with language(chat.user.language):  # the partner's cancel too: the user's language
        if proposal.calendar_event_id:
            _delete_on_google(session, box, chat)
        else:
            _cancel_by_email(session, chat)
    return "withdrawn"


def _claim(session: Session, proposal: Proposal) -> bool:
    booked = (Proposal.status == ACCEPTED, Proposal.booked_at.is_not(None))
    return claim(session, Proposal, proposal.id, *booked, status=WITHDRAWN)


def _delete_on_google(session: Session, box: SecretBox, chat: Chat) -> None:
    """Delete the event from the user's primary calendar; Google tells the partner."""
    connection = google_connection(session, chat.user)
    if connection is None:  # disconnected since: the event can only be removed by hand
        chat.proposal.booking_error = _("Google Calendar is no longer connected")
        return
    try:
        service = calendar_service(chat.settings, box, connection)
        delete_event(service, "primary", chat.proposal.calendar_event_id, send_updates="all")
    except TransientGoogleError:
        session.rollback()  # releases the claim: the chat stays booked until a retry works
        raise
    except GoogleError as error:  # revoked or refused for good: withdrawn here all the same
        log.warning("proposal %s withdrawn but not deleted on Google: %s", chat.proposal.id, error)
        chat.proposal.booking_error = _("the event could not be removed from Google Calendar")


def _cancel_by_email(session: Session, chat: Chat) -> None:
    """Queue the CANCEL at the next SEQUENCE to the user and the partner."""
    chat.proposal.invite_sequence += 1
    roles: list[Role] = ["user", "partner"] if chat.partner else ["user"]
    for role in roles:
        _queue_cancel(session, chat, role)


def _queue_cancel(session: Session, chat: Chat, role: Role) -> OutboxEmail:
    organizer, partner = chat.organizer, chat.partner
    tz = chat.user.zone
    return mail.queue(
        session,
        chat.settings,
        kind="invite_cancel",
        to=partner.email if partner and role == "partner" else organizer.email,
        context={
            "role": role,
            "user": organizer.name,
            "partner": partner.name if partner else "",
            "when": slot_label(chat.slot, tz),
            "tz": tz.key,
        },
        user_id=chat.user.id,
        headers={"Reply-To": organizer.email} if role == "partner" else None,
        # The sequence is in the Message-ID: the cancel never collides with the invite.
        message_id=invite_message_id(chat.settings, chat.proposal, role),
        calendar=build_invite(chat, shared=role == "partner", method="CANCEL"),
    )


def unsent_cancels(session: Session, settings: Settings, proposal: Proposal) -> list[int]:
    """Return the ids of this proposal's cancel emails that no sender has claimed yet."""
    ids = [invite_message_id(settings, proposal, role) for role in ("user", "partner")]
    query = select(OutboxEmail.id).where(OutboxEmail.message_id.in_(ids))
    query = query.where(OutboxEmail.kind == "invite_cancel", OutboxEmail.claimed_at.is_(None))
    return list(
        session.scalars(query.where(OutboxEmail.sent_at.is_(None)).order_by(OutboxEmail.id))
    )


def booked_upcoming(session: Session, user_id: int, now: datetime) -> list[Proposal]:
    """Return the user's booked chats that have not started yet, soonest first."""
    query = select(Proposal).where(Proposal.user_id == user_id, Proposal.status == ACCEPTED)
    query = query.where(Proposal.booked_at.is_not(None), Proposal.chosen_start > now)
    return list(session.scalars(query.order_by(Proposal.chosen_start, Proposal.id)))
