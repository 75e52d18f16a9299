"""The settings page: stage, goal, cadence, hours, time zone, people, delivery, pause."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    Field,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from service.engine.dates import short_date
from service.engine.i18n import LANGUAGES, supported
from service.models import User
from service.notes.feed import feed_on, feed_url, retire_feed, turn_off_feed
from service.web.context import app_settings, clock, replan
from service.web.extensions import db
from service.web.session import login_required, require_user
from service.web.zones import zone_choices

FEED_SAID = {
    "new": _l("Your prep notes feed has a new address: the old one no longer works."),
    "off": _l("Your prep notes feed is off: no address shows them any more."),
}

bp = Blueprint("settings", __name__)

STAGES = [
    SelectChoice("new_project", _l("Starting a new project")),
    SelectChoice("internal_move", _l("Looking for a move inside the company")),
    SelectChoice("external_move", _l("Looking for a move outside the company")),
    SelectChoice("growth", _l("Growing where I am")),
]
DAYS = [
    SelectChoice(str(number), name)
    for number, name in enumerate(
        (_l("Mon"), _l("Tue"), _l("Wed"), _l("Thu"), _l("Fri"), _l("Sat"), _l("Sun"))
    )
]
PAUSES = {"week": timedelta(days=7), "month": timedelta(days=30)}
# "Until I resume": a date no planner will ever reach.
UNTIL_RESUMED = datetime(9999, 12, 31, tzinfo=UTC)
_EMAIL = re.compile(r"[^@\s,;<>\"']+@[^@\s,;<>\"'.]+(\.[^@\s,;<>\"'.]+)+")


def split_emails(text: str) -> list[str]:
    """Split a list typed one per line or comma separated into lower-cased addresses."""
    return [part.strip().lower() for part in re.split(r"[\s,;]+", text or "") if part.strip()]


def _valid_email(_form: Any, field: Field) -> None:
    if field.data and not _EMAIL.fullmatch(field.data.strip()):
        raise ValidationError(_("That does not look like an email address."))


def _valid_emails(_form: Any, field: Field) -> None:
    wrong = [e for e in split_emails(field.data) if not _EMAIL.fullmatch(e)]
    if wrong:
        raise ValidationError(_("Not email addresses: %(list)s", list=", ".join(wrong)))


def _days() -> Any:
    return _bounded(7, 365)


def _bounded(low: int, high: int) -> Any:
    return NumberRange(
        low, high, message=_l("A whole number from %(low)s to %(high)s.", low=low, high=high)
    )


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class WhoForm(FlaskForm):
    """Who you are and when you work: the settings' middle, and onboarding's second step."""

    manager_email = StringField(
        _l("Your manager's email"), [Optional(), Length(max=254), _valid_email]
    )
    hours_start = TimeField(
        _l("Working hours from"), [InputRequired()], format=["%H:%M", "%H:%M:%S"]
    )
    hours_end = TimeField(_l("to"), [InputRequired()], format=["%H:%M", "%H:%M:%S"])
    work_days = MultiCheckboxField(_l("Working days"), choices=DAYS, coerce=int)
    tz = SelectField(_l("Time zone"), choices=[])
    # Each language named in itself; choosing from the list is the validation (SelectField).
    language = SelectField(
        _l("Language"), choices=[SelectChoice(code, name) for code, name in LANGUAGES.items()]
    )

    def validate_hours_end(self, field: Field) -> None:
        start = self.hours_start.data
        if start is not None and field.data is not None and field.data <= start:
            raise ValidationError(_("The end of the day must come after its start."))

    def validate_work_days(self, field: Field) -> None:
        if not field.data:
            raise ValidationError(_("Pick at least one working day."))


class SettingsForm(WhoForm):
    stage = SelectField(_l("Where you are"), choices=STAGES)
    goal = TextAreaField(_l("Your goal, in your own words"), [Optional(), Length(max=500)])
    ideal_days = IntegerField(_l("Ideal days between career conversations"), [_days()])
    max_days = IntegerField(_l("Never more than (days)"), [_days()])
    include_people = TextAreaField(_l("People to include in suggestions"), [_valid_emails])
    never_suggest = TextAreaField(_l("People never to suggest"), [_valid_emails])
    email_notes = BooleanField(_l("Email me a prep note before each touchpoint"))
    calendar_notes = BooleanField(_l("Put prep notes on my calendar"))
    lead_minutes = IntegerField(_l("Minutes before the meeting"), [_bounded(5, 1440)])
    digest = BooleanField(_l("One morning digest instead of a note before each meeting"))
    weekly_nudges = IntegerField(_l("Career chat proposals per week, at most"), [_bounded(0, 7)])

    def validate_max_days(self, field: Field) -> None:
        ideal = self.ideal_days.data
        if ideal is not None and field.data is not None and field.data < ideal:
            raise ValidationError(_("Must be at least the ideal (%(days)s days).", days=ideal))


class PauseForm(FlaskForm):
    week = SubmitField(_l("Pause for 1 week"))
    month = SubmitField(_l("Pause for 1 month"))
    until_resumed = SubmitField(_l("Pause until I resume"))
    resume = SubmitField(_l("Resume"))


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def index() -> ResponseReturnValue:
    user = require_user()
    form = SettingsForm(data=_initial(user))
    form.tz.choices = zone_choices(user.tz)
    if form.validate_on_submit():
        _apply(form, user)
        db.session.commit()
        replan(user.id)  # lead time, stage, goal, hours: the notes follow at once
        flash(_("Saved."))
        return redirect(url_for("settings.index"))
    status = 422 if form.is_submitted() else 200
    return _render(user, form, status)


@bp.post("/settings/pause")
@login_required
def pause() -> ResponseReturnValue:
    user = require_user()
    form = PauseForm()
    if form.validate_on_submit():
        user.paused_until = paused_until(form, clock())
        db.session.commit()
        replan(user.id)
        flash(_pause_message(user))
    return redirect(url_for("settings.index"))


def paused_until(form: PauseForm, now: datetime) -> datetime | None:
    """Return when nudges start again for the button pressed (None: they run now)."""
    if form.until_resumed.data:
        return UNTIL_RESUMED
    for name, span in PAUSES.items():
        if form[name].data:
            return now + span
    return None


def _pause_message(user: User) -> str:
    if user.paused_until is None:
        return _("Resumed: prep notes and proposals are back on.")
    return _("Paused %(until)s.", until=describe_pause(user))


def describe_pause(user: User) -> str:
    """Return "until Mon 9 Mar" or "until you resume", for a paused user."""
    until = user.paused_until
    if until is None or until >= UNTIL_RESUMED:
        return _("until you resume")
    return _("until %(day)s", day=short_date(until.astimezone(user.zone)))


def _initial(user: User) -> dict[str, Any]:
    return {
        "stage": user.stage,
        "goal": user.goal,
        "ideal_days": user.ideal_days,
        "max_days": user.max_days,
        **who_of(user),
        "include_people": "\n".join(split_emails(user.include_people)),
        "never_suggest": "\n".join(split_emails(user.never_suggest)),
        "email_notes": user.email_notes,
        "calendar_notes": user.calendar_notes,
        "lead_minutes": user.lead_minutes,
        "digest": user.digest,
        "weekly_nudges": user.weekly_nudges,
    }


def apply_who(form: WhoForm, user: User) -> None:
    """Save who the user's manager is, their working hours, days and time zone."""
    user.hours_start = form.hours_start.data.strftime("%H:%M")
    user.hours_end = form.hours_end.data.strftime("%H:%M")
    user.work_days = ",".join(str(d) for d in sorted(form.work_days.data))
    user.tz = form.tz.data
    user.language = supported(form.language.data)
    user.manager_email = (form.manager_email.data or "").strip().lower()


