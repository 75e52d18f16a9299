"""Who is signed in: the session cookie holds a sign-in secret the server can end at any time.

Views ask here; the secret is looked up once per request (account/sessions.py keeps the rows).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, g, redirect, request, session, url_for

from service.account.sessions import end_all_sessions, end_session, open_session, user_of
from service.models import User
from service.web.context import clock
from service.web.extensions import db

_KEY = "sid"
_UNSET = object()


def current_user() -> User | None:
    """Return the signed-in user, or None."""
    found = g.get("signed_in", _UNSET)
    if found is _UNSET:
        found = user_of(db.session(), session.get(_KEY), clock())
        g.signed_in = found
    return found  # type: ignore[return-value]


def sign_in(user: User) -> None:
    """Sign the user in on this browser (a fresh session: no fixation) and commit it."""
    session.clear()
    session[_KEY] = open_session(db.session(), user, clock())
    session.permanent = True
    db.session.commit()
    g.signed_in = user


def sign_out() -> None:
    """End this browser's session, on the server too: a copy of the cookie stops working."""
    end_session(db.session(), session.get(_KEY))
    db.session.commit()
    session.clear()
    g.signed_in = None


def sign_out_everywhere(user: User) -> int:
    """End every session of the user, this one included; return how many."""
    ended = end_all_sessions(db.session(), user.id)
    db.session.commit()
    session.clear()
    g.signed_in = None
    return ended


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Send anonymous visitors to the sign-in page, then back here."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            return redirect(url_for("auth.signin", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped


def require_user() -> User:
    """Return the signed-in user inside a login_required view."""
    user = current_user()
    if user is None:
        abort(401)
    return user
