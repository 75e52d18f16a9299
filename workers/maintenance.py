"""Housekeeping jobs: book what was accepted but never booked, and purge what is past retention."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from service import clock
from service.account import retention
from service.models import Proposal
from service.models.proposals import ACCEPTED
from workers.enqueue import enqueue_booking
from workers.runtime import current

log = logging.getLogger(__name__)

QUEUE = "maintenance"


def sweep_bookings() -> int:
    """Enqueue the booking of every accepted proposal not booked yet (periodic); return how many.

    The answer page enqueues the booking itself; this catches the ones whose enqueue failed
    (Redis away) or whose job gave up after its retries.
    """
    runtime = current()
    with runtime.database.unit() as session:
        proposal_ids = unbooked(session, clock.now())
    for proposal_id in proposal_ids:
        enqueue_booking(runtime.settings, proposal_id)
    if proposal_ids:
        log.info("booking sweep: %d accepted proposals to book", len(proposal_ids))
    return len(proposal_ids)


def unbooked(session: Session, now: datetime) -> list[int]:
    """Return the accepted proposals not booked yet whose chosen time has not passed."""
    query = select(Proposal.id).where(Proposal.status == ACCEPTED, Proposal.booked_at.is_(None))
    # A chat whose time has passed is not worth booking any more; one without a time is, so
    # that booking records why it could not be made.
    query = query.where(or_(Proposal.chosen_start.is_(None), Proposal.chosen_start > now))
    return list(session.scalars(query.order_by(Proposal.id)))


def purge() -> dict[str, int]:
    """Delete what is past its retention window (periodic); return how many rows of each kind."""
    runtime = current()
    with runtime.database.unit() as session:
        counts = retention.purge(session, clock.now())
    log.info("purge: %s", ", ".join(f"{count} {kind}" for kind, count in counts.items()))
    return counts
