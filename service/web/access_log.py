"""The request log of the development server: one line a request, no secret links, no colours.

(The redaction itself lives in service.adapters.logs, for every part's log lines.)

Sign-in, proposal, reflection, feed, unsubscribe, resume and snooze links carry their secret in
the path; anyone who can read a log (or a terminal's scrollback) could otherwise use them.
"""

from __future__ import annotations

import logging
from typing import Any

from werkzeug.serving import WSGIRequestHandler

from service.adapters.logs import CleanRecords, redact

__all__ = ["CleanRecords", "RequestLog", "redact"]


class RequestLog(WSGIRequestHandler):
    """Log requests as 'address "GET / HTTP/1.1" 200 size', without a second timestamp."""

    def log(self, type: str, message: str, *args: Any) -> None:
        getattr(logging.getLogger("werkzeug"), type)(
            "%s %s", self.address_string(), (message % args).rstrip()
        )
