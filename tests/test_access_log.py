"""The request log of `touchpoint run` and `touchpoint web`: no secret links, no colour codes."""

from __future__ import annotations

import logging
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from service.web.access_log import CleanRecords, redact
from tests.commands import ROOT, Run, fresh, get, ready

SECRET = "Sekr1t-T0ken_xyz"
SECRET_URLS = (
    f"/signin/12.{SECRET}",
    f"/p/{SECRET}",
    f"/reflect/{SECRET}",
    f"/feed/{SECRET}.ics",
    f"/notes/unsubscribe/{SECRET}",
    f"/notes/snooze/{SECRET}?days=7",
    f"/unsubscribe/{SECRET}",
    f"/resume/{SECRET}",
    f"/google/callback?state={SECRET}&code={SECRET}",
)


def open_secret_links(url: str) -> None:
    for path in SECRET_URLS:
        get(f"{url}{path}")


def assert_clean(log: str) -> None:
    assert '"GET /p/… HTTP/1.1" 404' in log
    assert '"GET /feed/….ics HTTP/1.1" 404' in log
    assert SECRET not in log
    assert "\x1b[" not in log


def test_touchpoint_run_logs_secret_links_without_their_secret_or_colours(tmp_path: Path) -> None:
    run = Run(tmp_path / "data")
    try:
        url = run.url()
        run.until(lambda: ready(url), "answer on /healthz")

        open_secret_links(url)
        run.until(lambda: "/resume/" in run.text(), "the request log")

        assert_clean(run.text())
        assert run.stop() == 0
    finally:
        run.end()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def web(tmp_path: Path, redis_url: str) -> Iterator[tuple[subprocess.Popen[bytes], Path, str]]:
    """`touchpoint web` on a free port (the test Redis: no embedded one), its log in a file."""
    log, port = tmp_path / "web.log", free_port()
    command = [sys.executable, "-m", "service.cli", "web", "--port", str(port)]
    environ = fresh(REDIS_URL=redis_url, TOUCHPOINT_DATA_DIR=str(tmp_path / "data"))
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, env=environ, cwd=ROOT
        )
    yield process, log, f"http://127.0.0.1:{port}"
    if process.poll() is None:
        process.kill()
        process.wait()


def test_touchpoint_web_logs_secret_links_without_their_secret_or_colours(web: Any) -> None:
    process, log, url = web
    deadline = time.monotonic() + 30
    while not ready(url) and time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        time.sleep(0.2)

    open_secret_links(url)
    process.send_signal(signal.SIGINT)
    process.wait(timeout=30)

    assert_clean(log.read_text())


def test_every_route_with_a_secret_in_its_path_is_redacted(app: Flask) -> None:
    secret_routes = [
        rule for rule in app.url_map.iter_rules() if "token" in " ".join(rule.arguments)
    ]
    assert len(secret_routes) >= 8

    for rule in secret_routes:
        path = rule.rule.replace("<token>", SECRET).replace("<link_token>", f"12.{SECRET}")
        assert SECRET not in redact(f'127.0.0.1 "GET {path} HTTP/1.1" 200 -'), rule.rule


def test_other_addresses_are_logged_as_they_are() -> None:
    line = '"GET /proposals/5/withdraw?next=/settings HTTP/1.1" 302 -'

    assert redact(line) == line


def test_a_terminal_keeps_its_colours_but_not_the_secrets() -> None:
    record = logging.LogRecord(
        "werkzeug", logging.INFO, "", 0, "%s", ("\x1b[33m/p/x\x1b[0m",), None
    )
    CleanRecords(terminal=True).filter(record)

    assert record.getMessage() == "\x1b[33m/p/…\x1b[0m"
