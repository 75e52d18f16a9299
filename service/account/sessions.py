"""Signed-in browsers, held on the server: a cookie opens an account only while its row exists.

The cookie (signed by Flask) carries a random secret; the database keeps its hash. Signing out
deletes that row, "sign out everywhere" deletes all of a user's rows, and deleting the account
deletes them with it, so a copied or old cookie stops working at once, and a cookie can never
open an account made later under a reused id.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service.models import SignInSession, User

LIFETIME = timedelta(days=30)


def open_session(session: Session, user: User, now: datetime) -> str:
    """Start a signed-in session for the user; return the secret for the cookie (caller commits)."""
    secret = secrets.token_urlsafe(32)
    row = SignInSession(
        user_id=user.id, secret_hash=_hash(secret), created_at=now, expires_at=now + LIFETIME
    )
    session.add(row)
    return secret


def user_of(session: Session, secret: object, now: datetime) -> User | None:
    """Return the user a cookie's secret signs in, or None (ended, expired or never ours)."""
    if not isinstance(secret, str) or not secret or len(secret) > 100:
        return None
    query = (
        select(User)
        .join(SignInSession, SignInSession.user_id == User.id)
        .where(SignInSession.secret_hash == _hash(secret), SignInSession.expires_at > now)
    )
    return session.scalar(query)


def end_session(session: Session, secret: object) -> None:
    """End one signed-in session (sign out on this browser); the caller commits."""
    if isinstance(secret, str) and secret:
        session.execute(delete(SignInSession).where(SignInSession.secret_hash == _hash(secret)))


def end_all_sessions(session: Session, user_id: int) -> int:
    """End every signed-in session of the user; return how many (the caller commits)."""
    ended = session.execute(delete(SignInSession).where(SignInSession.user_id == user_id))
    return int(getattr(ended, "rowcount", 0) or 0)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
