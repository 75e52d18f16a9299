"""What a view needs from the running app: its settings and the box that seals secrets."""

from __future__ import annotations

from flask import current_app

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
