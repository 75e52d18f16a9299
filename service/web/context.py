"""What a view needs from the running app: its settings, the box that seals secrets, the time."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from flask import abort, current_app
from flask_babel import ngettext
from sqlalchemy.orm import Session

from service import clock as system_clock
from service.adapters.links import LinkExpired, LinkInvalid
from service.adapters.secrets import SecretBox
from service.config import Settings
from service.web.extensions import db
from workers.enqueue import QueueUnavailable, enqueue_plan, enqueue_sync, sync_queue

T = TypeVar("T")
log = logging.getLogger(__name__)


def app_settings() -> Settings:
    settings: Settings = current_app.extensions["touchpoint"]
    return settings


def secret_box() -> SecretBox:
    box: SecretBox = current_app.extensions["secret_box"]
    return box


def events(count: int) -> str:
    """Say "1 event" or "N events"."""
    return ngettext("%(num)d event", "%(num)d events", count)


def clock() -> datetime:
    """Return the current time, or the frozen one tests set as app.config["NOW"] (a callable)."""
    frozen = current_app.config.get("NOW")
    return frozen() if callable(frozen) else system_clock.now()


def opened(read: Callable[[Session, str, str], T], token: str) -> T | None:
    """Return what a signed link names, read with read(session, secret key, token).

    None when the link expired (the page says so); a 404 when it was not made here or what it
    named is gone, so a guessed link learns nothing.
    """
    try:
        return read(db.session(), current_app.config["SECRET_KEY"], token)
    except LinkExpired:
        return None
    except LinkInvalid:
        abort(404)


def opened_or_404(read: Callable[[Session, str, str], T], token: str) -> T:
    """Return what a signed link that never expires names; a 404 otherwise."""
    found = opened(read, token)
    if found is None:
        abort(404)
    return found


def replan(user_id: int) -> None:
    """Ask the workers to plan the user's prep notes now (after a calendar or settings changed).

    Without Redis the next sync that changes the calendar plans them; nothing is lost.
    """
    try:
        enqueue_plan(app_settings(), user_id)
    except QueueUnavailable as error:
        log.warning("prep notes of user %s not planned now: %s", user_id, error)


def read_later(connection_id: int) -> None:
    """Ask a worker to read a calendar a request had no time for (its sync job reads, stores and
    plans it, within the full read budget).

    Without Redis the sync dispatcher finds it due on its next tick; nothing is lost.
    """
    try:
        enqueue_sync(sync_queue(app_settings()), connection_id)
    except QueueUnavailable as error:
        log.warning("calendar %s not read now: %s", connection_id, error)
