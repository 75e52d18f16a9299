"""Prep notes outside the dashboard: the secret .ics feed, and the links in every note email.

None of these pages needs a sign-in: the signed token in the address is the authorisation, and a
forged, retired or foreign token is a 404 (saying nothing about whether the user exists).
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, make_response, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SubmitField

from service.notes import email as notes_mail
from service.notes.feed import feed_ics, user_from_feed_token
from service.web.context import app_settings, clock, opened_or_404
from service.web.extensions import csrf, db
from service.web.i18n import speak_to
from service.web.settings import describe_pause

bp = Blueprint("notes_feed", __name__)

FEED_MAX_AGE = 15 * 60  # seconds a calendar app may keep the feed before asking again


class SnoozeForm(FlaskForm):
    snooze = SubmitField(_l("Pause for a week"))


@bp.get("/feed/<token>.ics")
def feed(token: str) -> ResponseReturnValue:
    user = user_from_feed_token(db.session(), current_app.config["SECRET_KEY"], token)
    if user is None:
        abort(404)
    speak_to(user)  # the calendars' names and the notes, in the user's language
    response = make_response(feed_ics(db.session(), app_settings(), user, clock()))
    response.content_type = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = 'inline; filename="touchpoint.ics"'
    # private: the address is a secret, so no shared cache may keep the notes.
    response.headers["Cache-Control"] = f"private, max-age={FEED_MAX_AGE}"
    response.add_etag()
    return response.make_conditional(request)


@bp.get("/notes/unsubscribe/<token>")
def unsubscribe_page(token: str) -> ResponseReturnValue:
    user = opened_or_404(notes_mail.UNSUBSCRIBE_LINK.user_of, token)
    speak_to(user)
    return render_template("web/notes_feed/unsubscribe.html", done=not user.email_notes)


# Mail clients post here with one click (RFC 8058, body List-Unsubscribe=One-Click) and cannot
# carry a CSRF token; the signed token names the user, and unsubscribing twice changes nothing.
@bp.post("/notes/unsubscribe/<token>")
@csrf.exempt
def unsubscribe(token: str) -> ResponseReturnValue:
    user = opened_or_404(notes_mail.UNSUBSCRIBE_LINK.user_of, token)
    speak_to(user)
    notes_mail.unsubscribe(user)
    db.session.commit()
    return render_template("web/notes_feed/unsubscribe.html", done=True, just_now=True)


@bp.route("/notes/snooze/<token>", methods=["GET", "POST"])
def snooze(token: str) -> ResponseReturnValue:
    user = opened_or_404(notes_mail.SNOOZE_LINK.user_of, token)
    speak_to(user)
    form = SnoozeForm()
    if form.validate_on_submit():
        notes_mail.snooze(user, clock())
        db.session.commit()
        return render_template("web/notes_feed/snooze.html", until=describe_pause(user), form=None)
    return render_template("web/notes_feed/snooze.html", until=None, form=form)
