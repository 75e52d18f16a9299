"""Helpers for posting forms as a browser does: with the CSRF token the page carries."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from sqlalchemy import select

_INPUT = re.compile(r"<input\b[^>]*>", re.IGNORECASE)
_VALUE = re.compile(r'\bvalue="([^"]*)"')


def csrf_token(html: str) -> str:
    """Return the CSRF token of the first form in the page."""
    for tag in _INPUT.findall(html):
        if 'name="csrf_token"' in tag and (value := _VALUE.search(tag)):
            return value.group(1)
    raise AssertionError("the page has no form with a CSRF token")


def post_form(
    client: Any, url: str, data: dict[str, Any], *, page: str | None = None, **options: Any
) -> Any:
    """Open the page (url unless given), then post data to url with the page's CSRF token.

    Options (follow_redirects=True, ...) go to client.post.
    """
    shown = client.get(page or url)
    assert shown.status_code == 200, f"{page or url} answered {shown.status_code}"
    return client.post(url, data={**data, "csrf_token": csrf_token(shown.text)}, **options)


def sign_in_as(client: Any, app: Flask, email: str, **columns: Any) -> int:
    """Sign the test client in as the user with this address (created if new, with these
    columns); return the id.

    A shortcut for tests of other pages: tests/web/test_auth.py covers the real magic-link flow.
    """
    from service.models import User
    from service.web.extensions import db

    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(email=email, **columns)
            db.session.add(user)
            db.session.commit()
        user_id = user.id
    sign_in_by_id(client, user_id)
    return user_id


def sign_in_by_id(client: Any, user_id: int) -> None:
    """Give the test client a signed-in session of this user, as signing in would."""
    from service.account.sessions import open_session
    from service.clock import now
    from service.models import User
    from service.web.extensions import db

    with db.unit() as session:
        secret = open_session(session, session.get_one(User, user_id), now())
    with client.session_transaction() as session:
        session.clear()
        session["sid"] = secret
        session.permanent = True
