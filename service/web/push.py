"""Google's push notifications: a watched calendar changed, so sync it now instead of at the poll.

Google calls this, not a browser: there is no session and no CSRF token, so the blueprint is
exempt from CSRF; the channel id and its secret token (chosen by Touchpoint when it opened the
channel) are what prove a notification genuine. Every answer is quick and bodiless: Google
retries slow or failed deliveries, and an unknown channel gets 404.
Reference: https://developers.google.com/workspace/calendar/api/guides/push
"""

from __future__ import annotations

import logging

from flask import Blueprint, request
from werkzeug.wrappers import Response

from service.sources.schedule import PUSH_PATH, connection_for_channel, mark_due
from service.web.context import app_settings, clock
from service.web.extensions import csrf, db, limiter
from workers.enqueue import QueueUnavailable, enqueue_sync, sync_queue

log = logging.getLogger(__name__)

bp = Blueprint("push", __name__)
csrf.exempt(bp)

# The first message on a new channel only says it is open: nothing changed yet.
OPENED = "sync"


def _channel_key() -> str:
    """Count notifications per channel: Google sends them from many addresses."""
    return "push:" + request.headers.get("X-Goog-Channel-ID", "")[:64]


# A busy calendar sends bursts; one sync covers them all, and more than this is no calendar.
@bp.post(PUSH_PATH)
@limiter.limit("120 per minute", key_func=_channel_key)
def google_push() -> Response:
    session = db.session()
    connection = connection_for_channel(
        session,
        request.headers.get("X-Goog-Channel-ID", ""),
        request.headers.get("X-Goog-Channel-Token", ""),
    )
    if connection is None:
        return Response(status=404)
    if request.headers.get("X-Goog-Resource-State") == OPENED:
        return Response(status=204)
    # Due first, committed: if Redis is away, the dispatcher enqueues it within a minute.
    mark_due(connection, clock())
    connection_id, syncing = connection.id, connection.status != "broken"
    session.commit()
    if syncing:
        _enqueue(connection_id)
    return Response(status=204)


def _enqueue(connection_id: int) -> None:
    try:
        enqueue_sync(sync_queue(app_settings()), connection_id)
    except QueueUnavailable as error:
        log.warning("push for connection %s left to the dispatcher: %s", connection_id, error)
