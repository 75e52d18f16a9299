"""The one-minute reflection form, opened from the email's signed reply link (no sign-in needed).

The link names the user and the chat; the first answer adds an entry to the reflection log, a
later one edits that same entry.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from wtforms import StringField, TextAreaField

from service.engine.people import display_name
from service.models import Reflection
from service.reflections.ask import (
    Reply,
    reflection_for,
    reply_from_token,
    save_reflection,
)
from service.web.context import clock, opened
from service.web.extensions import db
from service.web.forms import EntryForm, no_nul
from service.web.i18n import speak_to

bp = Blueprint("reflect", __name__)


class ReflectForm(EntryForm):
    ANSWERS = ("learned", "follow_up", "offered")
    EMPTY = _l("Write at least one line: learned, follow up or offered.")

    learned = TextAreaField(_l("What did you learn?"), filters=[no_nul])
    follow_up = TextAreaField(_l("What will you follow up on?"), filters=[no_nul])
    offered = TextAreaField(_l("What did you offer?"), filters=[no_nul])
    person = StringField(_l("With whom"), filters=[no_nul])


@bp.route("/reflect/<token>", methods=["GET", "POST"])
def answer(token: str) -> ResponseReturnValue:
    reply = opened(reply_from_token, token)
    if reply is None:
        return render_template("web/reflect/expired.html"), 410
    speak_to(reply.user)
    session = db.session()
    entry = reflection_for(session, reply)
    form = ReflectForm()
    if form.validate_on_submit():
        answers = {name: getattr(form, name).data for name in (*ReflectForm.ANSWERS, "person")}
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
    for name in ReflectForm.ANSWERS:
        getattr(form, name).data = getattr(entry, name) if entry is not None else ""
