"""The partner's busy times, from Google free/busy, where the user's grant lets them be seen.

Only a Google connection granted the calendar.freebusy scope can ask. What cannot be seen (no such
connection, a calendar not shared, Google failing) is unknown, never free: the caller proposes
from the user's own calendar alone and the partner can still decline or ask for other times.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.adapters import mail
from service.adapters.google import FREEBUSY, GoogleError, free_busy
from service.adapters.secrets import SecretBox
from service.config import Settings
from service.models import Connection, User
from service.sources.google import calendar_service

log = logging.getLogger(__name__)

Busy = list[tuple[datetime, datetime]]


def partner_busy(
    session: Session,
    settings: Settings,
    box: SecretBox,
    user: User,
    partner: str,
    start: datetime,
    end: datetime,
) -> Busy | None:
    """Return the partner's busy times in [start, end), or None when they cannot be seen."""
    connection = freebusy_connection(session, user)
    address = partner.strip().lower()
    if connection is None or not mail.is_plain_address(address):
        return None
    try:
        calendars = free_busy(calendar_service(settings, box, connection), [address], start, end)
    except GoogleError as error:
        # Free/busy only sharpens the slots: a proposal without it is still worth sending, and
        # a revoked grant is the sync's to report.
        log.warning("free/busy of a partner unknown for user %s: %s", user.id, error)
        return None
    return calendars.get(address)


def freebusy_connection(session: Session, user: User) -> Connection | None:
    """Return the user's working Google connection that may ask for free/busy, if any."""
    query = (
        select(Connection)
        .where(Connection.user_id == user.id, Connection.kind == "google")
        .where(Connection.status == "ok")
        .order_by(Connection.id)
    )
    return next((c for c in session.scalars(query) if FREEBUSY in c.scopes.split()), None)
