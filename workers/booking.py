"""The booking job: put an accepted proposal in the user's calendar, or email the invite.

Safe to run twice or concurrently: proposals.book claims the proposal before booking, and every
invite email is claimed before it is sent. A transient failure (Google 5xx or 429, the mail
server away) raises, and the RQ Retry it was enqueued with runs it again later; that run finds
the booking done and only sends what is still unsent.
"""

from __future__ import annotations

import logging

from rq import Retry
from rq.job import Job

from service import clock
from service.adapters.mail_delivery import PermanentMailError, TransientMailError, deliver
from service.adapters.redis import enqueue_once, queue_for
from service.config import Settings
from service.models import Proposal
from service.proposals.book import book, unsent_invites
from workers.runtime import Runtime, current

log = logging.getLogger(__name__)

QUEUE = "booking"
# Google or the mail server away for a while: retried over about 20 minutes, then the periodic
# sweep picks the proposal up again (it is accepted and still has no booking).
BOOKING_RETRY = Retry(max=5, interval=[10, 30, 60, 300, 900])


def book_proposal(proposal_id: int) -> str:
    """Book one accepted proposal and send its invites; return what booking did."""
    runtime = current()
    with runtime.database.unit() as session:
        proposal = session.get(Proposal, proposal_id)
        if proposal is None:
            return "gone"  # deleted with its account since it was accepted
        result = book(session, runtime.settings, runtime.box, proposal, clock.now())
        invites = unsent_invites(session, runtime.settings, proposal)
    log.info("proposal %s: %s", proposal_id, result.outcome)
    _send(runtime, invites)
    return result.outcome


def _send(runtime: Runtime, outbox_ids: list[int]) -> None:
    """Send each invite; raise the first transient failure after trying all of them."""
    transient: TransientMailError | None = None
    for outbox_id in outbox_ids:
        try:
            deliver(runtime.database, outbox_id, runtime.settings, clock.now())
        except TransientMailError as error:
            transient = transient or error  # the other person's invite may still go now
        except PermanentMailError as error:
            # Recorded on the outbox row, which stays claimed: no retry can deliver it.
            log.error("invite email %s refused for good: %s", outbox_id, error)
    if transient is not None:
        raise transient


def enqueue_booking(settings: Settings, proposal_id: int) -> Job:
    """Ask the workers to book an accepted proposal; return its job (an existing one if queued)."""
    queue = queue_for(settings.redis_url, QUEUE)
    job_id = f"book-proposal-{proposal_id}"
    return enqueue_once(queue, job_id, book_proposal, proposal_id, retry=BOOKING_RETRY)[0]
