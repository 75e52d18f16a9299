"""What can go wrong talking to Google, in the terms the web app and the workers act on.

Workers retry `TransientGoogleError` (and its `RateLimited`) with RQ's Retry; everything else is
permanent: `CredentialsRevoked` marks the connection broken and tells the user, `SyncTokenExpired`
means "forget the token and do a full sync".
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httplib2
from google.auth.exceptions import RefreshError, TransportError
from googleapiclient.errors import HttpError

# 403s that Google documents as "slow down", not "forbidden".
# Reference: https://developers.google.com/workspace/calendar/api/guides/errors
_RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"})


class GoogleError(Exception):
    """Google refused or failed a request."""

    def __init__(self, message: str, *, status: int | None = None, reason: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


class CredentialsRevoked(GoogleError):
    """The user's grant is gone (revoked, expired, password changed): they must reconnect."""


class SyncTokenExpired(GoogleError):
    """The stored sync token is no longer valid: drop it and do a full sync."""


class TransientGoogleError(GoogleError):
    """Worth retrying later: a 5xx, a timeout, a connection that failed."""


class RateLimited(TransientGoogleError):
    """Google asked us to slow down (429, or a 403 rate-limit reason)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        reason: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status=status, reason=reason)
        self.retry_after = retry_after


class PermanentGoogleError(GoogleError):
    """Retrying will not help: any other 4xx."""


class NotFound(PermanentGoogleError):
    """The calendar, event or channel does not exist (or is not visible to this user)."""


class AuthorizationFailed(PermanentGoogleError):
    """Consent did not become a grant: code reused or expired, PKCE mismatch, bad id token."""


@contextmanager
def google_errors() -> Iterator[None]:
    """Turn the client libraries' exceptions into the domain exceptions above."""
    try:
        yield
    except HttpError as exc:
        raise from_http_error(exc) from exc
    except RefreshError as exc:
        raise from_refresh_error(exc) from exc
    except (TransportError, httplib2.HttpLib2Error, OSError) as exc:
        raise TransientGoogleError(f"could not reach Google: {exc}") from exc


def from_http_error(exc: HttpError) -> GoogleError:
    """Classify a Calendar API error response."""
    status = int(exc.resp.status)
    reason = _reason(exc.content)
    message = f"Google answered {status}: {exc.reason}"
    if status == 401:
        # google-auth already refreshed the token and retried: a fresh token was refused too.
        return CredentialsRevoked(message, status=status, reason=reason)
    if status == 410 and reason != "deleted":
        return SyncTokenExpired(message, status=status, reason=reason)
    if status == 429 or (status == 403 and reason in _RATE_LIMIT_REASONS):
        return RateLimited(message, status=status, reason=reason, retry_after=_retry_after(exc))
    return for_status(status, message, reason)


def for_status(status: int, message: str, reason: str = "") -> GoogleError:
    """Classify an HTTP status: 5xx and 408 transient, 404 and 410 missing, other 4xx permanent."""
    if status >= 500 or status == 408:
        return TransientGoogleError(message, status=status, reason=reason)
    if status in (404, 410):
        return NotFound(message, status=status, reason=reason)
    return PermanentGoogleError(message, status=status, reason=reason)


def from_refresh_error(exc: RefreshError) -> GoogleError:
    """Classify a failed access-token refresh."""
    details = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], Mapping) else {}
    error = str(details.get("error", ""))
    message = f"Google refused to refresh the access token: {exc.args[0] if exc.args else error}"
    if error == "invalid_grant":
        return CredentialsRevoked(message, reason=error)
    if getattr(exc, "retryable", False):
        return TransientGoogleError(message, reason=error)
    return PermanentGoogleError(message, reason=error)


def _reason(content: bytes | str | None) -> str:
    """Return the first `errors[].reason` of a Google JSON error body, or ''."""
    try:
        body: Any = json.loads(content or b"{}")
        return str(body["error"]["errors"][0]["reason"])
    except (ValueError, KeyError, IndexError, TypeError):
        return ""


def _retry_after(exc: HttpError) -> float | None:
    value = exc.resp.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
