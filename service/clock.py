"""The one clock. Code outside the engine reads the time here; the engine is handed it."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """Return the current time, aware, in UTC."""
    return datetime.now(UTC)
