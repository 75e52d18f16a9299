"""Sign-in links: a single-use token per link, and the account an address signs in to.

A link carries <token id>.<secret>: only a SHA-256 hash of the 32-byte secret is stored, it
expires after 15 minutes, and using it is a conditional UPDATE, so it works once. An address has
one live link at a time: asking again while it works sends nothing, so a stranger asking for
someone's address can neither flood their inbox nor lock them out.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.engine.i18n import DEFAULT, supported
from service.models import LoginToken, User

LINK_MINUTES = 15


def has_live_link(session: Session, email: str, now: datetime) -> bool:
    """Tell whether the address has a sign-in link out that still works (one at a time)."""
    query = select(LoginToken.id).where(
        func.lower(LoginToken.email) == email.strip().lower(),
        LoginToken.used_at.is_(None),
        LoginToken.expires_at > now,
    )
    return session.scalar(query.limit(1)) is not None


def create_login_token(
    session: Session, email: str, next_url: str, now: datetime
) -> tuple[LoginToken, str]:
    """Store a new sign-in token; return it and its secret (only the secret's hash is kept)."""
    secret = secrets.token_urlsafe(32)
    token = LoginToken(
        email=email,
        secret_hash=_hash(secret),
        next_url=next_url,
        expires_at=now + timedelta(minutes=LINK_MINUTES),
    )
    session.add(token)
    session.flush()
    return token, secret


def use_login_token(session: Session, link_token: str, now: datetime) -> LoginToken | None:
    """Mark the token used if it is valid, unused and unexpired; return it, or None."""
    parsed = _parse(link_token)
    if parsed is None:
        return None
    token_id, secret_hash = parsed
    used = session.connection().execute(
        update(LoginToken)
        .where(
            LoginToken.id == token_id,
            LoginToken.secret_hash == secret_hash,
            LoginToken.used_at.is_(None),
            LoginToken.expires_at > now,
        )
        .values(used_at=now)
    )
    return session.get(LoginToken, token_id) if used.rowcount == 1 else None


def usable_login_token(session: Session, link_token: str, now: datetime) -> LoginToken | None:
    """Return the token if it could be used now, without using it."""
    parsed = _parse(link_token)
    if parsed is None:
        return None
    token = session.get(LoginToken, parsed[0])
    if token is None or not secrets.compare_digest(token.secret_hash, parsed[1]):
        return None
    return token if token.used_at is None and token.expires_at > now else None


def account_for(session: Session, email: str, language: str = DEFAULT) -> User:
    """Return the user with this (lower-cased) address, creating the account on first sign-in.

    language: what a new account's pages and emails are written in (the browser's, at sign-up).
    """
    found = session.scalar(select(User).where(User.email == email))
    if found is not None:
        return found
    user = User(email=email, language=supported(language))
    try:
        with session.begin_nested():
            session.add(user)
    except IntegrityError:  # the same new address signed in twice at once: the other one won
        return session.scalars(select(User).where(User.email == email)).one()
    return user


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _parse(link_token: str) -> tuple[int, str] | None:
    token_id, _dot, secret = link_token.partition(".")
    if not token_id.isdigit() or len(token_id) > 18 or not secret:
        return None
    return int(token_id), _hash(secret)
