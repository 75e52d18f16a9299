"""Reflection emails from the workers: a dispatcher every 15 minutes, a job per user with one due.

The email about a chat goes once whatever runs twice: its Message-ID is stable per user and chat,
and service.reflections.ask checks the outbox under a write on the user's row before queueing.
Reflections share the "proposals" queue: both are nudges about career conversations.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from service import clock
from service.adapters import mail
from service.adapters.redis import enqueue_many_once, queue_for
from service.config import Settings
from service.models import OutboxEmail, Proposal, StoredOccurrence, User
from service.models.proposals import ACCEPTED
from service.reflections.ask import BOOKED_WINDOW, CHAT, message_id, queue_reflections
from workers.proposals import QUEUE, hand_over
from workers.runtime import current

log = logging.getLogger(__name__)

# Meetings that ended this long ago are looked at by a dispatch: two runs' worth (every 15
# minutes), so a late run misses none; the user's job looks back DETECTED_WINDOW itself.
ENDED_LATELY = timedelta(minutes=30)


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
        user_ids = users_with_reflections_due(session, runtime.settings, now)
    queue = queue_for(runtime.settings.redis_url, QUEUE)
    calls = [(f"reflect-{user_id}", (user_id,)) for user_id in user_ids]
    added = enqueue_many_once(queue, reflect_for_user, calls) if calls else 0
    if user_ids:
        log.info("reflection dispatch: %d of %d users enqueued", added, len(user_ids))
    return added


def users_with_reflections_due(session: Session, settings: Settings, now: datetime) -> list[int]:
    """Return the users not paused, nudges wanted, with a chat to ask about; a few queries in all.

    A booked chat ended within BOOKED_WINDOW and not asked about yet (its stable Message-ID is
    not in the outbox), or a timed meeting that ended since about the last dispatch: whether
    that was a career conversation is the user's job to find out (it classifies the day), so
    the dispatcher reads only the rows that ended lately (ix_occurrences_timed_end,
    ix_proposals_accepted_start), never one query per user.
    """
    wanted = and_(
        User.weekly_nudges > 0, or_(User.paused_until.is_(None), User.paused_until <= now)
    )
    ended = (
        select(StoredOccurrence.user_id)
        .join(User, User.id == StoredOccurrence.user_id)
        .where(~StoredOccurrence.all_day)  # as ix_occurrences_timed_end's condition reads
        .where(StoredOccurrence.end > now - ENDED_LATELY, StoredOccurrence.end <= now, wanted)
    )
    found = set(session.scalars(ended.distinct()))
    booked = _booked_not_asked(session, settings, now) - found
    if booked:
        found.update(session.scalars(select(User.id).where(User.id.in_(booked), wanted)))
    return sorted(found)


def _booked_not_asked(session: Session, settings: Settings, now: datetime) -> set[int]:
    query = select(Proposal.id, Proposal.user_id).where(
        Proposal.status == ACCEPTED,
        Proposal.chosen_start > now - BOOKED_WINDOW,
        Proposal.chosen_start < now - CHAT,
    )
    domain = mail.domain(settings)
    # The Message-ID names the user and the chat (service.reflections.ask.message_id).
    wanted = {
        message_id(User(id=user_id), f"proposal:{proposal_id}", domain): user_id
        for proposal_id, user_id in session.execute(query)
    }
    if not wanted:
        return set()
    asked = select(OutboxEmail.message_id).where(OutboxEmail.message_id.in_(wanted))
    done = set(session.scalars(asked))
    return {user_id for mid, user_id in wanted.items() if mid not in done}
