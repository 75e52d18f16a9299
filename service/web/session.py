"""Who is signed in: the session cookie holds the user id; views ask for it here."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, redirect, request, session, url_for

from service.models import User
from service.web.extensions import db


def current_user() -> User | None:
    """Return the signed-in user, or None."""
    user_id = session.get("user_id")
    if user_id is None:
        return None
    return db.session.get(User, user_id)


def sign_in(user: User) -> None:
    session.clear()  # a fresh session on sign-in: no fixation
    session["user_id"] = user.id
    session.permanent = True


def sign_out() -> None:
    session.clear()


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
