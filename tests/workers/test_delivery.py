"""The sender job on real Redis, RQ and SMTP: every email goes once, whatever fails or races."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rq import Queue
from rq.job import Job, JobStatus

from service.adapters.db import Database
from service.config import Settings
from tests.factories import ALICE, NOW, queued_email, race, stored_email
from tests.smtp_server import SmtpServer
from tests.workers.jobs import let_retry_waits_pass, work
from workers.email import STALE_CLAIM, enqueue_email, send_email, sweep

QUEUES = ("email",)


def job_of(queue: Queue, outbox_id: int) -> Job:
    return Job.fetch(f"email-{outbox_id}", connection=queue.connection)


def test_the_sender_job_sends_a_queued_email_once(
    settings: Settings, database: Database, smtp_server: SmtpServer, queue: Queue
) -> None:
    outbox_id = queued_email(database, settings)

    enqueue_email(settings, outbox_id)
    work(queue)

    (message,) = smtp_server.wait_for(1)
    assert message["To"] == ALICE
    assert message["Message-ID"] == stored_email(database, outbox_id).message_id
    assert stored_email(database, outbox_id).sent_at is not None
    assert job_of(queue, outbox_id).return_value() == "sent"


def test_an_email_enqueued_twice_is_sent_once(
    settings: Settings, database: Database, smtp_server: SmtpServer, queue: Queue
) -> None:
    outbox_id = queued_email(database, settings)

    first = enqueue_email(settings, outbox_id)
    second = enqueue_email(settings, outbox_id)
    assert (first.id, queue.count) == (second.id, 1)
    work(queue)
    enqueue_email(settings, outbox_id)  # the finished job is replaced and runs again
    work(queue)

    assert len(smtp_server.wait_for(1)) == 1
    assert job_of(queue, outbox_id).return_value() == "skipped"


def test_a_mail_server_outage_is_retried_later_and_the_email_sent_once(
    settings: Settings, database: Database, smtp_server: SmtpServer, queue: Queue
) -> None:
    outbox_id = queued_email(database, settings)
    smtp_server.stop()

    enqueue_email(settings, outbox_id)
    work(queue)
    assert job_of(queue, outbox_id).get_status() == JobStatus.SCHEDULED
    assert "unreachable" in stored_email(database, outbox_id).last_error
    assert sweep(database, settings, datetime.now(UTC)) == [outbox_id]
    assert queue.count == 0  # the sweep left the retry waiting as it was

    smtp_server.start()
    let_retry_waits_pass(queue)
    work(queue, scheduler=True)

    assert len(smtp_server.wait_for(1)) == 1
    row = stored_email(database, outbox_id)
    assert (row.attempts, row.last_error) == (2, "")
    assert job_of(queue, outbox_id).return_value() == "sent"


def test_a_refused_email_is_recorded_and_never_retried(
    settings: Settings, database: Database, smtp_server: SmtpServer, queue: Queue
) -> None:
    outbox_id = queued_email(database, settings)
    smtp_server.refuse("550 5.1.1 No such user")

    enqueue_email(settings, outbox_id)
    work(queue)

    job = job_of(queue, outbox_id)
    assert job.get_status() == JobStatus.FAILED
    assert job.id in queue.failed_job_registry.get_job_ids()
    assert queue.scheduled_job_registry.get_job_ids() == []
    assert "550 5.1.1 No such user" in stored_email(database, outbox_id).last_error
    smtp_server.accept()
    assert sweep(database, settings, datetime.now(UTC) + 2 * STALE_CLAIM) == []
    assert smtp_server.messages == []


def test_an_email_lost_with_redis_is_sent_once_by_the_sweep(
    settings: Settings, database: Database, smtp_server: SmtpServer, queue: Queue
) -> None:
    outbox_id = queued_email(database, settings)
    enqueue_email(settings, outbox_id)

    queue.connection.flushdb()  # Redis restarted without its data before the job ran
    assert sweep(database, settings, datetime.now(UTC)) == [outbox_id]
    work(queue)

    assert len(smtp_server.wait_for(1)) == 1
    assert sweep(database, settings, datetime.now(UTC)) == []


def test_two_workers_racing_for_one_email_send_it_once(
    settings: Settings, database: Database, smtp_server: SmtpServer
) -> None:
    outbox_id = queued_email(database, settings)

    results = race(lambda: send_email(outbox_id))

    assert sorted(results) == ["sent", "skipped"]
    assert len(smtp_server.wait_for(1)) == 1


def test_the_sweep_enqueues_only_the_emails_that_are_due(
    settings: Settings, database: Database, queue: Queue
) -> None:
    recent = NOW - timedelta(hours=1)
    due = queued_email(database, settings, created_at=recent)
    also_due = queued_email(database, settings, created_at=NOW - timedelta(days=1, hours=23))
    queued_email(database, settings, created_at=recent, sent_at=recent, claimed_at=recent)
    queued_email(database, settings, created_at=recent, claimed_at=NOW - timedelta(minutes=1))
    queued_email(database, settings, created_at=NOW - timedelta(days=2, minutes=1))  # stale now

    assert sweep(database, settings, NOW) == [due, also_due]

    assert sorted(queue.job_ids) == sorted([f"email-{due}", f"email-{also_due}"])
