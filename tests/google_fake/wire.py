"""Requests and responses of the fake Google, and the error bodies Google actually sends."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

# Reference: https://developers.google.com/workspace/calendar/api/guides/errors
API_ERRORS: dict[int, tuple[str, str]] = {
    400: ("badRequest", "Bad Request"),
    401: ("authError", "Invalid Credentials"),
    403: ("forbidden", "Forbidden"),
    404: ("notFound", "Not Found"),
    409: ("duplicate", "The requested identifier already exists."),
    410: ("fullSyncRequired", "Sync token is no longer valid, a full sync is required."),
    429: ("rateLimitExceeded", "Rate Limit Exceeded"),
    500: ("backendError", "Backend Error"),
    503: ("backendError", "Service Unavailable"),
}


@dataclass
class Request:
    """One HTTP request as the fake sees it; `form` holds every value of repeated fields."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    form: dict[str, list[str]] = field(default_factory=dict)
    user: str | None = None  # the signed-in Google account, once the bearer token is checked

    def json(self) -> Any:
        return json.loads(self.body or b"{}")

    def field(self, name: str, default: str = "") -> str:
        return (self.form.get(name) or [default])[0]


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def json_response(data: Any, status: int = 200) -> Response:
    return Response(status, json.dumps(data).encode(), {"Content-Type": "application/json"})


def api_error(status: int, reason: str | None = None, message: str | None = None) -> Response:
    """Return a Calendar API error in Google's JSON shape."""
    default_reason, default_message = API_ERRORS.get(status, ("unknown", "Error"))
    text = message or default_message
    errors = [{"domain": "global", "reason": reason or default_reason, "message": text}]
    response = json_response({"error": {"errors": errors, "code": status, "message": text}}, status)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="https://accounts.google.com/"'
    return response


def oauth_error(error: str, description: str, status: int = 400) -> Response:
    """Return an OAuth token-endpoint error (RFC 6749 section 5.2 shape)."""
    return json_response({"error": error, "error_description": description}, status)


def redirect(url: str, params: dict[str, str]) -> Response:
    joiner = "&" if "?" in url else "?"
    return Response(302, headers={"Location": f"{url}{joiner}{urlencode(params)}"})


def html(text: str, status: int = 200) -> Response:
    return Response(status, text.encode(), {"Content-Type": "text/html; charset=utf-8"})


def no_content() -> Response:
    return Response(204)


def rfc3339(moment: datetime) -> str:
    """Format like Google: UTC with milliseconds and a Z."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def new_id(length: int = 26) -> str:
    """Return a random id from Google's event-id alphabet (base32hex, lower case)."""
    alphabet = "0123456789abcdefghijklmnopqrstuv"
    return "".join(secrets.choice(alphabet) for _ in range(length))
