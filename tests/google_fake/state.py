"""Everything the fake Google remembers: grants and tokens, calendars, channels, faults."""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.google_fake.wire import rfc3339

CLIENT_ID = "touchpoint-test.apps.googleusercontent.com"
CLIENT_SECRET = "fake-client-secret"
ACCESS_TOKEN_SECONDS = 3599


@dataclass
class Grant:
    """One consent: what this account allowed this client."""

    email: str
    client_id: str
    scopes: frozenset[str]
    refresh_token: str | None
    revoked: bool = False


@dataclass
class Code:
    grant: Grant
    redirect_uri: str
    challenge: str
    challenge_method: str
    nonce: str
    issued: float = field(default_factory=time.time)
    used: bool = False


@dataclass
class Consent:
    """What the next consent screen does: who is signed in, what stays ticked, allow or deny."""

    email: str = "alice@example.com"
    grant: frozenset[str] | None = None  # None: every requested scope stays ticked
    deny: bool = False


@dataclass
class Stored:
    """An event as kept: its wire body and the change number that last touched it."""

    body: dict[str, Any]
    seq: int


@dataclass
class Calendar:
    id: str
    owner: str
    summary: str
    time_zone: str = "UTC"
    events: dict[str, Stored] = field(default_factory=dict)
    version: int = 0
    free_busy_visible: bool = True

    def touch(self, body: dict[str, Any]) -> Stored:
        """Store a new version of an event under the next change number."""
        self.version += 1
        body["etag"] = f'"{self.version}"'
        body["updated"] = rfc3339(datetime.now(UTC))
        stored = self.events[body["id"]] = Stored(body, self.version)
        return stored


@dataclass
class Channel:
    id: str
    resource_id: str
    calendar_id: str
    address: str
    token: str
    expiration_ms: int
    stopped: bool = False
    messages: int = 0

    def live(self) -> bool:
        return not self.stopped and self.expiration_ms > time.time() * 1000


@dataclass
class FailRule:
    pattern: re.Pattern[str]
    status: int
    remaining: int
    method: str | None
    reason: str | None


@dataclass
class Logged:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    user: str | None


class State:
    """The fake's memory; one lock, held for the whole of each request."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.client_id = CLIENT_ID
        self.client_secret = CLIENT_SECRET
        self.redirect_uris: set[str] | None = None  # None: any redirect URI is registered
        self.consent = Consent()
        self.grants: list[Grant] = []
        self.codes: dict[str, Code] = {}
        self.access_tokens: dict[str, tuple[Grant, float]] = {}
        self.revoked: set[str] = set()
        self.calendars: dict[str, Calendar] = {}
        self.channels: list[Channel] = []
        self.rules: list[FailRule] = []
        self.requests: list[Logged] = []
        self.notifications: list[dict[str, Any]] = []
        self.errors: list[str] = []
        self.sync_epoch = 0
        self.url = ""
        # Set by the server to its push-notification sender.
        self.changed: Callable[[Calendar], None] = lambda calendar: None
        self.watched: Callable[[Channel], None] = lambda channel: None

    def calendar(self, calendar_id: str, owner: str | None = None) -> Calendar:
        """Return a calendar, creating it (owned by owner, or by its id) the first time."""
        if calendar_id not in self.calendars:
            owner = owner or calendar_id
            self.calendars[calendar_id] = Calendar(calendar_id, owner, summary=calendar_id)
        return self.calendars[calendar_id]

    def issue_access_token(self, grant: Grant) -> str:
        token = "ya29.fake-" + secrets.token_urlsafe(24)
        self.access_tokens[token] = (grant, time.time() + ACCESS_TOKEN_SECONDS)
        return token

    def grant_for_access_token(self, token: str) -> Grant | None:
        grant, expires = self.access_tokens.get(token, (None, 0.0))
        if grant is None or self.is_revoked(grant) or expires < time.time():
            return None
        return grant

    def grant_for_refresh_token(self, token: str) -> Grant | None:
        found = [g for g in self.grants if g.refresh_token == token]
        return found[0] if found and not self.is_revoked(found[0]) else None

    def is_revoked(self, grant: Grant) -> bool:
        """Tell whether the grant was revoked, by the revoke endpoint or by a test's `.revoked`."""
        return grant.revoked or (grant.refresh_token or "") in self.revoked

    def revoke(self, grant: Grant) -> None:
        grant.revoked = True
        if grant.refresh_token:
            self.revoked.add(grant.refresh_token)

    def failure_for(self, method: str, path: str) -> FailRule | None:
        """Return (and use up) the first fault rule matching this request."""
        for rule in self.rules:
            if rule.remaining and rule.method in (None, method) and rule.pattern.search(path):
                rule.remaining -= 1
                return rule
        return None
