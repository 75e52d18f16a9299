"""The connect pages: list connected calendars, connect an ICS address or file, refresh, disconnect.

Each connect route is one transaction: the service writes, the view commits, and on a SourceError
the view rolls back and shows the form again with the user's input and the reason (HTTP 422).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime
from pathlib import PurePath
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from limits import parse
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response
from wtforms import Field, StringField, ValidationError
from wtforms.validators import DataRequired, Length

from service.dashboard.checks import Finding, check_calendars
from service.models import Connection, User
from service.sources import connect as sources
from service.sources import sync as syncing
from service.sources.connect import MAX_BYTES, SourceError, SyncResult
from service.web.auth import safe_next
from service.web.context import app_settings, clock, events, read_later, replan, secret_box
from service.web.extensions import db, limiter
from service.web.session import current_user, login_required, require_user

bp = Blueprint("connect", __name__)

READING = _l("it is large, so it is read in the background: its events appear within a minute.")
CALENDAR_SUFFIXES = (".ics", ".ical", ".ifb", ".icalendar")
CALENDAR_TYPES = ("text/calendar", "application/ics")


def _attempts_key() -> str:
    """Count connect attempts per signed-in user (per address before sign-in)."""
    user = current_user()
    return f"user:{user.id}" if user is not None else f"ip:{get_remote_address()}"


# Fetching a user's address costs a request to someone else's server: 10 tries a minute is
# plenty for a person, and keeps Touchpoint from being used to hammer a host.
CONNECT_LIMIT = "10 per minute"
connect_attempts = limiter.shared_limit(CONNECT_LIMIT, scope="connect", key_func=_attempts_key)


def forget_attempts(user_id: int) -> None:
    """Delete the user's connect-attempt counter (the account is gone): one key, no scan."""
    if current_app.config.get("RATELIMIT_ENABLED"):
        with contextlib.suppress(Exception):  # storage away: the counter expires in a minute
            limiter.limiter.clear(parse(CONNECT_LIMIT), f"user:{user_id}", "connect")


def _calendar_file(_form: FlaskForm, field: Field) -> None:
    """Accept a file named like a calendar or sent as one."""
    upload: FileStorage | None = field.data
    if upload is None:
        return
    suffix = PurePath(upload.filename or "").suffix.lower()
    if suffix not in CALENDAR_SUFFIXES and upload.mimetype not in CALENDAR_TYPES:
        raise ValidationError(_("Choose an iCalendar file (.ics), as exported by a calendar app."))


class UrlForm(FlaskForm):
    url = StringField(
        _l("Secret iCal address"),
        validators=[
            DataRequired(_l("Paste the calendar's address.")),
            Length(max=2000, message=_l("That address is too long (2000 characters at most).")),
        ],
        render_kw={"inputmode": "url", "autocomplete": "off", "spellcheck": "false"},
    )


class UploadForm(FlaskForm):
    file = FileField(
        _l("An .ics file"),
        validators=[FileRequired(_l("Choose an .ics file to upload.")), _calendar_file],
        render_kw={"accept": ",".join((*CALENDAR_SUFFIXES, *CALENDAR_TYPES))},
    )


@bp.get("/connect")
@login_required
def index() -> str:
    return render_page()


def render_page(**forms: Any) -> str:
    """Render the connect page; forms given (with their errors) replace the empty ones.

    A form sent from the first steps (/welcome) is shown again there, with its error.
    """
    user = require_user()
    empty = {"url_form": UrlForm(formdata=None), "upload_form": UploadForm(formdata=None)}
    first_step = url_for("onboarding.connect")  # whose forms post here too
    if request.method == "POST" and request.form.get("next") == first_step:
        first = {**empty, **forms, "step": 1, "connected": False, "findings": []}
        return render_template("web/onboarding/connect.html", **first)
    context = {
        "url_form": UrlForm(formdata=None),
        "upload_form": UploadForm(formdata=None),
        "connections": syncing.connections_of(_session(), user),
        "findings": _findings(user),
        "can_refresh": syncing.can_refresh,
        "zone": user.zone,
        **forms,
    }
    return render_template("web/connect/index.html", **context)


