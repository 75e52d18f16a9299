"""The real `touchpoint` commands in a test: run them as a first-time user would, stop them after.

`Run` is one `touchpoint run` with its output in a file; `fresh()` is this machine's environment
without any Touchpoint setting; `get()` and `ready()` ask the web app over HTTP.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parents[1]
PARTS = ("web", "worker", "scheduler")
PROMISE = 60  # seconds from start until the demo's prep note and proposal are in the outbox
_URL = re.compile(r"running on (http://127\.0\.0\.1:\d+)/")
_CONFIG = ("TOUCHPOINT_", "REDIS_", "DATABASE_", "SMTP_", "GOOGLE_", "SECRET_KEY")


class Run:
    """One `touchpoint run` in a subprocess, its output kept in a file."""

    def __init__(self, data: Path, *args: str, **environ: str) -> None:
        self.data, self.started = data, time.monotonic()
        self.output = data.parent / "run.log"
        command = [sys.executable, "-m", "service.cli", "run", "--port", "0", "--data", str(data)]
        with self.output.open("wb") as log:
            self.process = subprocess.Popen(
                [*command, *args], stdout=log, stderr=subprocess.STDOUT, env=fresh(**environ)
            )
        self.family: list[psutil.Process] = []

    def text(self) -> str:
        return self.output.read_text(errors="replace")

    def until(self, found: Callable[[], object], what: str) -> None:
        """Wait (within the promise) until found() is true; fail with the output otherwise."""
        while time.monotonic() - self.started < PROMISE:
            if found():
                return
            assert self.process.poll() is None, f"it stopped before {what}:\n{self.text()}"
            time.sleep(0.2)
        pytest.fail(f"no {what} within {PROMISE} s:\n{self.text()}")

    def url(self) -> str:
        self.until(lambda: _URL.search(self.text()), "address")
        match = _URL.search(self.text())
        assert match is not None
        return match.group(1)

    def remember_children(self) -> None:
        self.family = psutil.Process(self.process.pid).children(recursive=True)

    def stop(self, signum: int = signal.SIGINT) -> int:
        self.process.send_signal(signum)
        return self.process.wait(timeout=30)

    def end(self) -> None:
        """Kill what this test started and left running (after a failure)."""
        if self.process.poll() is None:
            self.family = psutil.Process(self.process.pid).children(recursive=True)
            self.process.kill()
            self.process.wait()
        for process in self.family:
            if process.is_running():
                process.kill()


def fresh(**environ: str) -> dict[str, str]:
    """Return this environment without any Touchpoint setting: a machine with nothing set up."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith(_CONFIG)}
    return {**kept, "PYTHONPATH": str(ROOT), **environ}


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""
    except OSError:
        return 0, ""


def ready(url: str) -> bool:
    return get(f"{url}/healthz")[0] == 200


def outbox(data: Path) -> list[str]:
    return sorted(p.name.split(".")[0] for p in (data / "outbox").glob("*.eml"))
