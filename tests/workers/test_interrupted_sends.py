"""Sends that stop midway: sent again within minutes, at most one duplicate, never lost.

A frozen `now` passed to the sweep stands for the minutes that pass; nothing sleeps for them.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rq import Queue
from rq.job import JobStatus

from service.adapters.db import Database
from service.adapters.mail_delivery import deliver
from service.config import Settings
from tests.factories import NOW, queued_email, stored_email
from tests.redis_server import take_and_start
from tests.smtp_server import SmtpServer
from tests.workers.jobs import let_retry_waits_pass, work
from workers.email import INTERRUPTED, STALE_CLAIM, enqueue_email, sweep
from workers.schedule import build_worker

QUEUES = ("email",)
OUTAGE = "SMTP server unreachable: ConnectionRefusedError(111, 'Connection refused')"


class HeldSmtp(SmtpServer):
    """An SMTP server that can hold a message's DATA reply: the moment a sender may be killed."""

    def __init__(self) -> None:
        super().__init__()
        self.holding = threading.Event()  # set: hold the next DATA until cleared
        self.take_before_holding = False  # True: keep the message, then hold the reply
        self.reply = "451 4.3.0 The sender went away"  # the reply once the hold ends
        self.held = threading.Event()  # set once a DATA is being held

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if not self.holding.is_set():
            return await super().handle_DATA(server, session, envelope)
        if self.take_before_holding:
            await super().handle_DATA(server, session, envelope)
        self.held.set()
        while self.holding.is_set():
            await asyncio.sleep(0.02)
        return self.reply


@pytest.fixture
def smtp_server() -> Iterator[HeldSmtp]:
    server = HeldSmtp()
    server.start()
    yield server
    server.holding.clear()
    server.stop()


def kill_the_sender_while_held(
    settings: Settings, smtp_server: HeldSmtp, queue: Queue, outbox_id: int
) -> None:
    """Run the job in a forking worker and SIGKILL its work horse in the middle of sending."""
    worker = build_worker(queue.connection, ["email"], fork=True)

    def kill() -> None:
        assert smtp_server.held.wait(timeout=15)
        os.kill(worker.horse_pid, signal.SIGKILL)

    killer = threading.Thread(target=kill)
    killer.start()
    smtp_server.holding.set()
    enqueue_email(settings, outbox_id)
    worker.work(burst=True, logging_level="WARNING")
    killer.join(timeout=15)
    smtp_server.holding.clear()


@pytest.mark.parametrize(("server_took_it", "copies"), [(False, 1), (True, 2)])
def test_a_sender_killed_mid_send_sends_once_more_under_the_same_message_id(
    settings: Settings,
    database: Database,
    smtp_server: HeldSmtp,
    queue: Queue,
    server_took_it: bool,
    copies: int,
) -> None:
    outbox_id = queued_email(database, settings)
    smtp_server.take_before_holding = server_took_it

    kill_the_sender_while_held(settings, smtp_server, queue, outbox_id)
    row = stored_email(database, outbox_id)
    assert (row.claimed_at is not None, row.handed_over, row.sent_at) == (True, True, None)
    assert sweep(database, settings, datetime.now(UTC)) == []  # it may still be sending

    assert sweep(database, settings, datetime.now(UTC) + STALE_CLAIM) == [outbox_id]
    let_retry_waits_pass(queue)
    work(queue, scheduler=True)

    messages = smtp_server.wait_for(copies)
    assert {message["Message-ID"] for message in messages} == {row.message_id}
    assert len(messages) == copies  # a second copy only when the server had the first
    row = stored_email(database, outbox_id)
    assert (row.sent_at is not None, row.attempts, row.resends) == (True, 2, 1)


