"""Jobs a dead worker left behind: each kind of work reaches a queue again and is done once.

A worker killed between taking a job off its queue and starting it leaves the job's hash saying
"queued" in no queue; one killed mid-job leaves it "started" with no heartbeat. Either way the
periodic sweep or dispatcher of that kind hands the work over again, and a worker does it once.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from rq import Queue
from rq.job import Job, JobStatus

from service.adapters.db import Database
from service.adapters.redis import connect
from service.adapters.secrets import SecretBox
from service.config import Settings
from tests.factories import (
    ALICE,
    CAROL,
    add_accepted_proposal,
    add_feed,
    add_user,
    lunch_with_carol,
    note_statuses,
    plan,
    queued_email,
    stored_email,
    stored_event_times,
)
from tests.feed_server import SECRET_PATH, Feed, FeedServer
from tests.google_server import FakeGoogle
from tests.redis_server import take_and_start
from tests.smtp_server import SmtpServer, addressed_to, invite_of
from tests.workers.jobs import let_retry_waits_pass, work
from workers.email import enqueue_email, sweep_outbox
from workers.enqueue import enqueue_booking, enqueue_plan
from workers.maintenance import sweep_bookings
from workers.notes import dispatch_notes
from workers.sync import dispatch_syncs, enqueue_sync, sync_queue

QUEUES = ("email", "sync", "notes", "booking")


def on(settings: Settings, *names: str) -> list[Queue]:
    return [Queue(name, connection=connect(settings.redis_url)) for name in names]


def orphan(queue: Queue, job_id: str) -> None:
    """Take the job off its queue without starting it, as a worker killed right then leaves it."""
    assert queue.pop_job_id() == job_id
    assert queue.count == 0
    assert Job.fetch(job_id, connection=queue.connection).get_status() == JobStatus.QUEUED


def nothing_else_arrives(smtp_server: SmtpServer, count: int) -> None:
    time.sleep(0.2)
    assert len(smtp_server.messages) == count


def test_an_orphaned_email_job_is_sent_once_after_the_outbox_sweep(
    settings: Settings, database: Database, smtp_server: SmtpServer, queue: Queue
) -> None:
    outbox_id = queued_email(database, settings)
    enqueue_email(settings, outbox_id)
    orphan(queue, f"email-{outbox_id}")

    assert sweep_outbox() == 1
    assert queue.job_ids == [f"email-{outbox_id}"]
    work(queue)
    assert sweep_outbox() == 0
    work(queue)

    (message,) = smtp_server.wait_for(1)
    assert message["Message-ID"] == stored_email(database, outbox_id).message_id
    nothing_else_arrives(smtp_server, 1)


def test_an_orphaned_sync_job_stores_the_events_once_after_the_dispatcher(
    settings: Settings, database: Database, box: SecretBox, alice_id: int, feeds: FeedServer
) -> None:
    feeds.feeds[SECRET_PATH] = Feed()
    connection_id = add_feed(database, box, alice_id, feeds.url())
    (queue,) = on(settings, "sync")
    enqueue_sync(sync_queue(settings), connection_id)
    orphan(queue, f"sync-{connection_id}")

    assert dispatch_syncs() == 1
    work(queue)
    stored = stored_event_times(database)
    assert dispatch_syncs() == 0
    work(queue)

    assert stored
    assert len(set(stored)) == len(stored)
    assert stored_event_times(database) == stored
    assert len(feeds.seen) == 1


def test_an_orphaned_notes_job_sends_the_prep_note_once_after_the_dispatcher(
    settings: Settings, database: Database, smtp_server: SmtpServer
) -> None:
    now = datetime.now(UTC)
    user_id = add_user(
        database, [lunch_with_carol(now + timedelta(minutes=30))], synced=now, meals=True
    )
    plan(database, settings, user_id, now)
    notes, email = on(settings, "notes", "email")
    enqueue_plan(settings, user_id)
    orphan(notes, f"plan-notes-{user_id}")

    assert dispatch_notes() == 1
    assert notes.job_ids == [f"plan-notes-{user_id}"]
    work([notes, email])
    assert dispatch_notes() == 0
    work([notes, email])

    (message,) = smtp_server.wait_for(1)
    assert message["Subject"].startswith("Prep: lunch with Carol")
    nothing_else_arrives(smtp_server, 1)
    assert note_statuses(database) == ["sent"]


def book_an_orphaned_booking(settings: Settings, proposal_id: int) -> None:
    """Enqueue the booking, orphan its job, then let the sweep and a worker book it."""
    booking, email = on(settings, "booking", "email")
    enqueue_booking(settings, proposal_id)
    orphan(booking, f"book-proposal-{proposal_id}")

    assert sweep_bookings() == 1
    assert booking.job_ids == [f"book-proposal-{proposal_id}"]
    work([booking, email])
    assert sweep_bookings() == 0
    work([booking, email])


def test_an_orphaned_booking_job_makes_one_google_event_after_the_sweep(
    settings: Settings, google_server: FakeGoogle, google_proposal: int, smtp_server: SmtpServer
) -> None:
    book_an_orphaned_booking(settings, google_proposal)

    (event,) = google_server.events(ALICE)
    assert [attendee["email"] for attendee in event["attendees"]] == [CAROL, ALICE]
    assert smtp_server.messages == []


def test_an_orphaned_booking_job_sends_one_invite_pair_after_the_sweep(
    settings: Settings, database: Database, smtp_server: SmtpServer
) -> None:
    book_an_orphaned_booking(settings, add_accepted_proposal(database))

    messages = smtp_server.wait_for(2)
    nothing_else_arrives(smtp_server, 2)
    for address in (ALICE, CAROL):
        invite_of(addressed_to(messages, address))


def test_a_job_started_by_a_worker_that_died_runs_again_at_the_next_sweep(
    settings: Settings, database: Database, smtp_server: SmtpServer, queue: Queue
) -> None:
    outbox_id = queued_email(database, settings)
    enqueue_email(settings, outbox_id)
    take_and_start(queue, f"email-{outbox_id}", heartbeat_lapses_in=-1)  # then it died

    assert sweep_outbox() == 1  # RQ's own cleanup would wait for a live worker's 10-minute tick
    job = Job.fetch(f"email-{outbox_id}", connection=queue.connection)
    assert job.get_status() == JobStatus.SCHEDULED  # retried as the failure of that run
    let_retry_waits_pass(queue)
    work(queue, scheduler=True)

    (message,) = smtp_server.wait_for(1)
    assert message["Message-ID"] == stored_email(database, outbox_id).message_id
    assert stored_email(database, outbox_id).sent_at is not None
    nothing_else_arrives(smtp_server, 1)


def test_a_job_started_by_a_worker_that_died_without_retries_left_is_enqueued_again(
    settings: Settings, database: Database, smtp_server: SmtpServer, queue: Queue
) -> None:
    outbox_id = queued_email(database, settings)
    job = enqueue_email(settings, outbox_id)
    job.retries_left = 0
    job.save()
    take_and_start(queue, f"email-{outbox_id}", heartbeat_lapses_in=-1)  # then it died

    sweep_outbox()
    assert queue.job_ids == [f"email-{outbox_id}"]
    work(queue)

    assert len(smtp_server.wait_for(1)) == 1
    nothing_else_arrives(smtp_server, 1)
