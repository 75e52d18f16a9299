"""The periodic jobs and the processes that run them: one list, registered once, run by workers."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil
import pytest
from click.testing import CliRunner
from rq import Queue, Worker
from rq.cron import CronScheduler

from service.adapters.db import Database
from service.adapters.redis import connect
from service.cli import main
from service.config import Settings
from service.models import OutboxEmail, Proposal, User
from tests.factories import ALICE, CAROL, CHAT_START, queued_email
from tests.redis_server import wait_until
from tests.smtp_server import SmtpServer
from tests.workers.jobs import STOP_SECONDS, started_workers, worker_environment
from workers.maintenance import sweep_bookings
from workers.schedule import PERIODIC, QUEUES, build_scheduler, build_worker, register


def functions_queued(settings: Settings) -> list[str]:
    connection = connect(settings.redis_url)
    return sorted(job.func_name or "" for name in QUEUES for job in Queue(name, connection).jobs)


def test_registering_twice_holds_each_periodic_job_once(settings: Settings) -> None:
    scheduler = build_scheduler(connect(settings.redis_url))

    assert register(scheduler) == []
    names = [job.name for job in scheduler.get_jobs()]
    assert sorted(names) == sorted(entry.name for entry in PERIODIC)
    assert len(set(names)) == len(names)


def test_one_scheduler_tick_enqueues_each_frequent_job_once(settings: Settings) -> None:
    scheduler = CronScheduler(connection=connect(settings.redis_url))
    register(scheduler)
    register(scheduler)

    scheduler.enqueue_jobs()

    frequent = [entry for entry in PERIODIC if entry.interval]
    assert functions_queued(settings) == sorted(
        f"{entry.func.__module__}.{entry.func.__name__}" for entry in frequent
    )


def test_every_periodic_job_runs_on_a_queue_a_worker_listens_to() -> None:
    assert {entry.queue for entry in PERIODIC} <= set(QUEUES)
    assert len({entry.func for entry in PERIODIC}) == len(PERIODIC)


def test_the_scheduler_and_a_worker_deliver_an_email_nobody_enqueued(
    settings: Settings,
    database: Database,
    smtp_server: SmtpServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    outbox_id = queued_email(database, settings)
    connection = connect(settings.redis_url)

    build_scheduler(connection).enqueue_jobs()
    with caplog.at_level(logging.INFO, logger="workers.jobs"):
        build_worker(connection, QUEUES, fork=False).work(burst=True, logging_level="WARNING")

    (message,) = smtp_server.wait_for(1)
    assert message["To"] == ALICE
    lines = [record.getMessage() for record in caplog.records if record.name == "workers.jobs"]
    assert any(line.startswith("email send_email email-") and ": sent (" in line for line in lines)
    assert any(line.startswith("email sweep_outbox ") and ": 1 (" in line for line in lines)
    assert len(lines) == len(connection.keys("rq:results:*"))  # one line per job run
    with database.unit() as session:
        assert session.get_one(OutboxEmail, outbox_id).sent_at is not None


def add_proposals(database: Database, **by_label: dict[str, Any]) -> dict[str, int]:
    """Store alice with one proposal to carol per label (columns as given); return their ids."""
    with database.unit() as session:
        user = User(email=ALICE, tz="Europe/Berlin")
        session.add(user)
        session.flush()
        soon = CHAT_START
        base = {"user_id": user.id, "partner": CAROL, "expires_at": soon, "chosen_start": soon}
        proposals = {label: Proposal(**(base | c)) for label, c in by_label.items()}
        session.add_all(proposals.values())
    return {label: proposal.id for label, proposal in proposals.items()}


def test_the_booking_sweep_enqueues_accepted_chats_not_booked_yet(
    settings: Settings, database: Database
) -> None:
    ids = add_proposals(
        database,
        unbooked={"status": "accepted"},
        booked={"status": "accepted", "booked_at": datetime.now(UTC)},
        past={"status": "accepted", "chosen_start": datetime.now(UTC) - timedelta(hours=1)},
        unanswered={"status": "proposed", "chosen_start": None},
    )

    assert sweep_bookings() == 1

    booking = Queue("booking", connection=connect(settings.redis_url))
    assert booking.job_ids == [f"book-proposal-{ids['unbooked']}"]


def test_touchpoint_worker_runs_the_queued_jobs_in_child_processes(
    settings: Settings, database: Database, smtp_server: SmtpServer
) -> None:
    from workers.email import enqueue_email

    enqueue_email(settings, queued_email(database, settings))

    result = CliRunner().invoke(main, ["worker", "--burst"], env=worker_environment(settings))

    assert result.exit_code == 0, result.output
    assert [message["To"] for message in smtp_server.wait_for(1)] == [ALICE]


def test_touchpoint_worker_says_it_needs_redis_url(tmp_path: Path) -> None:
    env = {"TOUCHPOINT_DATA_DIR": str(tmp_path / "data"), "REDIS_URL": ""}

    result = CliRunner().invoke(main, ["worker", "--burst"], env=env)

    assert result.exit_code == 2
    assert "REDIS_URL is not set" in result.output


def test_touchpoint_worker_refuses_a_queue_it_does_not_know() -> None:
    result = CliRunner().invoke(main, ["worker", "--queues", "email,emails"])

    assert result.exit_code == 2
    assert "--queues takes names from dispatch,email,booking" in result.output


def test_touchpoint_scheduler_refuses_to_run_next_to_another(settings: Settings) -> None:
    running = build_scheduler(connect(settings.redis_url))
    running.register_birth()

    result = CliRunner().invoke(main, ["scheduler"], env=worker_environment(settings))

    assert result.exit_code == 2
    assert f"a scheduler is already running ({running.name})" in result.output


def test_a_touchpoint_worker_stops_within_seconds_of_sigterm_with_its_scheduler(
    settings: Settings,
) -> None:
    queue = Queue("email", connection=connect(settings.redis_url))
    with started_workers(settings, 1, "email") as (worker,):
        wait_until(lambda: len(Worker.all(queue=queue)) == 1, what="the worker process")
        # RQ's scheduler: a process the worker forks once it runs (not always at once).
        wait_until(lambda: psutil.Process(worker.pid).children(), what="the worker's scheduler")
        family = psutil.Process(worker.pid).children(recursive=True)
        asked = time.monotonic()

        worker.terminate()

        assert worker.wait(timeout=30) == 0
        assert time.monotonic() - asked < STOP_SECONDS
        _gone, alive = psutil.wait_procs(family, timeout=STOP_SECONDS)
        assert alive == []
        assert Worker.all(queue=queue) == []


@pytest.mark.parametrize("fork", [False, True])
def test_a_worker_stops_listening_for_commands_within_seconds_whatever_the_timing(
    settings: Settings, fork: bool
) -> None:
    worker = build_worker(connect(settings.redis_url), QUEUES, fork=fork)
    worker.subscribe()
    # The unlucky order: the listener takes the channel's goodbye before it is told to stop.
    worker.pubsub.unsubscribe()
    time.sleep(0.2)
    asked = time.monotonic()

    worker.unsubscribe()

    assert time.monotonic() - asked < STOP_SECONDS
    assert not worker.pubsub_thread.is_alive()