def test_an_email_whose_worker_died_mid_send_goes_again_within_five_minutes(
    settings: Settings, database: Database, smtp_server: HeldSmtp, queue: Queue
) -> None:
    now = datetime.now(UTC)
    outbox_id = queued_email(database, settings, claimed_at=now, handed_over=True)
    enqueue_email(settings, outbox_id)
    take_and_start(queue, f"email-{outbox_id}", heartbeat_lapses_in=-1)  # the worker died

    assert sweep(database, settings, now + timedelta(minutes=2)) == []  # it might still send
    assert sweep(database, settings, now + timedelta(minutes=3, seconds=1)) == [outbox_id]
    job = queue.fetch_job(f"email-{outbox_id}")
    assert job is not None
    assert job.get_status() == JobStatus.SCHEDULED  # RQ retries the dead run in 30 seconds
    let_retry_waits_pass(queue)
    work(queue, scheduler=True)

    (message,) = smtp_server.wait_for(1)
    row = stored_email(database, outbox_id)
    assert message["Message-ID"] == row.message_id
    assert (row.sent_at is not None, row.resends, row.last_error) == (True, 1, "")
    assert sweep(database, settings, now + timedelta(minutes=10)) == []


def test_an_email_claimed_after_a_mail_server_outage_is_sent_once_its_sender_has_died(
    settings: Settings, database: Database, smtp_server: HeldSmtp, queue: Queue
) -> None:
    crashed = NOW - STALE_CLAIM - timedelta(seconds=1)  # while connecting: nothing handed over
    outbox_id = queued_email(
        database, settings, created_at=NOW, claimed_at=crashed, attempts=2, last_error=OUTAGE
    )

    assert sweep(database, settings, NOW) == [outbox_id]
    work(queue)

    assert len(smtp_server.wait_for(1)) == 1
    row = stored_email(database, outbox_id)
    assert (row.sent_at is not None, row.attempts, row.resends) == (True, 4, 0)


def claimed_long_ago(database: Database, settings: Settings, **changes: Any) -> int:
    long_ago = NOW - STALE_CLAIM - timedelta(minutes=1)
    recent = NOW - timedelta(hours=1)
    return queued_email(database, settings, created_at=recent, claimed_at=long_ago, **changes)


def test_a_stale_claim_is_released_unless_refused_or_a_second_copy_may_have_gone(
    settings: Settings, database: Database, queue: Queue
) -> None:
    before_handing = claimed_long_ago(database, settings)
    before_handing_again = claimed_long_ago(database, settings, resends=1, last_error=INTERRUPTED)
    after_handing = claimed_long_ago(database, settings, handed_over=True)
    after_outage = claimed_long_ago(database, settings, attempts=1, last_error=OUTAGE)
    kept = [
        claimed_long_ago(database, settings, handed_over=True, resends=1, last_error=INTERRUPTED),
        claimed_long_ago(database, settings, refused_at=NOW, last_error="550 No such user"),
        queued_email(database, settings, claimed_at=NOW - STALE_CLAIM + timedelta(seconds=5)),
    ]
    released = [before_handing, before_handing_again, after_handing, after_outage]

    assert sweep(database, settings, NOW) == released
    assert sweep(database, settings, NOW) == released  # waiting to be sent: not again
    assert [stored_email(database, i).resends for i in released] == [0, 1, 1, 0]
    for outbox_id in released:
        row = stored_email(database, outbox_id)
        assert (row.claimed_at, row.handed_over, row.last_error) == (None, False, INTERRUPTED)
    for outbox_id in kept:
        assert stored_email(database, outbox_id).claimed_at is not None
    assert sorted(queue.job_ids) == sorted(f"email-{i}" for i in released)


def test_sent_at_is_when_the_mail_server_accepted_the_email(
    settings: Settings, database: Database, smtp_server: HeldSmtp
) -> None:
    outbox_id = queued_email(database, settings)
    smtp_server.holding.set()
    smtp_server.reply = "250 OK"
    sending = threading.Thread(target=deliver, args=(database, outbox_id, settings, NOW))
    sending.start()
    assert smtp_server.held.wait(timeout=5)
    threading.Event().wait(1.0)  # the server takes a second to answer
    smtp_server.holding.clear()
    sending.join(timeout=5)

    row = stored_email(database, outbox_id)
    assert row.claimed_at == NOW
    assert timedelta(seconds=1) <= row.sent_at - NOW < timedelta(seconds=5)
