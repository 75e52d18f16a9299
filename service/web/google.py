"""Google: sign in with Google (OpenID Connect) and connect a Google Calendar (OAuth 2.0).

One round trip serves both, with the same consent: signing in with Google also connects the
calendar when its boxes stay ticked. The state and the PKCE verifier stay in the database
(OAuthState: single use, ten minutes); the session cookie carries only the state, which binds
the round trip to the browser that started it, so a callback address made for someone else's
Google account cannot sign a victim in as that account.

Sign-in starts from a plain link: nothing changes until the callback, and the state binding
above is what stops a forged one; the sign-in page is the auth blueprint's and links here.
Connecting is a POST form with a CSRF token: it belongs to a signed-in account.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from flask import (
    Blueprint,
    abort,
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
from google_auth_oauthlib.flow import Flow
from sqlalchemy import delete, select
from werkzeug.wrappers import Response

from service.account.login import account_for
from service.adapters.google import (
    APP_CALENDARS,
    CALENDAR_SCOPES,
    EVENTS_OWNED,
    FREEBUSY,
    SIGN_IN_SCOPES,
    GoogleError,
    Grant,
    Identity,
    TransientGoogleError,
    authorization_url,
    exchange_code,
    make_flow,
)
from service.models import OAuthState, User
from service.sources import google as google_source
from service.sources.connect import SourceUnavailable
from service.sources.sync import sync_connection
from service.web.auth import safe_next
from service.web.connect import connect_attempts
from service.web.context import app_settings, clock, events, replan, secret_box
from service.web.extensions import db, limiter
from service.web.i18n import browser_language
from service.web.session import current_user, login_required, require_user, sign_in

bp = Blueprint("google", __name__)

STATE_MINUTES = 10
IN_FLIGHT = "google_oauth"  # session key: the state of the round trip this browser started
# What each calendar scope is called on Google's screen, and why Touchpoint asks for it.
WHY = {
    EVENTS_OWNED: (
        _l("See, create, change, and delete events on Google calendars you own"),
        _l(
            "Touchpoint reads your events to find the lunches, coffees and 1:1s where a career "
            "conversation fits, and puts the 15-minute chats you accept on your calendar."
        ),
    ),
    FREEBUSY: (
        _l("See the availability on Google calendars you have access to"),
        _l(
            "Touchpoint proposes a chat only when you and the person you would talk to are both "
            "free; it sees busy or free, never what the other person's events are."
        ),
    ),
    APP_CALENDARS: (
        _l("Make secondary Google calendars"),
        _l("Touchpoint keeps your prep notes in a calendar of their own, apart from your events."),
    ),
}


class Halt(Exception):
    """Stop the callback and show a page that says what happened and what to do next."""

    def __init__(self, template: str, status: int, **context: Any) -> None:
        super().__init__(template)
        self.template, self.status, self.context = template, status, context


@bp.app_context_processor
def _google_enabled() -> dict[str, bool]:
    return {"google_enabled": app_settings().google.enabled}


@bp.post("/google/connect")
@login_required
@connect_attempts
def connect() -> Response:
    user = require_user()
    then = safe_next(request.form.get("next"))
    return _start("connect", user, consent_scopes(user), next_url=then)


@bp.get("/google/signin")
@limiter.limit("10 per minute")
def signin() -> Response:
    return _start("signin", None, consent_scopes(None), next_url=safe_next(_arg("next")))


@bp.get("/google/callback")
@limiter.limit("20 per minute")
def callback() -> ResponseReturnValue:
    _require_google()
    try:
        return _complete()
    except Halt as halt:
        db.session.rollback()
        context = {"user": current_user(), **halt.context}
        return render_template(halt.template, **context), halt.status


def consent_scopes(user: User | None) -> list[str]:
    """Return what the consent screen asks for: who you are, and the calendar scopes."""
    # openid + email: the verified address names the connection (and signs in).
    scopes = [*SIGN_IN_SCOPES, *CALENDAR_SCOPES]
    # calendar.app.created only for users who want prep notes on their calendar: it lets
    # Touchpoint make a calendar of its own for them, and nobody else should have to grant it.
    if user is not None and user.calendar_notes:
        scopes.append(APP_CALENDARS)
    return scopes


def _start(purpose: str, user: User | None, scopes: Sequence[str], next_url: str = "") -> Response:
    """Keep the state and the PKCE verifier server-side, then send the browser to Google."""
    _require_google()
    state, store, started = secrets.token_urlsafe(32), db.session(), clock()
    hint = user.email if user is not None else None
    url, verifier = authorization_url(_flow(scopes), state, login_hint=hint)
    expired = started - timedelta(minutes=STATE_MINUTES)
    store.execute(delete(OAuthState).where(OAuthState.created_at < expired))
    user_id = user.id if user is not None else None
    store.add(
        OAuthState(
            state=state,
            purpose=purpose,
            user_id=user_id,
            code_verifier=verifier,
            created_at=started,
        )
    )
    store.commit()
    session[IN_FLIGHT] = {"state": state, "next": next_url}
    return redirect(url)


def _complete() -> ResponseReturnValue:
    """Finish a round trip: who signed in, what they granted, then connect the calendar."""
    flight, next_url = _take_flight(_arg("state"))
    error = _arg("error")
    if error:
        if error == "access_denied":
            raise Halt("web/google/denied.html", 200)
        raise Halt("web/google/failed.html", 400)
    grant = _exchange(flight, _arg("code"))
    identity = _identity(grant)
    if flight.purpose == "signin" and next_url in ("", "/") and _new_address(identity.email):
        next_url = url_for("onboarding.you")  # the calendar comes with Google: on to step 2
    user = _user_for(flight, identity)
    if flight.purpose == "signin":
        db.session.commit()
        sign_in(user)
    missing = grant.missing(CALENDAR_SCOPES)
    if missing or not grant.refresh_token:
        return render_template(
            "web/google/missing.html",
            user=user,
            email=identity.email,
            signed_in=flight.purpose == "signin",
            missing=[WHY[scope] for scope in WHY if scope in missing],
        )
    return _connect_calendar(user, identity.email, grant, next_url)


def _take_flight(state: str) -> tuple[OAuthState, str]:
    """Use up the round trip this state names; refuse one unknown, used, old or not ours."""
    started: Mapping[str, str] = session.pop(IN_FLIGHT, None) or {}
    flight = None
    if state and len(state) <= 64:
        taken = delete(OAuthState).where(OAuthState.state == state).returning(OAuthState)
        flight = db.session.scalars(taken).first()
        db.session.commit()  # single use, whatever happens next
    oldest = clock() - timedelta(minutes=STATE_MINUTES)
    ours = secrets.compare_digest(str(started.get("state", "")).encode(), state.encode())
    if flight is None or flight.created_at < oldest or not ours:
        raise Halt("web/google/expired.html", 400)
    return flight, str(started.get("next", ""))


def _exchange(flight: OAuthState, code: str) -> Grant:
    """Trade the code for a grant with the verifier kept since the start."""
    if not code:
        raise Halt("web/google/failed.html", 400)
    certs = app_settings().google.certs_uri
    try:
        return exchange_code(
            _flow(consent_scopes(None)), code, flight.code_verifier, certs_uri=certs
        )
    except TransientGoogleError:
        raise Halt("web/google/failed.html", 502, unavailable=True) from None
    except GoogleError:
        raise Halt("web/google/failed.html", 400) from None


def _identity(grant: Grant) -> Identity:
    identity = grant.identity
    if identity is None or not identity.email or not identity.email_verified:
        raise Halt("web/google/failed.html", 400, unverified=True)
    return identity


def _new_address(email: str) -> bool:
    """Say whether no account has this address yet (the first sign-in)."""
    query = select(User.id).where(User.email == email.strip().lower())
    return db.session.scalar(query) is None


def _user_for(flight: OAuthState, identity: Identity) -> User:
    """Return whose account this is: the Google address's (sign-in) or the starter's (connect)."""
    if flight.purpose == "signin":
        return account_for(db.session(), identity.email.strip().lower(), browser_language())
    user = current_user()
    if user is None or user.id != flight.user_id:
        raise Halt("web/google/expired.html", 400)
    return user


def _connect_calendar(user: User, email: str, grant: Grant, next_url: str) -> Response:
    """Store the grant (committed first: a failed first sync keeps it) and sync the calendar."""
    assert grant.refresh_token is not None
    store, box, settings = db.session(), secret_box(), app_settings()
    connection = google_source.save_connection(
        store, box, user, email, grant.refresh_token, set(grant.scopes)
    )
    store.commit()
    label = connection.label
    try:
        result = sync_connection(store, settings, box, connection, clock())
    except SourceUnavailable:  # Google did not answer: the connection stays, to refresh later
        store.rollback()
        late = _(
            "Connected Google Calendar %(label)s, but Google did not answer the first sync. "
            "Press Refresh in a minute.",
            label=label,
        )
        flash(late, "warning")
        return redirect(url_for("connect.index"))
    store.commit()
    if result.outcome == "failed":
        flash(
            _(
                "Connected Google Calendar %(label)s, but it could not be read: %(error)s",
                label=label,
                error=result.error,
            ),
            "error",
        )
        return redirect(url_for("connect.index"))
    replan(user.id)
    flash(
        _("Connected Google Calendar %(label)s: %(what)s", label=label, what=events(result.events))
    )
    if user.calendar_notes and APP_CALENDARS not in grant.scopes:
        flash(
            _("Prep notes will come by email only: the calendar for them was not allowed."),
            "warning",
        )
    return redirect(next_url or "/")


def _flow(scopes: Sequence[str]) -> Flow:
    settings = app_settings()
    google = settings.google
    redirect_uri = settings.base_url + url_for("google.callback")
    return make_flow(
        google.client_id,
        google.client_secret,
        redirect_uri,
        scopes,
        auth_uri=google.auth_uri,
        token_uri=google.token_uri,
    )


def _require_google() -> None:
    if not app_settings().google.enabled:
        abort(404)


def _arg(name: str) -> str:
    return str(request.args.get(name, ""))
