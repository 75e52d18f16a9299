"""The dashboard: cadence clock, upcoming touchpoints, proposals, people mix, reflection log.

The pages read the clock through `clock()`: `app.config["NOW"]`, when set to a callable, gives the
time instead of the system clock, so tests freeze it (`app.config["NOW"] = lambda: NOW`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.routing import BuildError
from werkzeug.wrappers import Response as BaseResponse
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length

from service.dashboard import ahead, checks, insights, past, week
from service.dashboard import marks as user_marks
from service.dashboard.insights import PersonCount, Tally
from service.engine import dates
from service.engine.model import KINDS, Occurrence, Profile, Touchpoint
from service.engine.people import clean, display_name
from service.engine.plan import Plan
from service.models import Mark, Proposal, Reflection, User
from service.notes import plan as notes_plan
from service.proposals.answer import is_open, link_token, open_slots
from service.proposals.withdraw import booked_upcoming
from service.reflections import log as reflection_log
from service.sources.calendar import plan_for_user, profile_of
from service.web.context import clock, replan
from service.web.extensions import db
from service.web.forms import EntryForm, no_nul
from service.web.session import login_required, require_user

bp = Blueprint("dashboard", __name__)

RECENT_DAYS = 7  # past touchpoints offered for "this was a career conversation"
MARKED = {"none": _l("not a touchpoint"), "career": _l("a career conversation")}


class MarkForm(FlaskForm):
    uid = HiddenField(validators=[InputRequired(), Length(max=255)], filters=[no_nul])
    kind = SelectField(choices=["none", *KINDS])


class ReflectionForm(EntryForm):
    ANSWERS = ("going_well", "missing", "opportunity")
    EMPTY = _l("Write at least one line: going well, missing or opportunity.")

    going_well = TextAreaField(_l("What is going well"), filters=[no_nul])
    missing = TextAreaField(_l("What is missing"), filters=[no_nul])
    opportunity = TextAreaField(_l("What the opportunity is"), filters=[no_nul])
    person = StringField(_l("With whom (optional)"), filters=[no_nul])
    back = HiddenField(filters=[no_nul])


def _url(endpoint: str, **values: Any) -> str | None:
    """Return the address of an endpoint, or None while its blueprint has no such page yet."""
    if endpoint not in current_app.view_functions:
        return None
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


# The dashboard --------------------------------------------------------------------------------


@bp.get("/")
@login_required
def index() -> str:
    user = require_user()
    return render_template("web/dashboard.html", **_overview(db.session(), user, clock()))


def _overview(session: Session, user: User, moment: datetime) -> dict[str, Any]:
    """Gather everything the dashboard shows, as of moment.

    Bounded whatever the calendar holds: the year before now comes from the day rows the jobs
    keep (service.dashboard.past), the days ahead read at most past.DAY_READ events a day and
    show at most past.DAY_SHOWN touchpoints a day, and the prep notes are the ones the planning
    job stored (written here only for an account no planning job has seen yet).
    """
    marks = user_marks.marks_of(session, user.id)
    profile = profile_of(user, marks)
    stored = past.notes_stored(session, user.id)
    # The days ahead from the plan the planning job kept (or the same plan computed here);
    # in full, as of now, when a conversation is due (a partner and times to propose).
    found = ahead.ahead(session, user, marks, profile, moment) if stored else None
    plan: Plan | ahead.Ahead
    if found is None:
        memory = notes_plan.memory(session, user.id, moment)
        plan = plan_for_user(
            session, user, moment, notes=not stored, per_day=past.DAY_READ, **memory
        )
        upcoming: Sequence[Touchpoint] = plan.touchpoints
        occurrences = [occ for occ, _verdict in plan.occurrences]
        partner, suggestions = plan.partner, plan.proposals if plan.cadence.due else ()
    else:
        plan, upcoming, occurrences = found, found.touchpoints, found.occurrences
        partner, suggestions = None, ()
    if stored:
        upcoming = past.with_stored_notes(
            session, user.id, upcoming, plan.window.start, plan.window.end
        )
    before = past.past(session, user.id, profile, moment, RECENT_DAYS)
    year = before.year
    names = dict(year.names)
    for email, name in insights.directory(occurrences).items():
        names.setdefault(email, name)
    proposals = _open_proposals(session, user, moment)
    mix = year.by_category(profile)
    start = moment - timedelta(days=insights.YEAR_DAYS)
    return {
        "profile": profile,
        "connected": insights.has_calendar(session, user.id),
        "connect_url": _url("connect.index") or "/connect",
        "clock": insights.clock(plan.cadence, year.last_career(), profile, moment),
        "recent": insights.series_rows(before.recent, profile)[::-1],
        "recent_days": RECENT_DAYS,
        "marks": {mark.uid: mark for mark in marks},
        "marked": user_marks.marked(session, user.id, marks, profile.tz, start, plan.window.end),
        "proposals": proposals,
        "booked": booked_upcoming(session, user.id, moment),
        "suggestions": () if proposals else suggestions,
        "partner": partner,
        "mix": mix,
        **_glance(session, user, occurrences, upcoming, year, mix, names, profile, moment),
        "reflections": reflection_log.reflections_of(session, user.id)[:5],
        "form": ReflectionForm(back="dashboard"),
        "name": lambda email: names.get(email.lower()) or display_name(email),
        **_helpers(profile),
    }


def _glance(
    session: Session,
    user: User,
    occurrences: Sequence[Occurrence],
    upcoming: Sequence[Touchpoint],
    year: Tally,
    mix: dict[str, list[PersonCount]],
    names: dict[str, str],
    profile: Profile,
    moment: datetime,
) -> dict[str, Any]:
    """Return the week at a glance: timeline, series, people, the mix chart, the year strip."""
    strip = week.strip(year.careers, profile, moment)
    today = moment.astimezone(profile.tz).date()
    unread = past.unread(session, user.id, occurrences, profile.tz)
    days = week.timeline(upcoming, profile, moment, limit=past.DAY_SHOWN, unread=unread)
    day_label = _memo(lambda day: insights.day_label(day, today))  # asked once per card
    return {
        "weeks": week.weeks_of(days),
        "rows": insights.series_rows(week.listed(days, upcoming, profile), profile),
        "more": sum(day.more for day in days),  # touchpoints the page leaves out
        "people": week.cards(year, upcoming, profile, names),
        "bars": week.mix_bars(mix),
        "strip": strip,
        "months": week.month_marks(strip)[1:],
        "findings": checks.problems(checks.check_calendars(session, user.id, user.email, moment)),
        "day_of": lambda tp: day_label(week.start_of(tp, profile).date()),
        "start_time": lambda tp: f"{week.start_of(tp, profile):%H:%M}",
    }


def _helpers(profile: Profile) -> dict[str, Any]:
    """Return the formatting functions the templates call, bound to the user's zone."""
    return {
        "kind_label": _memo(lambda kind: _(insights.KIND_LABELS.get(kind, kind))),
        "category_label": lambda category: _(insights.CATEGORY_LABELS[category]),
        "hours": lambda tp: insights.local_time(tp, profile),
        "moment": lambda at: insights.short_moment(at, profile.tz),
        "long_date": lambda at: insights.long_date(at.astimezone(profile.tz).date()),
        "categories": insights.CATEGORIES,
        "kinds": KINDS,
        "anchor": week.anchor,
        "short_day": dates.weekday,
        "month_name": dates.month_short,
        "marked_as": MARKED,
    }


