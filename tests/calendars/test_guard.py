"""The ceiling around a read: a child that runs too long or grows too big is stopped, and the
process that asked stays up and is told in plain words."""

from __future__ import annotations

import os
import time

import pytest

from service.calendars.guard import Ceiling, Tripped, guarded


def _sleep_forever() -> None:
    while True:  # one "library call" that never returns
        time.sleep(1)


def _grow() -> list[bytes]:
    found = []
    while True:
        found.append(bytearray(16 * 1024 * 1024))


def test_a_read_that_runs_past_its_time_is_killed_and_said_so() -> None:
    started = time.monotonic()

    with pytest.raises(Tripped, match=r"took longer than 0\.5 seconds"):
        guarded(_sleep_forever, Ceiling(seconds=0.5, megabytes=64))

    assert time.monotonic() - started < 5
    assert os.getpid() > 0  # still here, and the child is reaped (the suite checks none is left)


def test_a_read_that_grows_past_its_memory_is_stopped_and_said_so() -> None:
    with pytest.raises(Tripped, match="needed more than 64 MB") as tripped:
        guarded(_grow, Ceiling(seconds=20, megabytes=64))

    assert tripped.value.what == "memory"


def test_what_the_read_returns_or_raises_comes_back_as_if_it_ran_here() -> None:
    assert guarded(lambda: {"events": [1, 2, 3]}, Ceiling(5, 64)) == {"events": [1, 2, 3]}
    with pytest.raises(ValueError, match="no calendar"):
        guarded(_refuse, Ceiling(5, 64))


def _refuse() -> None:
    raise ValueError("no calendar")
