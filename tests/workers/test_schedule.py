"""The periodic jobs and the processes that run them: one list, registered once, run by workers."""

from __future__ import annotations

import logging
import signal
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from rq import Queue
from rq.cron import CronScheduler

from service.adapters.db import Database
from service.adapters.mail import queue_magic_link
from service.adapters.redis import connect
from service.cli import main
from service.config import Settings
from service.models import OutboxEmail, Proposal, User
from tests.factories import ALICE, BERLIN, CAROL
from tests.smtp_server import SmtpServer
from workers import runtime
from workers.maintenance import sweep_bookings
from workers.schedule import PERIODIC, QUEUES, build_scheduler, build_worker, register

SOON = datetime(2037, 3, 4, 13, 5, tzinfo=BERLIN)


@pytest.fixture
def settings(settings: Settings, smtp_server: SmtpServer) -> Settings:
    return settings.with_changes(smtp=smtp_server.settings)


@pytest.fixture(autouse=True)
def worker_settings(settings: Settings) -> Iterator[None]:
    """Jobs in this process use the test's settings, not the environment."""
    runtime.use(settings)
    yield
    runtime.reset()


@pytest.fixture
def restored_signals() -> Iterator[None]:
    """Give back the signal handlers a forking RQ worker installs in this process."""
    saved = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    yield
    for number, handler in saved.items():
        signal.signal(number, handler)


def queued_email(database: Database, settings: Settings) -> int:
    with database.unit() as session:
        return queue_magic_link(session, settings, ALICE, "http://localhost/signin/7.s3cret").id


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
        base = {"user_id": user.id, "partner": CAROL, "expires_at": SOON, "chosen_start": SOON}
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


def environment(settings: Settings, tmp_path: Path, smtp_server: SmtpServer) -> dict[str, str]:
    return {
        "TOUCHPOINT_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "SMTP_HOST": smtp_server.host,
        "SMTP_PORT": str(smtp_server.port),
        "SMTP_STARTTLS": "false",
    }


@pytest.mark.usefixtures("restored_signals")
def test_touchpoint_worker_runs_the_queued_jobs_in_child_processes(
    settings: Settings,
    database: Database,
    smtp_server: SmtpServer,
    tmp_path: Path,
) -> None:
    from workers.email import enqueue_email

    enqueue_email(settings, queued_email(database, settings))

    result = CliRunner().invoke(
        main, ["worker", "--burst"], env=environment(settings, tmp_path, smtp_server)
    )

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
    assert "--queues takes names from email,booking" in result.output


def test_touchpoint_scheduler_refuses_to_run_next_to_another(
    settings: Settings, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    running = build_scheduler(connect(settings.redis_url))
    running.register_birth()

    env = environment(settings, tmp_path, smtp_server)
    result = CliRunner().invoke(main, ["scheduler"], env=env)

    assert result.exit_code == 2
    assert f"a scheduler is already running ({running.name})" in result.output