def _memo(function: Callable[[Any], str]) -> Callable[[Any], str]:
    """Return function remembering its answers (for one page: the same label for every card)."""
    found: dict[Any, str] = {}

    def once(key: Any) -> str:
        if key not in found:
            found[key] = function(key)
        return found[key]

    return once


def _open_proposals(session: Session, user: User, moment: datetime) -> list[dict[str, Any]]:
    """Return the user's proposals that can still be answered, with their times left."""
    found = [p for p in insights.proposals_of(session, user.id, moment) if is_open(p, moment)]
    return [{"proposal": p, "slots": open_slots(p, moment), "link": _link(p)} for p in found]


def _link(proposal: Proposal) -> str | None:
    token = link_token(current_app.config["SECRET_KEY"], proposal)
    return _url("proposals.show", token=token)


# Marks: what the user says about an event, which the engine then follows ------------------------


@bp.post("/marks")
@login_required
def mark() -> BaseResponse:
    user, form = require_user(), MarkForm()
    if not form.validate_on_submit():
        flash(_("That mark did not make sense; nothing was changed."), "error")
        return redirect(url_for("dashboard.index"))
    session = db.session()
    title = user_marks.title_of(session, user.id, form.uid.data)
    if title is None:
        abort(404)
    kind = None if form.kind.data == "none" else form.kind.data
    user_marks.save_mark(session, user.id, form.uid.data, kind, clock())
    replan(user.id)  # a meal marked "not a touchpoint" loses its note, a chat marked gains one
    what = MARKED.get(form.kind.data, form.kind.data)
    flash(_("Marked “%(title)s” as %(what)s.", title=clean(title, 80), what=what))
    return redirect(url_for("dashboard.index"))


