"""The account page: export everything (JSON, iCalendar), or delete the account."""

from __future__ import annotations

import json
from pathlib import Path

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import InputRequired

from service.account.data import delete_account, export_calendar, export_data, message_ids_of
from service.adapters.db import checkpoint
from service.adapters.mail_delivery import local_copies
from service.models import User
from service.sources.google import PERMISSIONS_PAGE, revoke_grants
from service.web.connect import forget_attempts
from service.web.context import app_settings, clock, secret_box
from service.web.extensions import db
from service.web.session import login_required, require_user, sign_out, sign_out_everywhere

bp = Blueprint("account", __name__)


class DeleteForm(FlaskForm):
    confirm = StringField(_l("Type your email address to confirm"), [InputRequired()])

    def matches(self, user: User) -> bool:
        return (self.confirm.data or "").strip().lower() == user.email.lower()


@bp.get("/account")
@login_required
def index() -> ResponseReturnValue:
    return _page(require_user(), DeleteForm(), 200)


@bp.get("/account/export.json")
@login_required
def export_json() -> ResponseReturnValue:
    data = export_data(db.session(), require_user(), clock())
    body = json.dumps(data, indent=2, ensure_ascii=False)
    return _attachment(body.encode(), "application/json", "touchpoint-export.json")


@bp.get("/account/export.ics")
@login_required
def export_ics() -> ResponseReturnValue:
    body = export_calendar(db.session(), require_user(), clock())
    return _attachment(body, "text/calendar", "touchpoint-export.ics")


@bp.post("/account/delete")
@login_required
def delete() -> ResponseReturnValue:
    user = require_user()
    form = DeleteForm()
    if not form.validate_on_submit() or not form.matches(user):
        form.confirm.errors = [_("That is not your email address: nothing was deleted.")]
        return _page(user, form, 422)
    settings = app_settings()
    unrevoked = revoke_grants(settings, secret_box(), user.connections)
    files = local_copies(settings.outbox_dir, message_ids_of(db.session(), user), user.email)
    user_id = user.id
    delete_account(db.session(), user)
    db.session.commit()
    sign_out()
    _forget_everywhere(files, user_id)
    flash(_("Your account and everything in it is gone."))
    if unrevoked:
        flash(
            _(
                "We could not reach Google to withdraw Touchpoint's access to %(calendars)s. "
                "Remove it yourself at %(url)s.",
                calendars=", ".join(unrevoked),
                url=PERMISSIONS_PAGE,
            ),
            "error",
        )
    return redirect("/")


@bp.post("/account/sign-out-everywhere")
@login_required
def sign_out_all() -> ResponseReturnValue:
    """End every session of the account (CSRF-checked like every form)."""
    ended = sign_out_everywhere(require_user())
    flash(
        ngettext(
            "You are signed out everywhere (%(num)d session ended). Sign in again to continue.",
            "You are signed out everywhere (%(num)d sessions ended). Sign in again to continue.",
            ended,
        )
    )
    return redirect(url_for("auth.signin"))


def _forget_everywhere(files: list[Path], user_id: int) -> None:
    """Remove what the account left outside the database: its emails in the local outbox, its
    rate-limit counter, and on SQLite the deleted rows still in the write-ahead log."""
    for path in files:
        path.unlink(missing_ok=True)
    forget_attempts(user_id)
    checkpoint(db.session())


def _page(user: User, form: DeleteForm, status: int) -> ResponseReturnValue:
    return render_template("web/account.html", user=user, form=form), status


def _attachment(body: bytes, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
