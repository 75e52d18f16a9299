"""`touchpoint web` as an operator runs it: links point where it listens, nothing left running."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import requests

from tests.commands import ROOT, fresh, ready

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def redis_servers_of(data: Path) -> list[psutil.Process]:
    """The redis-server processes keeping their dump in this data directory."""
    found = []
    for process in psutil.process_iter(["name", "cwd", "cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if "redis-server" in cmdline and str(data) in f"{cmdline} {process.info['cwd'] or ''}":
            found.append(process)
    return found


def test_web_on_another_port_links_there_and_stops_its_embedded_redis(tmp_path: Path) -> None:
    data, port = tmp_path / "data", free_port()
    command = [sys.executable, "-m", "service.cli", "web", "--port", str(port), "--data", str(data)]
    process = subprocess.Popen(
        command, env=fresh(), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while not ready(url):
            assert process.poll() is None, "touchpoint web stopped"
            assert time.monotonic() < deadline, "touchpoint web did not answer"
            time.sleep(0.2)
        assert redis_servers_of(data)  # no REDIS_URL: it started its own

        browser = requests.Session()
        page = browser.get(f"{url}/signin", timeout=10).text
        token = CSRF.search(page)
        assert token is not None
        browser.post(
            f"{url}/signin",
            data={"csrf_token": token.group(1), "email": "alice@example.com"},
            timeout=10,
        )
        (email,) = (data / "outbox").glob("*.eml")
        assert f"{url}/signin/" in email.read_text()  # not :5000

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) in (0, -signal.SIGINT, 130)
        deadline = time.monotonic() + 10
        while redis_servers_of(data) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert redis_servers_of(data) == []
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for server in redis_servers_of(data):  # what a failing run may have left behind
            server.kill()
