"""Reflection emails from the workers: a dispatcher every 15 minutes, a job per user with one due.

The email about a chat goes once whatever runs twice: its Message-ID is stable per user and chat,
and service.reflections.ask checks the outbox under a write on the user's row before queueing.
Reflections share the "proposals" queue: both are nudges about career conversations.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from service import clock
from service.adapters.redis import enqueue_once, queue_for
from service.models import Proposal, StoredOccurrence, User
from service.models.proposals import ACCEPTED
from service.reflections.ask import (
    BOOKED_WINDOW,
    DETECTED_WINDOW,
    due_reflections,
    queue_reflections,
)
from workers.proposals import QUEUE, hand_over
from workers.runtime import current

log = logging.getLogger(__name__)


def reflect_for_user(user_id: int) -> int:
    """Queue and hand over the user's reflection emails now due; return how many."""
    runtime = current()
    with runtime.database.unit() as session:
        user = session.get(User, user_id)
        if user is None:
            return 0  # the account was deleted since the dispatch
        emails = queue_reflections(session, runtime.settings, user, clock.now())
        outbox_ids = [email.id for email in emails]
    for outbox_id in outbox_ids:
        hand_over(runtime.settings, outbox_id)
    return len(outbox_ids)


def dispatch_reflections() -> int:
    """Enqueue reflect_for_user for every user with a reflection due (every 15 minutes)."""
    return dispatch_at(clock.now())


def dispatch_at(now: datetime) -> int:
    """Dispatch as the periodic job does at this moment; return how many jobs were added."""
    runtime = current()
    with runtime.database.unit() as session:
        user_ids = users_with_reflections_due(session, now)
    queue = queue_for(runtime.settings.redis_url, QUEUE)
    added = sum(enqueue_once(queue, f"reflect-{u}", reflect_for_user, u)[1] for u in user_ids)
    if user_ids:
        log.info("reflection dispatch: %d of %d users enqueued", added, len(user_ids))
    return added


def users_with_reflections_due(session: Session, now: datetime) -> list[int]:
    """Return the users not paused, nudges wanted, with a chat ended lately not asked about yet."""
    booked = exists().where(
        Proposal.user_id == User.id,
        Proposal.status == ACCEPTED,
        Proposal.chosen_start > now - BOOKED_WINDOW,
        Proposal.chosen_start < now,
    )
    ended = exists().where(
        StoredOccurrence.user_id == User.id,
        StoredOccurrence.end > now - DETECTED_WINDOW,
        StoredOccurrence.end <= now,
    )
    query = (
        select(User)
        .where(or_(User.paused_until.is_(None), User.paused_until <= now))
        .where(User.weekly_nudges > 0, or_(booked, ended))
        .order_by(User.id)
    )
    # Classifying a day of one user's calendar is cheap; a job per user is not, so only users
    # with something to ask about get one.
    return [user.id for user in session.scalars(query) if due_reflections(session, user, now)]
