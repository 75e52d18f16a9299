"""Proposing a career chat when one is due: at most one open proposal, and one email for it.

The dashboard's button calls this now; the periodic planner (workers) will call the same function.
Two planners racing for one user are serialised by a write on the user's row taken first in the
transaction (a row lock on PostgreSQL, the database write lock on SQLite): the second waits until
the first commits, then sees its proposal open and creates nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.adapters import mail
from service.adapters.db import hold
from service.adapters.links import LinkInvalid, Purpose, read_user_token, user_token
from service.adapters.secrets import SecretBox
from service.config import Settings
from service.engine import dates
from service.engine.i18n import gettext as _
from service.engine.i18n import language
from service.engine.model import Proposal as Suggestion
from service.engine.people import clean, display_name
from service.engine.plan import Plan
from service.models import OutboxEmail, Proposal, User
from service.models.proposals import PROPOSED, offered_slots
from service.proposals.answer import proposal_link, slot_label
from service.sources.calendar import HORIZON_DAYS, plan_for_user
from service.sources.freebusy import partner_busy

WEEK = timedelta(days=7)
REASON_CHARS = 500  # the proposals.reason column
TOPIC_CHARS = 80  # the proposals.topic column
# No expiry: an unsubscribe link must keep working as long as the emails it came in.
UNSUBSCRIBE_LINK = Purpose("unsubscribe")
# A pause "until you resume" is stored as a date no planner reaches.
FOREVER_YEAR = 9999

SENT = "sent"
NOT_DUE = "not_due"
PAUSED = "paused"
BUDGET_USED = "budget_used"
NO_FREE_SLOT = "no_free_slot"
ALREADY_OPEN = "already_open"


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one round of proposing did: a proposal and its email, or why there is none."""

    reason: str
    why: str = ""
    proposal: Proposal | None = None
    email: OutboxEmail | None = None


def propose(session: Session, settings: Settings, user: User, now: datetime) -> Proposal | None:
    """Create and queue one proposal when a chat is due and none is open; the caller commits."""
    return attempt(session, settings, user, now).proposal


def attempt(
    session: Session, settings: Settings, user: User, now: datetime, box: SecretBox | None = None
) -> Attempt:
    """Propose like propose(), and say why nothing was proposed; the caller commits."""
    hold(session, User, user.id)
    session.refresh(user)  # what the settings say now, not when the caller loaded them
    with language(user.language):  # its reason and its why-not are read by the user
        return _attempt(session, settings, user, now, box)


def _attempt(
    session: Session, settings: Settings, user: User, now: datetime, box: SecretBox | None
) -> Attempt:
    blocked = _blocked(session, user, now)
    if blocked is not None:
        return blocked
    plan = plan_for_user(session, user, now)
    if not plan.cadence.due:
        return Attempt(NOT_DUE, _("your next career conversation is not due yet."))
    plan = _around_partner(session, settings, box, user, plan)
    if not plan.proposals:
        why = _(
            "no free 15 minutes in your working hours in the next %(days)s days.",
            days=HORIZON_DAYS,
        )
        return Attempt(NO_FREE_SLOT, why)
    proposal = _store(session, user, plan.proposals, now, topic=_topic(plan))
    return Attempt(SENT, proposal=proposal, email=queue_email(session, settings, user, proposal))


def _around_partner(
    session: Session, settings: Settings, box: SecretBox | None, user: User, plan: Plan
) -> Plan:
    """Plan again around the partner's busy times, when their calendar can be seen."""
    email = plan.partner.email if plan.partner else None
    if not email:
        return plan
    box, window = box or SecretBox(settings.encryption_keys), plan.window
    busy = partner_busy(session, settings, box, user, email, window.start, window.end)
    return plan_for_user(session, user, window.start, extra_busy=busy) if busy else plan


def _blocked(session: Session, user: User, now: datetime) -> Attempt | None:
    """Return why the user gets no proposal now (paused, one open, budget used), or None."""
    if user.paused_until is not None and user.paused_until > now:
        return Attempt(PAUSED, _("proposals are paused %(until)s.", until=_until(user)))
    if open_proposal(session, user.id, now) is not None:
        return Attempt(ALREADY_OPEN, _("a proposal is already open: answer it first."))
    if user.weekly_nudges <= 0:
        return Attempt(BUDGET_USED, _("you asked for no proposals (0 a week, in Settings)."))
    if _made_this_week(session, user.id, now) >= user.weekly_nudges:
        budget = (
            _("%(count)s a week", count=user.weekly_nudges)
            if user.weekly_nudges > 1
            else _("one a week")
        )
        return Attempt(
            BUDGET_USED,
            _("this week's proposals are used (%(budget)s, in Settings).", budget=budget),
        )
    return None


