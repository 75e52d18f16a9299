"""Prep note jobs: plan a user's notes and send the due ones; every minute, find who has one due.

plan_user runs after each sync that changed a user's calendar and whenever the dispatcher finds
a note (or a morning digest) due. It is safe to run twice or concurrently: planning and sending
wait for each other on the user's row, a note is claimed before its email is queued, and the
email is claimed again before it is sent (workers.email). Notes go out before the calendar is
touched, so a Google outage delays the calendar, never the emails.
"""

from __future__ import annotations

import logging
from datetime import datetime

from rq import Retry
from rq.job import Job

from service import clock
from service.adapters.google import CredentialsRevoked, PermanentGoogleError
from service.adapters.redis import enqueue_once, never_retry, queue_for
from service.config import Settings
from service.dashboard import ahead, past
from service.models import User
from service.notes.feed import CalendarChange, sync_calendar_notes
from service.notes.plan import plan_notes, send_due_notes, unsent_notes, users_with_due_notes
from workers.email import enqueue_email
from workers.runtime import Runtime, current

log = logging.getLogger(__name__)

QUEUE = "notes"
DISPATCH_EVERY = 60  # seconds, for the periodic schedule
# Google away for a moment (429, 5xx) while writing the calendar: three more tries in ~12 minutes.
PLAN_RETRY = Retry(max=3, interval=[30, 120, 600])


def plan_user(user_id: int) -> dict[str, int] | str:
    """Plan one user's prep notes, hand the due emails to the sender, update their calendar."""
    runtime, now = current(), clock.now()
    with runtime.database.unit() as session:
        user = session.get(User, user_id)
        if user is None:
            return "gone"  # the account was deleted since this was enqueued
        change = plan_notes(session, runtime.settings, user, now)
        past.refresh(session, user, now, planned=True)  # the dashboard shows these notes now
        ahead.keep(session, user, now)  # and reads this plan of the days ahead
        send_due_notes(session, runtime.settings, user, now)
        emails = unsent_notes(session, user_id)  # this run's, and any a crash left behind
    for outbox_id in emails:
        enqueue_email(runtime.settings, outbox_id)
    calendar = _calendar(runtime, user_id, now)
    return {
        "created": change.created,
        "moved": change.moved,
        "cancelled": change.cancelled,
        "emails": len(emails),
        "calendar": calendar.written + calendar.removed,
    }


def _calendar(runtime: Runtime, user_id: int, now: datetime) -> CalendarChange:
    """Write the notes to the app's Google calendar; transient errors raise for a retry."""
    try:
        with runtime.database.unit() as session:
            user = session.get_one(User, user_id)
            return sync_calendar_notes(session, runtime.settings, runtime.box, user, now)
    except CredentialsRevoked as error:
        # The sync job marks the connection broken and tells the user; notes stop with it.
        log.warning("user %s: prep notes not written to Google Calendar: %s", user_id, error)
        return CalendarChange()
    except PermanentGoogleError:
        never_retry()  # a refusal stays a refusal: record it in the failed registry once
        raise


def dispatch_notes() -> int:
    """Enqueue plan_user for each user with a note or digest due now (periodic); return how many."""
    runtime = current()
    with runtime.database.unit() as session:
        due = users_with_due_notes(session, clock.now())
    for user_id in due:
        enqueue_plan(runtime.settings, user_id)
    return len(due)


def enqueue_plan(settings: Settings, user_id: int) -> Job:
    """Ask the workers to plan a user's notes; one job per user however often this is asked."""
    queue = queue_for(settings.redis_url, QUEUE)
    return enqueue_once(queue, f"plan-notes-{user_id}", plan_user, user_id, retry=PLAN_RETRY)[0]