def who_of(user: User) -> dict[str, Any]:
    """Return what the who-and-when form starts with."""
    return {
        "hours_start": time.fromisoformat(user.hours_start),
        "hours_end": time.fromisoformat(user.hours_end),
        "work_days": [int(d) for d in user.work_days.split(",") if d.strip()],
        "tz": user.tz,
        "language": supported(user.language),
        "manager_email": user.manager_email,
    }


def _apply(form: SettingsForm, user: User) -> None:
    apply_who(form, user)
    user.stage, user.goal = form.stage.data, (form.goal.data or "").strip()
    user.ideal_days, user.max_days = form.ideal_days.data, form.max_days.data
    user.include_people = "\n".join(split_emails(form.include_people.data))
    user.never_suggest = "\n".join(split_emails(form.never_suggest.data))
    user.email_notes, user.calendar_notes = form.email_notes.data, form.calendar_notes.data
    user.lead_minutes, user.digest = form.lead_minutes.data, form.digest.data
    user.weekly_nudges = form.weekly_nudges.data


def _render(user: User, form: SettingsForm, status: int) -> ResponseReturnValue:
    paused = user.paused_until is not None and user.paused_until > clock()
    return render_template(
        "web/settings.html",
        form=form,
        pause_form=PauseForm(),
        paused=describe_pause(user) if paused else "",
        detect_zone=user.tz == "UTC",
        feed_url=feed_url(app_settings(), user) if feed_on(user) else "",
    ), status


@bp.post("/settings/feed")
@login_required
def feed() -> ResponseReturnValue:
    """Give the prep-note feed a new address, turn it off, or on again (at a new address)."""
    user, action = require_user(), request.form.get("action", "")
    if action not in ("new", "off"):
        abort(400)
    (retire_feed if action == "new" else turn_off_feed)(user)
    db.session.commit()
    flash(FEED_SAID[action])
    return redirect(url_for("settings.index") + "#feed")
