"""Log lines for operators: readable text on a terminal, one JSON object a line in a deployment.

Every record names the part that wrote it (web, worker, scheduler), and the request or job it
belongs to: a web request's id (the client's X-Request-ID when it is a sane one, else a new
one) and the RQ job's id. Secret links (sign-in, proposal, feed ...) are redacted from every line.
"""

from __future__ import annotations

import contextvars
import logging
import re
import sys

from pythonjsonlogger.json import JsonFormatter

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


# The id of the web request being served in this thread (set by the web app for each request).
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
TEXT_FORMAT = "%(asctime)s %(part)-9s %(levelname)s %(message)s"
JSON_FIELDS = ("asctime", "levelname", "name", "part", "message", "request_id", "job_id")
QUIET = ("alembic", "urllib3", "googleapiclient.discovery_cache")


def sane_request_id(offered: str | None) -> str | None:
    """Return a client's request id when it is short and plain (it is copied into log lines)."""
    return offered if offered and _SANE_ID.fullmatch(offered) else None


class Context(logging.Filter):
    """Add the part, the request id and the RQ job id to every record."""

    def __init__(self, part: str) -> None:
        super().__init__()
        self.part = part

    def filter(self, record: logging.LogRecord) -> bool:
        record.part = getattr(record, "part", self.part)
        record.request_id = request_id.get()
        record.job_id = _job_id()
        return True


def _job_id() -> str:
    from rq import get_current_job

    try:
        job = get_current_job()
    except Exception:  # no job context outside a worker, or Redis away: no id to give
        return ""
    return job.id if job is not None else ""


def formatter(fmt: str) -> logging.Formatter:
    """Return the formatter for "text" or "json" lines."""
    if fmt == "json":
        names = {"asctime": "time", "levelname": "level", "name": "logger"}
        return JsonFormatter(
            list(JSON_FIELDS),
            rename_fields=names,
            datefmt="%Y-%m-%dT%H:%M:%S%z",
            json_ensure_ascii=False,
        )
    return logging.Formatter(TEXT_FORMAT)


class _StandardError(logging.StreamHandler):  # type: ignore[type-arg]
    """Write to whatever sys.stderr is at the time (a test runner swaps it, then closes it)."""

    @property  # type: ignore[override]
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        """Ignore a stream set from outside: the current sys.stderr is always the one."""


def configure(part: str, fmt: str) -> logging.Handler:
    """Send this process's log records to stderr as fmt ("text" or "json") lines, redacted."""
    handler = _StandardError()
    handler.setFormatter(formatter(fmt))
    handler.addFilter(Context(part))
    handler.addFilter(CleanRecords(terminal=fmt == "text" and sys.stderr.isatty()))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    return handler
