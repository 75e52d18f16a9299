"""The first hour: three steps after the first sign-in, then a preview of the first week.

1. connect a calendar (the connect forms, coming back here), and hear at once when it looks
   empty, old or someone else's; 2. check who you are, your manager, working hours and time zone;
3. pick your stage and goal. Then the first week's touchpoints with their prep notes, as they
will be sent. Each step can be reached again at any time; nothing here is a one-way door.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from wtforms import RadioField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from service.dashboard import checks
from service.dashboard.insights import KIND_LABELS, has_calendar, local_time, short_moment
from service.dashboard.week import start_of
from service.engine.people import display_name
from service.models import OutboxEmail, User
from service.notes import plan as notes_plan
from service.sources.calendar import plan_for_user, profile_of
from service.web.connect import UploadForm, UrlForm
from service.web.context import clock, replan
from service.web.extensions import db
from service.web.session import login_required, require_user
from service.web.settings import STAGES, WhoForm, apply_who, who_of
from service.web.zones import zone_choices

bp = Blueprint("onboarding", __name__)

PREVIEW_DAYS = 7
STAGE_HINTS = {
    "new_project": _l("New people, new work: learn who matters and what they need."),
    "internal_move": _l("Find out what other teams need and where you could fit."),
    "external_move": _l("Widen your view of the field, quietly and with care."),
    "growth": _l("Grow where you are: feedback, scope, the next step up."),
}


class GoalForm(FlaskForm):
    stage = RadioField(_l("Where you are"), choices=STAGES, validators=[InputRequired()])
    goal = TextAreaField(_l("Your goal, in your own words"), [Optional(), Length(max=500)])


def _steps(user_id: int) -> dict[str, bool]:
    return {"connected": has_calendar(db.session(), user_id)}


@bp.get("/welcome")
@login_required
def connect() -> str:
    """Step 1: connect a calendar, or see what the connected one holds."""
    user = require_user()
    findings = checks.check_calendars(db.session(), user.id, user.email, clock())
    return render_template(
        "web/onboarding/connect.html",
        step=1,
        findings=findings,
        url_form=UrlForm(formdata=None),
        upload_form=UploadForm(formdata=None),
        **_steps(user.id),
    )


@bp.route("/welcome/you", methods=["GET", "POST"])
@login_required
def you() -> ResponseReturnValue:
    """Step 2: who you are, your manager, when you work and where."""
    user = require_user()
    form = WhoForm(data=who_of(user))
    form.tz.choices = zone_choices(user.tz)
    if form.validate_on_submit():
        apply_who(form, user)
        db.session.commit()
        replan(user.id)
        return redirect(url_for("onboarding.goal"))
    findings = checks.check_calendars(db.session(), user.id, user.email, clock())
    page = render_template(
        "web/onboarding/you.html",
        step=2,
        form=form,
        user=user,
        detect_zone=user.tz == "UTC",
        not_yours=[f for f in findings if f.problem == "not_yours"],
        **_steps(user.id),
    )
    return page, 422 if form.is_submitted() else 200


@bp.route("/welcome/goal", methods=["GET", "POST"])
@login_required
def goal() -> ResponseReturnValue:
    """Step 3: your stage and goal, which the prep notes are written for."""
    user = require_user()
    form = GoalForm(data={"stage": user.stage, "goal": user.goal})
    if form.validate_on_submit():
        user.stage, user.goal = form.stage.data, (form.goal.data or "").strip()
        db.session.commit()
        replan(user.id)
        return redirect(url_for("onboarding.ready"))
    page = render_template(
        "web/onboarding/goal.html", step=3, form=form, hints=STAGE_HINTS, **_steps(user.id)
    )
    return page, 422 if form.is_submitted() else 200


@bp.get("/welcome/ready")
@login_required
def ready() -> str:
    """The first week's touchpoints with their notes, as they will be sent."""
    user = require_user()
    return render_template("web/onboarding/ready.html", step=4, **_preview(user))


def _preview(user: User) -> dict[str, Any]:
    session, now = db.session(), clock()
    profile = profile_of(user)
    plan = plan_for_user(session, user, now, **notes_plan.memory(session, user.id, now))
    end = now + timedelta(days=PREVIEW_DAYS)
    week = [t for t in plan.touchpoints if now <= start_of(t, profile) < end]
    first_note = start_of(week[0], profile) - timedelta(minutes=user.lead_minutes) if week else None
    return {
        "week": week,
        "first_note": first_note,
        "user": user,
        "connected": has_calendar(session, user.id),
        "sent_before": _sent_to(session, user.id),
        "moment": lambda at: short_moment(at, profile.tz),
        "hours": lambda t: local_time(t, profile),
        "kind_label": lambda kind: _(KIND_LABELS.get(kind, kind)),
        "name": display_name,
    }


def _sent_to(session: Session, user_id: int) -> int:
    """Count the emails already sent to the user other than sign-in links."""
    query = select(func.count()).select_from(OutboxEmail).where(OutboxEmail.user_id == user_id)
    sent = query.where(OutboxEmail.sent_at.is_not(None), OutboxEmail.kind != "magic_link")
    return int(session.scalar(sent) or 0)