def _until(user: User) -> str:
    until = user.paused_until
    if until is None or until.year >= FOREVER_YEAR:
        return _("until you resume")
    return _("until %(day)s", day=dates.short_date(until.astimezone(user.zone)))


def open_proposal(session: Session, user_id: int, now: datetime) -> Proposal | None:
    """Return the user's proposal still waiting for an answer, if there is one."""
    query = select(Proposal).where(
        Proposal.user_id == user_id, Proposal.status == PROPOSED, Proposal.expires_at > now
    )
    return session.scalars(query.order_by(Proposal.id).limit(1)).first()


def _made_this_week(session: Session, user_id: int, now: datetime) -> int:
    query = select(func.count(Proposal.id)).where(
        Proposal.user_id == user_id, Proposal.created_at > now - WEEK
    )
    return session.scalar(query) or 0


def _topic(plan: Plan) -> str:
    """Return what the user and the partner work on together, for the partner's invite."""
    person = plan.people.get(plan.partner.email) if plan.partner and plan.partner.email else None
    return clean(person.topics[0], TOPIC_CHARS) if person and person.topics else ""


def _store(
    session: Session,
    user: User,
    suggestions: tuple[Suggestion, ...],
    now: datetime,
    *,
    topic: str = "",
) -> Proposal:
    """Store the slots as one proposal, open until its last time starts, a week at most."""
    first = suggestions[0]  # the slot the reason speaks of comes first
    last = max(suggestions, key=lambda s: s.start.astimezone(UTC))
    proposal = Proposal(
        user_id=user.id,
        partner=_partner(first.partner),
        reason=clean(first.reason, REASON_CHARS),
        topic=topic,
        slots=[[_utc_iso(s.start), _utc_iso(s.end)] for s in suggestions],
        status=PROPOSED,
        created_at=now,
        expires_at=min(last.start, now + WEEK).astimezone(UTC),
    )
    session.add(proposal)
    session.flush()  # the id and creation time sign the links
    return proposal


def _partner(email: str | None) -> str | None:
    # The partner gets the invite later: keep only an address mail can go to.
    return email.lower() if email and mail.is_plain_address(email) else None


def _utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


# The email ----------------------------------------------------------------------------------


def queue_email(
    session: Session, settings: Settings, user: User, proposal: Proposal
) -> OutboxEmail:
    """Queue the proposal email: each time with its Accept link, Decline, Other times, prep."""
    with language(user.language):
        context = email_context(settings, user, proposal)
        unsubscribe = unsubscribe_url(settings, user)
        return mail.queue_to(session, settings, user, "proposal", context, unsubscribe=unsubscribe)


def email_context(settings: Settings, user: User, proposal: Proposal) -> dict[str, Any]:
    """Return what the proposal email shows, times in the user's zone."""
    page, tz = proposal_link(settings, proposal), user.zone
    slots = [
        {"label": slot_label(slot, tz), "accept_url": f"{page}?slot={number}"}
        for number, slot in enumerate(offered_slots(proposal), start=1)
    ]
    return {
        "partner": display_name(proposal.partner),
        "reason": proposal.reason,
        "slots": slots,
        "tz": tz.key,
        "decline_url": f"{page}?answer=decline",
        "other_times_url": f"{page}?answer=other_times",
        "goal": clean(user.goal, 200),
    }


# Unsubscribing: the signed link in every proposal email --------------------------------------


def unsubscribe_token(secret_key: str, user: User) -> str:
    """Return the signed token that unsubscribes this user from proposal emails."""
    return user_token(UNSUBSCRIBE_LINK, secret_key, user, list="proposals")


def unsubscribe_url(settings: Settings, user: User) -> str:
    """Return the absolute one-click unsubscribe address for this user."""
    return f"{settings.base_url}/unsubscribe/{unsubscribe_token(settings.secret_key, user)}"


def user_from_unsubscribe_token(session: Session, secret_key: str, token: str) -> User:
    """Return the user a token names, or raise LinkInvalid."""
    user, claims = read_user_token(UNSUBSCRIBE_LINK, session, secret_key, token)
    if claims.get("list") != "proposals":
        raise LinkInvalid
    return user


def unsubscribe(user: User) -> None:
    """Stop proposal emails for this user (a weekly budget of 0); the caller commits."""
    user.weekly_nudges = 0
