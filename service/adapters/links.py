"""Signed links: the one way every emailed or shared link names what it acts on.

A link is a purpose (the itsdangerous salt, so a snooze link cannot unsubscribe) and claims signed
with the app secret; a purpose with a max age also expires. Links that name a user carry the
account's creation time to the microsecond beside its id: ids are reused after a deletion (SQLite),
the creation time never is, so a link of a deleted account never opens the next one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from service.models import User

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class LinkInvalid(Exception):
    """The link was not made by us, or what it names is gone."""


class LinkExpired(Exception):
    """The link was ours but is too old, or what it names can no longer be acted on."""


@dataclass(frozen=True, slots=True)
class Purpose:
    """What a link may do, and for how long (seconds; None: as long as what it names exists)."""

    salt: str
    max_age: int | None = None

    def sign(self, secret_key: str, claims: Mapping[str, Any]) -> str:
        """Return the token carrying these claims."""
        return str(self._serializer(secret_key).dumps(dict(claims)))

    def read(self, secret_key: str, token: str) -> dict[str, Any]:
        """Return the claims a token carries; raise LinkInvalid or LinkExpired."""
        serializer = self._serializer(secret_key)
        try:
            if isinstance(serializer, URLSafeTimedSerializer):
                claims = serializer.loads(token, max_age=self.max_age)
            else:
                claims = serializer.loads(token)
        except SignatureExpired:
            raise LinkExpired from None
        except BadSignature:
            raise LinkInvalid from None
        if not isinstance(claims, dict):
            raise LinkInvalid
        return claims

    def user_of(self, session: Session, secret_key: str, token: str) -> User:
        """Return the user a token of this purpose names; raise LinkInvalid or LinkExpired."""
        return read_user_token(self, session, secret_key, token)[0]

    def _serializer(self, secret_key: str) -> URLSafeSerializer | URLSafeTimedSerializer:
        if self.max_age is None:
            return URLSafeSerializer(secret_key, salt=self.salt)
        return URLSafeTimedSerializer(secret_key, salt=self.salt)


def stamp(moment: datetime) -> int:
    """Return a moment as whole microseconds since 1970: exact, and stable in a link."""
    return (moment - EPOCH) // timedelta(microseconds=1)


def user_claims(user: User, **extra: Any) -> dict[str, Any]:
    """Return the claims that name this account (and any extra ones)."""
    return {"user": user.id, "made": stamp(user.created_at), **extra}


def user_token(purpose: Purpose, secret_key: str, user: User, **extra: Any) -> str:
    """Return a token that lets its bearer do `purpose` for this user."""
    return purpose.sign(secret_key, user_claims(user, **extra))


def read_user_token(
    purpose: Purpose, session: Session, secret_key: str, token: str
) -> tuple[User, dict[str, Any]]:
    """Return the user a token names and its claims; raise LinkInvalid or LinkExpired."""
    claims = purpose.read(secret_key, token)
    user_id = claims.get("user")
    user = session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or claims.get("made") != stamp(user.created_at):  # an id reused
        raise LinkInvalid
    return user, claims