@bp.post("/marks/<int:mark_id>/undo")
@login_required
def undo(mark_id: int) -> BaseResponse:
    user, session = require_user(), db.session()
    found = session.scalar(select(Mark).where(Mark.id == mark_id, Mark.user_id == user.id))
    if found is None:
        abort(404)
    session.delete(found)
    session.commit()
    flash(_("Undone: the event is judged as before."))
    return redirect(url_for("dashboard.index"))


# The reflection log -----------------------------------------------------------------------------


def _own_reflection(session: Session, user: User, reflection_id: int) -> Reflection:
    query = select(Reflection).where(Reflection.id == reflection_id, Reflection.user_id == user.id)
    found = session.scalar(query)
    if found is None:
        abort(404)
    return found


def _log_page(user: User, form: ReflectionForm, status: int = 200) -> tuple[str, int]:
    entries = reflection_log.reflections_of(db.session(), user.id)
    profile = profile_of(user)
    page = render_template(
        "web/reflections.html", entries=entries, form=form, profile=profile, **_helpers(profile)
    )
    return page, status


@bp.get("/reflections")
@login_required
def reflections() -> tuple[str, int]:
    return _log_page(require_user(), ReflectionForm(back="reflections"))


@bp.post("/reflections")
@login_required
def add_reflection() -> BaseResponse | tuple[str, int]:
    user, form = require_user(), ReflectionForm()
    if not form.validate_on_submit():
        return _log_page(user, form, 400)  # shown again with what was typed: nothing is lost
    session = db.session()
    session.add(
        Reflection(
            user_id=user.id,
            created_at=clock(),
            person=" ".join(form.person.data.split()),
            going_well=form.going_well.data.strip(),
            missing=form.missing.data.strip(),
            opportunity=form.opportunity.data.strip(),
        )
    )
    session.commit()
    flash(_("Added to your reflection log."))
    back = "dashboard.index" if form.back.data == "dashboard" else "dashboard.reflections"
    return redirect(url_for(back))


@bp.get("/reflections/<int:reflection_id>")
@login_required
def reflection(reflection_id: int) -> str:
    user = require_user()
    entry = _own_reflection(db.session(), user, reflection_id)
    profile = profile_of(user)
    return render_template(
        "web/reflections_entry.html", entry=entry, profile=profile, **_helpers(profile)
    )


@bp.post("/reflections/<int:reflection_id>/delete")
@login_required
def delete_reflection(reflection_id: int) -> BaseResponse:
    user, session = require_user(), db.session()
    session.delete(_own_reflection(session, user, reflection_id))
    session.commit()
    flash(_("Deleted from your reflection log."))
    return redirect(url_for("dashboard.reflections"))


@bp.get("/reflections.json")
@login_required
def reflections_json() -> Response:
    entries = reflection_log.reflections_of(db.session(), require_user().id)
    return _download(reflection_log.reflections_json(entries), "application/json", "json")


@bp.get("/reflections.md")
@login_required
def reflections_markdown() -> Response:
    user = require_user()
    text = reflection_log.reflections_markdown(
        reflection_log.reflections_of(db.session(), user.id), profile_of(user).tz
    )
    return _download(text, "text/markdown; charset=utf-8", "md")


def _download(body: str, mimetype: str, extension: str) -> Response:
    response = Response(body, mimetype=mimetype)
    filename = f"touchpoint-reflections.{extension}"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
