"""The optional error reporter: Sentry (or a server speaking its protocol) when SENTRY_DSN is set.

Off by default. What it sends has no personal data (no cookies, no request bodies, no user) and
secret links redacted from messages and URLs; sentry-sdk is the `production` extra.
"""

from __future__ import annotations

import logging
from typing import Any

from service.adapters.logs import redact
from service.config import Settings

log = logging.getLogger(__name__)
_SECRET_KEYS = ("cookie", "authorization", "token", "secret", "password", "code", "state")


def start_reporting(settings: Settings, part: str) -> bool:
    """Start reporting this process's errors to settings.sentry_dsn; tell whether it started."""
    if not settings.sentry_dsn:
        return False
    try:
        import sentry_sdk
    except ImportError:
        log.warning("SENTRY_DSN is set but sentry-sdk is not installed: errors are not reported")
        return False
    sentry_sdk.init(
        dsn=settings.sentry_dsn,
        environment=settings.env,
        server_name=part,
        send_default_pii=False,
        max_request_body_size="never",
        include_local_variables=False,  # a frame's variables may hold a token or a title
        before_send=scrub,  # type: ignore[arg-type]
        traces_sample_rate=0.0,
    )
    sentry_sdk.set_tag("part", part)
    return True


def scrub(event: dict[str, Any], _hint: Any) -> dict[str, Any]:
    """Drop what could carry a secret from an event before it leaves.

    Cookies, bodies, query strings and secret-looking headers go; every other string (messages,
    breadcrumbs, the RQ job's arguments and description, URLs) has its secret links redacted.
    """
    request = event.get("request") or {}
    for field in ("cookies", "data", "query_string", "env"):
        request.pop(field, None)
    headers = request.get("headers") or {}
    request["headers"] = {k: v for k, v in headers.items() if not _secretive(k)}
    cleaned: dict[str, Any] = _redacted(event)
    return cleaned


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _redacted(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(item) for item in value]
    return value


def _secretive(name: str) -> bool:
    return any(word in name.lower() for word in _SECRET_KEYS)
