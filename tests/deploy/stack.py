"""A production deployment on this machine: each part a process started by deploy/entrypoint.sh.

Each part runs in a working directory of its own, with TOUCHPOINT_ENV=production and nothing
shared but PostgreSQL, Redis, the SMTP server and the calendar feeds (all on loopback). Its
output (JSON log lines) stays in its directory, for the failure message.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.commands import ROOT, fresh

ENTRYPOINT = ROOT / "deploy" / "entrypoint.sh"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Part:
    """One process of the deployment: `entrypoint.sh PART ...` in its own directory."""

    def __init__(self, home: Path, part: str, *args: str, **environ: str) -> None:
        self.home, self.part = home, part
        home.mkdir(parents=True)
        self.log = home / "output.log"
        with self.log.open("wb") as output:
            self.process = subprocess.Popen(
                [str(ENTRYPOINT), part, *args],
                cwd=home,
                env=environ,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: killed together, as a machine dies
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the part and everything it started (a machine or a container gone)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, as an orchestrator stops a container; return the exit status."""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self.kill_leftovers()

    def kill_leftovers(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def environment(**settings: str) -> dict[str, str]:
    """This machine's environment without Touchpoint settings, the venv on PATH, plus these."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return fresh(PATH=path, **settings)


def wait_for(condition: Callable[[], object], what: str, parts: list[Part], timeout: float) -> None:
    """Poll until condition() is true; fail after timeout seconds with every part's output."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() > started + timeout:
            pytest.fail(f"{what}: not within {timeout:g} s\n{outputs(parts)}", pytrace=False)
        time.sleep(0.25)
    print(f"{what}: after {time.monotonic() - started:.1f} s", file=sys.stderr)  # with -s


def outputs(parts: list[Part]) -> str:
    tails = []
    for part in parts:
        lines = part.text().splitlines()[-25:]
        tails.append(f"--- {part.part} ({part.home.name}, pid {part.pid}):\n" + "\n".join(lines))
    return "\n".join(tails)
