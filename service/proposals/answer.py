"""Proposals answered from a signed link: no sign-in needed, single use, expiring.

The link carries the proposal's id signed with the app secret; single use is enforced by the
database, in one conditional UPDATE that only moves a proposal out of "proposed".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.orm import Session

from service.adapters.db import claim
from service.adapters.links import LinkExpired, LinkInvalid, Purpose
from service.config import Settings
from service.engine.dates import time_span
from service.models import Proposal, User
from service.models.proposals import (
    ACCEPTED,
    DECLINED,
    OTHER_TIMES,
    PROPOSED,
    Slot,
    as_utc,
    offered_slots,
)

# The max age is a backstop only: the proposal's own expires_at closes it long before.
LINK = Purpose("proposal", max_age=60 * 60 * 24 * 60)

Action = Literal["accept", "decline", "other_times"]
_STATUS_OF: dict[str, str] = {"accept": ACCEPTED, "decline": DECLINED, "other_times": OTHER_TIMES}


class AlreadyAnswered(Exception):
    """The proposal was answered before (from this link or another device)."""

    def __init__(self, proposal: Proposal) -> None:
        super().__init__(f"proposal {proposal.id} is already {proposal.status}")
        self.proposal = proposal


class SlotNotOffered(ValueError):
    """The chosen time is not one of the open slots of this proposal."""


@dataclass(frozen=True, slots=True)
class Choice:
    """What the person answered: a slot to book, a decline, or a wish for other times."""

    action: Action
    start: datetime | None = None


def proposal_link(settings: Settings, proposal: Proposal) -> str:
    """Return the absolute accept link for a stored (flushed) proposal."""
    return f"{settings.base_url}/p/{link_token(settings.secret_key, proposal)}"


def link_token(secret_key: str, proposal: Proposal) -> str:
    """Return the signed token that names this proposal."""
    return LINK.sign(secret_key, _claims(proposal))


def proposal_from_token(session: Session, secret_key: str, token: str) -> Proposal:
    """Return the proposal a token names, or raise LinkInvalid / LinkExpired."""
    claims = LINK.read(secret_key, token)
    proposal_id = claims.get("id")
    proposal = session.get(Proposal, proposal_id) if isinstance(proposal_id, int) else None
    # Ids can be reused after a deletion (SQLite): the owner and creation time must match too.
    if proposal is None or _claims(proposal) != claims:
        raise LinkInvalid
    return proposal


def _claims(proposal: Proposal) -> dict[str, Any]:
    if proposal.id is None or proposal.created_at is None:
        raise ValueError("a proposal gets a link once it is stored (flush it first)")
    made = int(proposal.created_at.timestamp())
    return {"id": proposal.id, "user": proposal.user_id, "made": made}


def open_slots(proposal: Proposal, now: datetime) -> list[Slot]:
    """Return the offered slots that have not started yet."""
    return [slot for slot in offered_slots(proposal) if slot[0] > now]


def is_open(proposal: Proposal, now: datetime) -> bool:
    """Say whether the proposal can still be answered."""
    if proposal.status != PROPOSED or proposal.expires_at <= now:
        return False
    return bool(open_slots(proposal, now))


def answer(session: Session, proposal: Proposal, choice: Choice, now: datetime) -> Proposal:
    """Record the answer once; raise AlreadyAnswered, LinkExpired or SlotNotOffered otherwise.

    The caller commits.
    """
    if proposal.status != PROPOSED:
        raise AlreadyAnswered(proposal)
    if not is_open(proposal, now):
        raise LinkExpired
    start = _chosen_start(proposal, choice, now)
    still_open = (Proposal.status == PROPOSED, Proposal.expires_at > now)
    answered = {"status": _STATUS_OF[choice.action], "chosen_start": start, "answered_at": now}
    changed = claim(session, Proposal, proposal.id, *still_open, **answered)
    session.refresh(proposal)
    if not changed:
        raise AlreadyAnswered(proposal) if proposal.status != PROPOSED else LinkExpired
    # Any answer shows the proposals are read: the count toward an auto-pause starts again.
    session.execute(update(User).where(User.id == proposal.user_id).values(ignored_proposals=0))
    return proposal


def _chosen_start(proposal: Proposal, choice: Choice, now: datetime) -> datetime | None:
    if choice.action != "accept":
        return None
    starts = [start for start, _end in open_slots(proposal, now)]
    if choice.start is None or as_utc(choice.start) not in starts:
        raise SlotNotOffered("that time is not one of the times offered")
    return as_utc(choice.start)


def slot_label(slot: Slot, tz: ZoneInfo) -> str:
    """Return a slot as people read it, "Wed 4 Mar 13:05-13:20" (en dash), in their zone and the
    current language."""
    return time_span(slot[0].astimezone(tz), slot[1].astimezone(tz))
