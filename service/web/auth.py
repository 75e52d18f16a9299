"""Sign in with an email magic link, and sign out.

The link's token (stored hashed, single use, 15 minutes) is service.account.login's; opening
the link shows a button to press: mail scanners follow links, they do not press buttons.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, ValidationError
from wtforms.validators import InputRequired, Length

from service.account.login import (
    LINK_MINUTES,
    account_for,
    create_login_token,
    has_live_link,
    usable_login_token,
    use_login_token,
)
from service.adapters import mail
from service.config import Settings
from service.dashboard.insights import has_calendar
from service.models import User
from service.web.context import app_settings, clock
from service.web.extensions import db, limiter
from service.web.i18n import browser_language
from service.web.outbox import outbox_open
from service.web.session import current_user, sign_in, sign_out

bp = Blueprint("auth", __name__)

# Whitespace and control characters: browsers drop some of them from URLs ("/\t/evil" -> "//evil").
_UNSAFE_IN_PATH = re.compile(r"[\x00-\x20\x7f-\x9f\\]")


def _lower(value: str | None) -> str | None:
    return value.strip().lower() if value else value


def _plain_address(_form: FlaskForm, field: EmailField) -> None:
    if not mail.is_plain_address(field.data or ""):
        raise ValidationError(_("That does not look like an email address."))


class SignInForm(FlaskForm):
    email = EmailField(
        _l("Email address"),
        filters=[_lower],
        validators=[
            InputRequired(_l("Enter your email address.")),
            Length(max=254),
            _plain_address,
        ],
    )
    next = HiddenField()


class ButtonForm(FlaskForm):
    """A form that is only a button (and its CSRF token)."""


def safe_next(value: str | None) -> str:
    """Return value when it is a path on this site, else "" (no open redirects)."""
    if not value or len(value) > 500 or _UNSAFE_IN_PATH.search(value):
        return ""
    if not value.startswith("/") or value.startswith("//"):
        return ""
    parts = urlsplit(value)
    return value if not parts.scheme and not parts.netloc else ""


def _settings() -> Settings:
    settings = app_settings()
    return settings


@bp.route("/signin", methods=["GET", "POST"])
@limiter.limit("5 per minute", methods=["POST"])
def signin() -> ResponseReturnValue:
    form = SignInForm(next=safe_next(request.args.get("next")))
    if form.validate_on_submit():
        email = form.email.data or ""
        outcome = _send_link(email, safe_next(form.next.data))
        session["signin_sent"] = {"email": email, "outcome": outcome}
        return redirect(url_for("auth.sent"))
    return render_template(
        "web/auth/signin.html",
        form=form,
        user=current_user(),
        signout=ButtonForm(),
        google_url=_google_signin_url(form.next.data),
    )


def _send_link(email: str, next_url: str) -> str:
    """Store a token and email its link; return how the sending went (mail.send_now).

    While the address has a link that still works, nothing new is sent (the page says the same).
    """
    settings, store = _settings(), db.session()
    if has_live_link(store, email, clock()):
        return "sent"
    token, secret = create_login_token(store, email, next_url, clock())
    link = settings.base_url + url_for("auth.confirm", link_token=f"{token.id}.{secret}")
    outbox = mail.queue_magic_link(store, settings, email, link, LINK_MINUTES)
    store.commit()
    return mail.send_now(db, settings, outbox.id)


def _google_signin_url(next_url: str | None) -> str | None:
    """Return where "Sign in with Google" goes, when Google is configured and wired."""
    if not _settings().google.enabled:
        return None
    if "google.signin" not in current_app.view_functions:
        return None
    return url_for("google.signin", next=safe_next(next_url) or None)


@bp.get("/signin/sent")
def sent() -> ResponseReturnValue:
    # The same page for every address, known or not: it must not tell who has an account.
    sending: dict[str, Any] | None = session.get("signin_sent")
    if not sending:
        return redirect(url_for("auth.signin"))
    return render_template(
        "web/auth/sent.html", minutes=LINK_MINUTES, outbox=_local_outbox(), **sending
    )


def _local_outbox() -> bool:
    """Say whether emails go to the local outbox and this browser may open it (a laptop)."""
    return outbox_open(app_settings(), request.remote_addr, request.host, request.headers.keys())


@bp.route("/signin/<link_token>", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def confirm(link_token: str) -> ResponseReturnValue:
    now, store, form = clock(), db.session(), ButtonForm()
    if form.validate_on_submit():
        token = use_login_token(store, link_token, now)
        if token is None:
            return _link_unusable()
        user = account_for(store, token.email, browser_language())
        store.commit()
        sign_in(user)
        return redirect(_landing(user, safe_next(token.next_url)))
    if usable_login_token(store, link_token, now) is None:
        return _link_unusable()
    return render_template("web/auth/confirm.html", form=form)


def _landing(user: User, next_url: str) -> str:
    """Return where a sign-in lands: where it was going, but the first steps before a calendar."""
    if next_url not in ("", "/") or has_calendar(db.session(), user.id):
        return next_url or "/"
    return url_for("onboarding.connect")


def _link_unusable() -> ResponseReturnValue:
    return render_template("web/auth/unusable.html"), 410


@bp.post("/signout")
def signout() -> ResponseReturnValue:
    sign_out()
    flash(_("You are signed out."))
    return redirect(url_for("auth.signin"))
