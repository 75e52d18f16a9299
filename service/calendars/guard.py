"""Run the reading of one calendar where it cannot take the process down: a child with a ceiling.

The read budget (budget.py) stops between series and between blocks, but one library call (a
rule icalendar or dateutil expands, a huge property) can still run long or grow without bound.
So the read runs in a forked child whose address space is capped (RLIMIT_AS: the parent's size
plus `megabytes`) and which is killed when `seconds` pass. The parent only waits on a pipe: the
CLI, a web request and a worker stay up and answer, whatever the calendar asks for.

Forking copies nothing up front and needs no imports in the child; the result comes back
pickled. Where fork does not exist the read runs in-process under the budget alone.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import resource
import select
import signal
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")
MiB = 1024 * 1024
_OK, _FAILED, _MEMORY = b"o", b"f", b"m"


@dataclass(frozen=True, slots=True)
class Ceiling:
    """The hard limits of one read (settings: TOUCHPOINT_READ_HARD_SECONDS, _MEGABYTES)."""

    seconds: float = 20.0
    megabytes: int = 512


class Tripped(Exception):
    """The read passed its ceiling and was stopped; str() says which, in plain words."""

    def __init__(self, what: str, ceiling: Ceiling) -> None:
        self.what = what
        if what == "memory":
            text = f"reading it needed more than {ceiling.megabytes} MB"
        else:
            text = f"reading it took longer than {ceiling.seconds:g} seconds"
        super().__init__(text)


def guarded(work: Callable[[], T], ceiling: Ceiling) -> T:
    """Return work() run in a child under the ceiling; raise Tripped when it passes it.

    An exception work() raises is raised here again (pickled across), so callers handle
    CalendarError and the like as if the call were local.
    """
    if not hasattr(os, "fork"):
        return work()
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(reader)
        _child(work, writer, ceiling)
    os.close(writer)
    try:
        payload = _collect(reader, time.monotonic() + ceiling.seconds)
    finally:
        os.close(reader)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    return _result(payload, ceiling)


def _child(work: Callable[[], object], writer: int, ceiling: Ceiling) -> None:
    code = 0
    try:
        _cap_memory(ceiling.megabytes)
        try:
            data = _OK + pickle.dumps(work(), protocol=pickle.HIGHEST_PROTOCOL)
        except MemoryError:
            data = _MEMORY
        except Exception as exc:
            data = _FAILED + _pickled_error(exc)
        with os.fdopen(writer, "wb") as pipe:
            pipe.write(data)
    except BaseException:
        code = 1
    finally:
        os._exit(code)


def _pickled_error(exc: Exception) -> bytes:
    try:
        return pickle.dumps(exc)
    except Exception:
        return pickle.dumps(RuntimeError("".join(traceback.format_exception_only(exc)).strip()))


def _cap_memory(megabytes: int) -> None:
    """Cap the child's address space at what it has now plus megabytes."""
    with contextlib.suppress(OSError, ValueError):
        now = _address_space()
        limit = now + megabytes * MiB
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _address_space() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _collect(reader: int, deadline: float) -> bytes | None:
    """Read the child's answer until it closes the pipe; None when the deadline passes."""
    chunks: list[bytes] = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        ready, _, _ = select.select([reader], [], [], left)
        if not ready:
            return None
        chunk = os.read(reader, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _result(payload: bytes | None, ceiling: Ceiling) -> T:  # type: ignore[type-var]
    if payload is None:
        raise Tripped("time", ceiling)
    kind, body = payload[:1], payload[1:]
    if kind == _OK:
        return pickle.loads(body)  # type: ignore[no-any-return]  # noqa: S301 - our own child
    if kind == _FAILED:
        raise pickle.loads(body)  # noqa: S301 - our own child
    raise Tripped("memory", ceiling)  # MemoryError, or killed before it could say
