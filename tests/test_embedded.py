"""`touchpoint run` on a fresh machine: one command, everything up, demo mail within a minute.

These start the real command as a subprocess (web, worker and scheduler processes, embedded
Redis) with an empty data directory and nothing configured, as a first-time user would.
"""

from __future__ import annotations

import json
import logging
import re
import signal
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import redis
from rq import Queue

from service.embedded import log_to_terminal
from tests.commands import PARTS, Run, get, outbox, ready
from workers.email import sweep_outbox


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def started() -> Iterator[list[Run]]:
    runs: list[Run] = []
    yield runs
    for run in runs:
        run.end()


def test_run_demo_on_a_fresh_machine_shows_a_prep_note_and_a_proposal_within_a_minute(
    data: Path, started: list[Run]
) -> None:
    run = Run(data, "--demo")
    started.append(run)

    url = run.url()
    run.until(lambda: ready(url), "answer on /healthz")
    run.until(lambda: outbox(data) == ["prep_note", "proposal"], "prep note and proposal")
    status, page = get(f"{url}/outbox")
    run.remember_children()

    assert status == 200
    assert "Prep: coffee with Dan" in page
    assert "15 minutes with" in page
    assert f"{url}/signin/" in run.text()  # the printed sign-in link
    run.until(lambda: all(logged(run, part) for part in PARTS), "a log line from every part")

    assert run.stop(signal.SIGINT) == 0
    _gone, alive = psutil.wait_procs(run.family, timeout=10)
    assert alive == []
    assert embedded_redis_stopped(data)
    assert (data / "redis.rdb").exists()  # queued work survives a restart


def logged(run: Run, part: str) -> bool:
    return re.search(rf"^\d\d:\d\d:\d\d {part} +\S", run.text(), re.MULTILINE) is not None


def embedded_redis_stopped(data: Path) -> bool:
    socket = json.loads((data / "redis.rdb.settings").read_text())["unixsocket"]
    try:
        redis.Redis(unix_socket_path=socket, socket_connect_timeout=1).ping()
    except redis.ConnectionError:
        return True
    return False


def test_when_the_worker_dies_run_starts_another_and_the_web_stays_up(
    data: Path, started: list[Run]
) -> None:
    run = Run(data)
    started.append(run)
    url = run.url()
    run.until(lambda: ready(url) and "sweep_outbox" in run.text(), "a job done by the worker")
    # The worker is the child with a child of its own: RQ's scheduler, which it forks (not
    # always at once, so wait for it).
    run.until(lambda: _worker(run), "the worker's own scheduler process")
    worker = _worker(run)
    assert worker is not None

    worker.kill()

    said = "the worker stopped (exit status -9): starting it again in 1 s"
    run.until(lambda: said in run.text(), "the worker started again")
    run.until(lambda: run.text().count("working on the queues") == 2, "a new worker at work")
    assert ready(url)  # the web answered all along
    run.remember_children()
    assert run.stop() == 0
    _gone, alive = psutil.wait_procs(run.family, timeout=10)
    assert alive == []


def _worker(run: Run) -> psutil.Process | None:
    children = psutil.Process(run.process.pid).children()
    return next((p for p in children if p.children()), None)


def test_an_unreachable_redis_url_is_named_before_anything_starts(
    data: Path, started: list[Run]
) -> None:
    run = Run(data, REDIS_URL="redis://:hunter2@127.0.0.1:9/0")
    started.append(run)

    assert run.process.wait(timeout=30) == 2
    assert "Redis is not reachable at REDIS_URL (127.0.0.1:9/0)" in run.text()
    assert "hunter2" not in run.text()


def test_every_part_logs_time_part_and_message(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        log_to_terminal("worker")
        logging.getLogger("workers.jobs").info("email sweep_outbox done in %.2fs", 0.01)
        logging.getLogger("service.sources.connect").warning("sync of connection %s failed", 7)
    finally:
        root.handlers[:], root.level = handlers, level

    lines = capsys.readouterr().err.splitlines()
    assert re.fullmatch(r"\d\d:\d\d:\d\d worker    email sweep_outbox done in 0\.01s", lines[0])
    assert lines[1].endswith("worker    warning: sync of connection 7 failed")


def test_when_the_embedded_redis_dies_run_starts_it_again_and_work_goes_on(
    data: Path, started: list[Run]
) -> None:
    run = Run(data)
    started.append(run)
    url = run.url()
    run.until(lambda: ready(url) and "sweep_outbox" in run.text(), "a job done by the worker")
    settings = json.loads((data / "redis.rdb.settings").read_text())
    dead = int(Path(settings["pidfile"]).read_text())

    psutil.Process(dead).kill()

    run.until(lambda: "the embedded Redis is back" in run.text(), "Redis started again")
    assert "the embedded Redis stopped: starting it again in 1 s" in run.text()
    client = redis.Redis(unix_socket_path=settings["unixsocket"])
    job = Queue("email", connection=client).enqueue(sweep_outbox, job_id="after-the-restart")
    run.until(lambda: f"sweep_outbox {job.id}: " in run.text(), "a job done after the restart")
    assert ready(url)  # the web answered all along
    client.close()
    run.remember_children()
    assert run.stop() == 0
    _gone, alive = psutil.wait_procs(run.family, timeout=10)
    assert alive == []
    assert embedded_redis_stopped(data)
