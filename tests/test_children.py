"""The children of `touchpoint run` stop whenever Ctrl-C comes, even half-way through start."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from service.children import Children

ROOT = Path(__file__).resolve().parents[1]


def wait_for_a_signal(part: str, settings: Any, parent: int) -> None:
    """A child that does nothing until it is told to stop (SIGTERM ends it, as RQ's would)."""
    time.sleep(120)


class CtrlCWhileStarting:
    """Settings that cannot be handed to a child: Ctrl-C arrives while it is being started."""

    def __reduce__(self) -> Any:
        raise KeyboardInterrupt


def interrupted_start() -> None:
    """Start two children, Ctrl-C while the second starts, stop; print what happened as JSON."""
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    parts = [("worker", None), ("scheduler", CtrlCWhileStarting())]
    children = Children(parts, wait_for_a_signal)  # type: ignore[arg-type]
    started, interrupted = time.monotonic(), False
    try:
        children.start()
    except KeyboardInterrupt:
        interrupted = True
    finally:
        children.stop()
    codes = {process.name: process.exitcode for process in children.processes}
    seconds = time.monotonic() - started
    print(json.dumps({"interrupted": interrupted, "exit codes": codes, "seconds": seconds}))


def test_ctrl_c_half_way_through_start_stops_the_children_already_started() -> None:
    # In a process of its own, as `touchpoint run` is: it ends with what it started.
    ran = subprocess.run(
        [sys.executable, "-c", "from tests.test_children import interrupted_start as s; s()"],
        cwd=ROOT, capture_output=True, text=True, timeout=100, check=False,
    )  # fmt: skip

    assert ran.returncode == 0, ran.stderr
    *log, last = ran.stdout.splitlines()
    outcome = json.loads(last)
    assert outcome["interrupted"]
    # The worker, started before Ctrl-C, was kept, asked to stop and ended by its SIGTERM (-15),
    # not by the kill that follows the grace, nor left for the interpreter's exit to wait on.
    assert outcome["exit codes"] == {"worker": -15}
    assert outcome["seconds"] < 60
    assert "did not stop in time: ending it" not in log
    assert log[-1] == "stopped"
