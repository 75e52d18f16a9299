"""What a view needs from the running app: its settings, the box that seals secrets, the time."""

from __future__ import annotations

from datetime import datetime

from flask import current_app

from service import clock as system_clock
from service.adapters.secrets import SecretBox
from service.config import Settings


def app_settings() -> Settings:
    settings: Settings = current_app.extensions["touchpoint"]
    return settings


def secret_box() -> SecretBox:
    box: SecretBox = current_app.extensions["secret_box"]
    return box


def events(count: int) -> str:
    """Say "1 event" or "N events"."""
    return "1 event" if count == 1 else f"{count} events"


def clock() -> datetime:
    """Return the current time, or the frozen one tests set as app.config["NOW"] (a callable)."""
    frozen = current_app.config.get("NOW")
    return frozen() if callable(frozen) else system_clock.now()
