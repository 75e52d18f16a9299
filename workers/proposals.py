"""Proposing from the workers: an hourly dispatcher and one job per user on a weekday morning.

The dispatcher first closes proposals that expired unanswered (three in a row pause proposals,
and the user is told), then enqueues propose_for_user for each user whose local time is between
08:00 and 09:00 on one of their working days, so a proposal arrives with the morning's mail. The
job id names the user and their local date: dispatching twice the same morning adds nothing, and
service.proposals.propose allows one open proposal and the weekly budget whatever runs.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time

from rq import Queue
from rq.exceptions import DuplicateJobError
from sqlalchemy import exists, or_, select, text
from sqlalchemy.orm import Session

from service import clock
from service.adapters.redis import QueueUnavailable, queue_for
from service.config import Settings
from service.models import Connection, User
from service.proposals.pause import expire_proposals, queue_paused_email
from service.proposals.propose import attempt
from workers.email import enqueue_email
from workers.runtime import current

log = logging.getLogger(__name__)

QUEUE = "proposals"
# Until 09:05, not 09:00: an hourly tick that drifts by seconds must not skip a morning; two
# ticks inside the window add one job, as the job id names the user's local date.
MORNING = (time(8, 0), time(9, 5))
# The job id stays taken the whole local day, so a second dispatch that morning adds nothing.
KEEP_DAY = 24 * 60 * 60


def propose_for_user(user_id: int) -> str:
    """Propose a chat to one user if one is due and allowed; return why, or "sent"."""
    runtime = current()
    with runtime.database.unit() as session:
        user = session.get(User, user_id)
        if user is None:
            return "gone"  # the account was deleted since the dispatch
        result = attempt(session, runtime.settings, user, clock.now(), box=runtime.box)
        outbox_id = result.email.id if result.email is not None else None
    if outbox_id is not None:
        hand_over(runtime.settings, outbox_id)
    log.info("proposals for user %s: %s", user_id, result.reason)
    return result.reason


def dispatch_proposals() -> int:
    """Expire ignored proposals, then enqueue this hour's morning proposals (hourly)."""
    return dispatch_at(clock.now())


def dispatch_at(now: datetime) -> int:
    """Dispatch as the hourly job does at this moment; return how many jobs were added."""
    runtime = current()
    with runtime.database.unit() as session:
        paused = expire_proposals(session, now)
        notices = [queue_paused_email(session, runtime.settings, user).id for user in paused]
        due = morning_users(session, now)
    for outbox_id in notices:
        hand_over(runtime.settings, outbox_id)
    queue = queue_for(runtime.settings.redis_url, QUEUE)
    added = sum(_enqueue_morning(queue, user_id, day) for user_id, day in due)
    log.info("proposal dispatch: %d paused, %d of %d users enqueued", len(paused), added, len(due))
    return added


def morning_users(session: Session, now: datetime) -> list[tuple[int, date]]:
    """Return (user id, local date) for each user who may get a proposal and whose morning it is.

    That is: not paused, proposals wanted, a working calendar connection, and a local time
    between 08:00 and 09:00 on one of their working days. The zones where it is morning are
    found first (the distinct zones, from ix_users_tz), so only their users are read.
    """
    mornings = {name: day for name in zones(session) if (day := _morning(name, now)) is not None}
    if not mornings:
        return []
    working = exists().where(Connection.user_id == User.id, Connection.status == "ok")
    query = (
        select(User.id, User.tz, User.work_days)
        .where(User.tz.in_(mornings), User.weekly_nudges > 0, working)
        .where(or_(User.paused_until.is_(None), User.paused_until <= now))
        .order_by(User.id)
    )
    due: list[tuple[int, date]] = []
    for user_id, tz, work_days in session.execute(query):
        day = mornings[tz]
        if day.weekday() in _days(work_days):
            due.append((user_id, day))
    return due


# A skip scan of ix_users_tz: one index probe per distinct zone, however many users share it.
_ZONES = text(
    "WITH RECURSIVE zone(tz) AS ("
    " SELECT min(tz) FROM users"
    " UNION ALL SELECT (SELECT min(tz) FROM users WHERE users.tz > zone.tz)"
    " FROM zone WHERE zone.tz IS NOT NULL"
    ") SELECT tz FROM zone WHERE tz IS NOT NULL"
)


def zones(session: Session) -> list[str]:
    """Return the distinct time zones users have set (as stored)."""
    return list(session.scalars(_ZONES))


def _morning(tz: str, now: datetime) -> date | None:
    """Return the local date where it is morning in this zone now, or None."""
    local = now.astimezone(User(tz=tz).zone)
    return local.date() if MORNING[0] <= local.time() < MORNING[1] else None


def _days(work_days: str) -> frozenset[int]:
    # As service.sources.calendar.profile_of reads them.
    return frozenset(int(d) for d in work_days.split(",") if d.strip())


def _enqueue_morning(queue: Queue, user_id: int, day: date) -> bool:
    try:
        queue.enqueue(
            propose_for_user,
            user_id,
            job_id=f"propose-{user_id}-{day.isoformat()}",
            unique=True,
            result_ttl=KEEP_DAY,
        )
    except DuplicateJobError:
        return False
    return True


def hand_over(settings: Settings, outbox_id: int) -> None:
    """Hand an email to the sender job; if Redis is away, the outbox sweep sends it later."""
    try:
        enqueue_email(settings, outbox_id)
    except QueueUnavailable as error:
        # The row is committed and unsent: the periodic outbox sweep enqueues it again.
        log.warning("email %s left for the outbox sweep: %s", outbox_id, error)
