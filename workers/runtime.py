"""What a job needs without Flask: the settings, the database and the secret box, once a process.

Built on first use from the environment (read once per worker process), or from the settings a
caller hands to use() first: tests, and `touchpoint run` with its embedded parts. RQ's default
worker runs each job in a forked process; a child must open its own database connections, never
reuse the pooled ones it inherited, so the pool is dropped after a fork.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

from service.adapters.db import Database
from service.adapters.secrets import SecretBox
from service.config import Settings, finish, from_env


@dataclass(frozen=True, slots=True)
class Runtime:
    """Everything a job loads its rows with, and the settings it acts on."""

    settings: Settings
    database: Database
    box: SecretBox


_current: Runtime | None = None
_lock = threading.Lock()


def current() -> Runtime:
    """Return this process's runtime, building it from the environment the first time."""
    global _current
    with _lock:
        if _current is None:
            _current = _build(finish(from_env()))
        return _current


def use(settings: Settings) -> Runtime:
    """Run this process's jobs with these settings (finished already) instead of the environment."""
    global _current
    with _lock:
        _close(_current)
        _current = _build(settings)
        return _current


def reset() -> None:
    """Close the runtime's connections and forget it; the next job builds it again."""
    global _current
    with _lock:
        _close(_current)
        _current = None


def _build(settings: Settings) -> Runtime:
    return Runtime(settings, Database(settings.database_url), SecretBox(settings.encryption_keys))


def _close(runtime: Runtime | None) -> None:
    if runtime is not None:
        runtime.database.dispose()


def _after_fork_in_child() -> None:
    global _lock
    _lock = threading.Lock()  # another thread may have held it at the fork
    engine = _current.database.engine if _current is not None else None
    if engine is not None:
        # close=False: the parent still uses those connections; the child opens new ones.
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_after_fork_in_child)
