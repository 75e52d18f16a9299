"""The worker and scheduler of `touchpoint run`: child processes, watched and started again.

A child that dies (killed, out of memory, Redis gone for a moment) is started again after a
growing wait while the web app stays up; Ctrl-C stops them all, each after its current job.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess

import redis

from service.adapters.redis import connect
from service.config import Settings

log = logging.getLogger("service.embedded")

GRACE_SECONDS = 10  # for a child to finish its current job after Ctrl-C
RESTART_MAX = 60.0  # seconds: the longest wait before starting a dying child again


class Children:
    """The worker and scheduler processes of one run."""

    def __init__(
        self, parts: list[tuple[str, Settings]], target: Callable[[str, Settings, int], None]
    ) -> None:
        self.parts, self.target = parts, target
        self.processes: list[BaseProcess] = []
        self.stopping, self.failed = False, ""

    def start(self) -> None:
        """Start every child; call stop() after this even when it is interrupted (Ctrl-C).

        Each child is kept as soon as it exists, so stop() finds every child already started
        when Ctrl-C comes half-way: none is left behind for the interpreter's exit to wait on.
        """
        for part, settings in self.parts:
            self.processes.append(self._start(part, settings))

    def _start(self, part: str, settings: Settings) -> BaseProcess:
        context = multiprocessing.get_context("spawn")
        args = (self.target, part, settings, os.getpid())
        process = context.Process(target=_child, args=args, name=part)
        # Ctrl-C or SIGTERM wait until the child is started and can be handed back to be kept.
        signals = {signal.SIGINT, signal.SIGTERM}
        signal.pthread_sigmask(signal.SIG_BLOCK, signals)
        try:
            process.start()
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, signals)
        return process

    def watch(self, on_exit: Callable[[], None]) -> None:
        """Start again (from another thread) a child that ended before it was asked to.

        The web stays up meanwhile; a child that keeps dying waits longer each time (1 s, 2 s,
        4 s ... a minute), and one that lived a minute starts from 1 s again. on_exit is kept for
        a child that cannot be started at all.
        """
        # Polled: a child's sentinel pipe stays open in what it forks (RQ's scheduler).
        waits = [0.0] * len(self.processes)
        born = [time.monotonic()] * len(self.processes)

        def watching() -> None:
            while not self.stopping:
                for index, process in enumerate(self.processes):
                    if process.is_alive() or self.stopping:
                        continue
                    lived = time.monotonic() - born[index]
                    waits[index] = (
                        1.0 if lived > RESTART_MAX else min(max(waits[index] * 2, 1.0), RESTART_MAX)
                    )
                    log.error(
                        "the %s stopped (exit status %s): starting it again in %g s",
                        process.name, process.exitcode, waits[index],
                    )  # fmt: skip
                    _kill_group(process)  # what it had started, RQ's scheduler among them
                    if not self._restart(index, waits[index]):
                        self.failed = f"the {process.name} could not be started again"
                        on_exit()
                        return
                    born[index] = time.monotonic()
                time.sleep(0.2)

        threading.Thread(target=watching, name="children", daemon=True).start()

    def _restart(self, index: int, wait: float) -> bool:
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.stopping:
                return True
            time.sleep(0.1)
        try:
            self.processes[index] = self._start(*self.parts[index])
        except OSError as error:
            log.error("cannot start the %s: %s", self.parts[index][0], error)
            return False
        return True

    def stop(self) -> None:
        """Ask each child to stop after its current job; end what still runs after the grace."""
        self.stopping = True
        for process in self.processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: RQ's warm shutdown
        deadline = time.monotonic() + GRACE_SECONDS
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C again: do not wait
            while time.monotonic() < deadline and any(p.is_alive() for p in self.processes):
                time.sleep(0.1)
        for process in self.processes:
            if process.is_alive():
                log.warning("the %s did not stop in time: ending it", process.name)
                _kill_group(process)
            process.join()
        log.info("stopped")


def _child(
    target: Callable[[str, Settings, int], None], part: str, settings: Settings, parent: int
) -> None:
    """Take Ctrl-C and SIGTERM again (held back while the parent started it), then run."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    target(part, settings, parent)


def _kill_group(process: BaseProcess) -> None:
    """Kill a child with anything it started: the process group it made for itself."""
    assert process.pid is not None
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:  # it had not made its group yet, or it is gone with its group
        with contextlib.suppress(ProcessLookupError):
            process.kill()


def run_child(part: str, settings: Settings, parent: int) -> None:
    """Run the worker or the scheduler of `touchpoint run` in this (child) process."""
    # Its own process group: Ctrl-C in the terminal reaches the parent only, which then asks
    # each child once (a second signal would make RQ abandon the job it is running).
    os.setpgid(0, 0)
    _follow(parent)
    # What this child forks (RQ's own scheduler) follows it in turn, should it die suddenly.
    os.register_at_fork(after_in_child=lambda: _follow(os.getppid()))
    connection = connect(settings.redis_url)
    if part == "worker":
        _work(settings, connection)
    else:
        from workers.recovery import keep_settling
        from workers.schedule import QUEUES, build_scheduler

        keep_settling(connection, QUEUES)
        build_scheduler(connection).start()


def _work(settings: Settings, connection: redis.Redis) -> None:
    from workers import runtime
    from workers.schedule import QUEUES, build_worker

    runtime.use(settings)
    # No fork per job (macOS cannot fork safely); the RQ scheduler runs retries that wait.
    worker = build_worker(connection, QUEUES, fork=False)
    log.info("working on the queues %s", ", ".join(QUEUES))
    worker.work(with_scheduler=True, logging_level="WARNING")


def _follow(parent: int) -> None:
    """Stop this process (SIGTERM) once its parent is gone, killed without a chance to stop it."""

    def following() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=following, name="parent", daemon=True).start()