def _findings(user: User) -> dict[int, Finding]:
    """Return what the calendar check says of each connection (empty, old, someone else's)."""
    found = check_calendars(_session(), user.id, user.email, clock())
    return {finding.connection.id: finding for finding in found}


@bp.post("/connect/url")
@login_required
@connect_attempts
def connect_url() -> Response | tuple[str, int]:
    form = UrlForm()
    if not form.validate():
        return render_page(url_form=form), 422
    return _connect(
        form,
        "url_form",
        lambda now: sources.connect_ics_url(
            _session(),
            app_settings(),
            secret_box(),
            require_user(),
            form.url.data or "",
            now,
            quick=True,
        ),
    )


@bp.post("/connect/upload")
@login_required
@connect_attempts
def connect_upload() -> Response | tuple[str, int]:
    form = UploadForm()
    if not form.validate():
        return render_page(upload_form=form), 422
    upload: FileStorage = form.file.data
    # Read one byte past the cap so a file just over it is refused, not silently cut.
    data = upload.stream.read(MAX_BYTES + 1)
    return _connect(
        form,
        "upload_form",
        lambda now: sources.connect_ics_upload(
            _session(), app_settings(), require_user(), upload.filename or "", data, now, quick=True
        ),
    )


def _connect(
    form: FlaskForm, name: str, attempt: Callable[[datetime], SyncResult]
) -> Response | tuple[str, int]:
    """Run one connect attempt as one transaction; on failure show the form with the reason."""
    try:
        result = attempt(clock())
    except SourceError as error:
        db.session.rollback()
        form.form_errors.append(str(error))
        return render_page(**{name: form}), 422
    db.session.commit()
    if result.outcome == "reading":  # too big to read within a request: a sync job reads it
        read_later(result.connection.id)
        flash(_("Connected: %(label)s — %(what)s", label=result.connection.label, what=READING))
        return redirect("/connect")
    replan(result.connection.user_id)  # prep notes for what it holds, now, not at the next change
    flash(
        _(
            "Connected: %(label)s — %(what)s",
            label=result.connection.label,
            what=events(result.events),
        )
    )
    _flash_notices(result)
    return redirect(safe_next(request.form.get("next")) or "/")


# Refresh and disconnect are plain buttons: CSRFProtect checks the token every POST carries.
@bp.post("/connect/<int:connection_id>/refresh")
@login_required
@connect_attempts
def refresh(connection_id: int) -> Response:
    connection = _owned(connection_id)
    # A failure is recorded as the scheduler's would be: the calendar keeps retrying.
    result = syncing.refresh(_session(), app_settings(), secret_box(), connection, clock())
    db.session.commit()
    if result.outcome in ("connected", "updated"):
        replan(connection.user_id)
    _flash_refresh(result)
    return redirect("/connect")


@bp.post("/connect/<int:connection_id>/disconnect")
@login_required
def disconnect(connection_id: int) -> Response:
    connection = _owned(connection_id)
    label, notices = syncing.disconnect(_session(), app_settings(), secret_box(), connection)
    db.session.commit()
    replan(connection.user_id)  # its meetings' notes cancelled, the dashboard's days computed
    flash(_("Disconnected: %(label)s. Its events were deleted from Touchpoint.", label=label))
    for notice in notices:
        flash(notice, "warning")
    return redirect("/connect")


def _owned(connection_id: int) -> Connection:
    """Return the signed-in user's connection, or answer 404 (also for someone else's)."""
    connection = syncing.connection_of(_session(), require_user(), connection_id)
    if connection is None:
        abort(404)
    return connection


def _flash_refresh(result: SyncResult) -> None:
    label = result.connection.label
    if result.outcome == "failed":
        again = "" if result.broken else " " + _("Touchpoint will try again later by itself.")
        said = _("%(label)s could not be refreshed.", label=label)
        flash(f"{said} {result.error}{again}", "error")
    elif result.outcome == "unchanged":
        flash(
            _(
                "%(label)s has not changed since the last sync — %(what)s.",
                label=label,
                what=events(result.events),
            )
        )
    else:
        flash(_("Refreshed: %(label)s — %(what)s", label=label, what=events(result.events)))
        _flash_notices(result)


def _flash_notices(result: SyncResult) -> None:
    for notice in result.notices():
        flash(notice, "warning")


def _session() -> Session:
    return db.session()
