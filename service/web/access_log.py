"""The request log of the development server: one line a request, no secret links, no colours.

Sign-in, proposal, reflection, feed, unsubscribe, resume and snooze links carry their secret in
the path; anyone who can read a log (or a terminal's scrollback) could otherwise use them.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from werkzeug.serving import WSGIRequestHandler

HIDDEN = "…"
# The first path segment after these is a bearer secret (the routes with <token>/<link_token>).
SECRET_PATHS = ("signin", "p", "reflect", "feed", "resume", "unsubscribe", "notes/[a-z]+")
_SECRET_SEGMENT = re.compile(
    rf"(/(?:{'|'.join(SECRET_PATHS)})/)([^/?#\s\"\x1b]+?)(\.ics)?(?=[/?#\s\"\x1b]|$)"
)
# OAuth answers carry a one-time code and the state in the query.
_SECRET_QUERY = re.compile(r"([?&](?:code|state|token)=)[^&#\s\"\x1b]+")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def redact(text: str) -> str:
    """Replace the secret of every secret link in text with "…"."""
    text = _SECRET_SEGMENT.sub(lambda m: f"{m[1]}{HIDDEN}{m[3] or ''}", text)
    return _SECRET_QUERY.sub(rf"\g<1>{HIDDEN}", text)


class CleanRecords(logging.Filter):
    """Redact secret links from every record; drop colour codes unless logging to a terminal."""

    def __init__(self, terminal: bool) -> None:
        super().__init__()
        self.terminal = terminal

    def filter(self, record: logging.LogRecord) -> bool:
        text = redact(record.getMessage())
        record.msg, record.args = text if self.terminal else _ANSI.sub("", text), None
        return True


class RequestLog(WSGIRequestHandler):
    """Log requests as 'address "GET / HTTP/1.1" 200 size', without a second timestamp."""

    def log(self, type: str, message: str, *args: Any) -> None:
        getattr(logging.getLogger("werkzeug"), type)(
            "%s %s", self.address_string(), (message % args).rstrip()
        )
