"""The one-minute reflection form, opened from the email's signed reply link (no sign-in needed).

The link names the user and the chat; the first answer adds an entry to the reflection log, a
later one edits that same entry.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField

from service.adapters.links import LinkExpired, LinkInvalid
from service.engine.people import display_name
from service.models import Reflection
from service.reflections.ask import (
    FIELD_CHARS,
    Reply,
    reflection_for,
    reply_from_token,
    save_reflection,
)
from service.web.context import clock
from service.web.extensions import db

bp = Blueprint("reflect", __name__)

PERSON_CHARS = 254
ANSWERS = ("learned", "follow_up", "offered")


def _no_nul(value: str | None) -> str:
    # PostgreSQL refuses NUL in text; nobody types one.
    return (value or "").replace("\x00", "")


class ReflectForm(FlaskForm):
    learned = TextAreaField("What did you learn?", filters=[_no_nul])
    follow_up = TextAreaField("What will you follow up on?", filters=[_no_nul])
    offered = TextAreaField("What did you offer?", filters=[_no_nul])
    person = StringField("With whom", filters=[_no_nul])

    def validate(self, extra_validators: Any = None) -> bool:
        """Refuse an empty answer and overlong fields, saying which."""
        ok = super().validate(extra_validators)
        for field in (self.learned, self.follow_up, self.offered, self.person):
            limit = PERSON_CHARS if field is self.person else FIELD_CHARS
            if len(field.data) > limit:
                field.errors = [*field.errors, f"At most {limit} characters, please."]
                ok = False
        if not any(getattr(self, name).data.strip() for name in ANSWERS):
            self.form_errors.append("Write at least one line: learned, follow up or offered.")
            ok = False
        return ok


@bp.route("/reflect/<token>", methods=["GET", "POST"])
def answer(token: str) -> ResponseReturnValue:
    reply = _reply_or_404(token)
    if reply is None:
        return render_template("web/reflect/expired.html"), 410
    session = db.session()
    entry = reflection_for(session, reply)
    form = ReflectForm()
    if form.validate_on_submit():
        answers = {name: getattr(form, name).data for name in (*ANSWERS, "person")}
        save_reflection(session, reply, answers, clock())
        session.commit()
        # Redirect, so reloading shows the saved answer instead of posting it again.
        return redirect(url_for("reflect.answer", token=token, saved=1), code=303)
    if not form.is_submitted():
        _prefill(form, reply, entry)
    status = 422 if form.is_submitted() else 200
    saved = request.args.get("saved") == "1" and entry is not None
    name = display_name(reply.person)
    page = render_template(
        "web/reflect/form.html", form=form, name=name, saved=saved, editing=entry is not None
    )
    return page, status


def _prefill(form: ReflectForm, reply: Reply, entry: Reflection | None) -> None:
    """Show what was answered before, or the person the chat was with."""
    form.person.data = entry.person if entry is not None else reply.person
    for name in ANSWERS:
        getattr(form, name).data = getattr(entry, name) if entry is not None else ""


def _reply_or_404(token: str) -> Reply | None:
    """Return what a link names; None when it is too old; 404 when it was not made by us."""
    try:
        return reply_from_token(db.session(), current_app.config["SECRET_KEY"], token)
    except LinkExpired:
        return None
    except LinkInvalid:
        abort(404)
