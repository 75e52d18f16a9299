"""The accept page of a proposal: opened from an email's signed link, no sign-in needed."""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import npgettext
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, SubmitField

from service.adapters import mail
from service.adapters.google import TransientGoogleError
from service.adapters.links import LinkExpired
from service.config import Settings
from service.engine.people import display_name
from service.models import Proposal, User
from service.models.proposals import ACCEPTED, chosen_slot, offered_slots
from service.proposals import pause as ignored
from service.proposals import propose as proposing
from service.proposals.answer import (
    AlreadyAnswered,
    Choice,
    SlotNotOffered,
    answer,
    is_open,
    open_slots,
    proposal_from_token,
    slot_label,
)
from service.proposals.withdraw import unsent_cancels, withdraw
from service.web.context import app_settings, clock, opened, opened_or_404, secret_box
from service.web.extensions import csrf, db
from service.web.i18n import speak_to
from service.web.session import login_required, require_user
from service.web.settings import describe_pause
from workers.enqueue import QueueUnavailable, enqueue_booking, enqueue_email

bp = Blueprint("proposals", __name__)
log = logging.getLogger(__name__)


class AnswerForm(FlaskForm):
    slot = RadioField(_l("Pick a time"), choices=[], validate_choice=False)
    book = SubmitField(_l("Book it"))
    decline = SubmitField(_l("Decline"))
    other_times = SubmitField(_l("Other times please"))


@bp.route("/p/<token>", methods=["GET", "POST"])
def show(token: str) -> ResponseReturnValue:
    now = clock()
    proposal = opened(proposal_from_token, token)
    if proposal is None:
        return _expired()
    speak_to(db.session.get(User, proposal.user_id))
    tz = _zone_of(proposal)
    if proposal.status in ("accepted", "declined", "other_times"):
        # Right after answering (POST, then redirect here) it is news; later it is a reminder.
        return _answered(proposal, tz, again=request.args.get("answered") != "1")
    if not is_open(proposal, now):
        return _expired()
    form = _form(proposal, tz, now)
    if form.validate_on_submit():
        return _record(token, proposal, form, tz, now)
    if not form.is_submitted():
        _preselect(form, proposal, now)
    return _page(form, proposal, tz)


def _zone_of(proposal: Proposal) -> ZoneInfo:
    owner = db.session.get(User, proposal.user_id)
    return owner.zone if owner else ZoneInfo("UTC")


def _form(proposal: Proposal, tz: ZoneInfo, now: datetime) -> AnswerForm:
    form = AnswerForm()
    form.slot.choices = [
        SelectChoice(start.isoformat(), slot_label((start, end), tz))
        for start, end in open_slots(proposal, now)
    ]
    return form


def _preselect(form: AnswerForm, proposal: Proposal, now: datetime) -> None:
    """Tick the time an email's Accept link named (?slot=1 is the first), if it is still open."""
    number = request.args.get("slot", type=int)
    slots = offered_slots(proposal)
    if number is not None and 1 <= number <= len(slots) and slots[number - 1][0] > now:
        form.slot.data = slots[number - 1][0].isoformat()


def _record(
    token: str, proposal: Proposal, form: AnswerForm, tz: ZoneInfo, now: datetime
) -> ResponseReturnValue:
    try:
        answer(db.session(), proposal, _choice(form), now)
    except SlotNotOffered:
        form.slot.errors = [_("Pick one of the times first.")]
        return _page(form, proposal, tz)
    except AlreadyAnswered:
        return _answered(proposal, tz, again=True)
    except LinkExpired:
        return _expired()
    db.session.commit()
    if proposal.status == ACCEPTED:
        _book_later(proposal.id)
    # Redirect, so reloading the page shows the answer instead of posting it again.
    return redirect(url_for("proposals.show", token=token, answered=1), code=303)


def _book_later(proposal_id: int) -> None:
    """Hand the booking (Google event or iTIP invite) to the workers."""
    try:
        enqueue_booking(app_settings(), proposal_id)
    except QueueUnavailable as error:
        # The answer is committed: the workers' periodic sweep books accepted proposals that
        # have no booking yet, so the chat is only delayed while Redis is away, never lost.
        log.warning("booking of proposal %s left for the sweep: %s", proposal_id, error)


def _choice(form: AnswerForm) -> Choice:
    if form.decline.data:
        return Choice("decline")
    if form.other_times.data:
        return Choice("other_times")
    try:
        return Choice("accept", datetime.fromisoformat(form.slot.data or ""))
    except ValueError:
        return Choice("accept")


def _page(form: AnswerForm, proposal: Proposal, tz: ZoneInfo) -> ResponseReturnValue:
    status = 422 if form.is_submitted() else 200
    return render_template(
        "web/proposals/show.html",
        form=form,
        proposal=proposal,
        partner=display_name(proposal.partner),
        tz=tz.key,
        intent=request.args.get("answer", "") if not form.is_submitted() else "",
    ), status


def _answered(proposal: Proposal, tz: ZoneInfo, *, again: bool) -> ResponseReturnValue:
    slot = chosen_slot(proposal)
    return render_template(
        "web/proposals/answered.html",
        proposal=proposal,
        again=again,
        chosen=slot_label(slot, tz) if slot else "",
        partner=display_name(proposal.partner),
        tz=tz.key,
    )


def _expired() -> ResponseReturnValue:
    return render_template("web/proposals/expired.html"), 410


# Asking for a proposal now (the periodic planner calls the same service later) ----------------

TIMES = {1: _l("a time"), 2: _l("two times"), 3: _l("three times")}


@bp.post("/proposals/new")
@login_required
def create() -> ResponseReturnValue:
    settings: Settings = current_app.extensions["touchpoint"]
    result = proposing.attempt(db.session(), settings, require_user(), clock())
    db.session.commit()
    if result.proposal is None or result.email is None:
        flash(_("Nothing to propose: %(why)s", why=result.why))
        return redirect(url_for("dashboard.index"))
    sending = mail.send_now(db, settings, result.email.id)
    flash(*_sent_message(result.proposal, sending))
    return redirect(url_for("dashboard.index"))


def _sent_message(proposal: Proposal, sending: str) -> tuple[str, str]:
    """Say where the proposal went, as (message, flash category)."""
    if sending == "failed":
        return _("The email could not be sent; answer the proposal below instead."), "error"
    count = len(offered_slots(proposal))
    times = TIMES.get(count) or npgettext("time slots", "%(num)d time", "%(num)d times", count)
    who = display_name(proposal.partner)
    if sending == "retrying" and who:
        said = _(
            "Queued: the email with %(times)s with %(who)s goes out shortly.", times=times, who=who
        )
    elif sending == "retrying":
        said = _(
            "Queued: the email with %(times)s for a career chat goes out shortly.", times=times
        )
    elif who:
        said = _("Sent: check your email for %(times)s with %(who)s.", times=times, who=who)
    else:
        said = _("Sent: check your email for %(times)s for a career chat.", times=times)
    return said, "message"


# Unsubscribing from proposal emails: the signed link is the authorisation -------------------


@bp.post("/proposals/<int:proposal_id>/withdraw")
@login_required
def withdraw_chat(proposal_id: int) -> ResponseReturnValue:
    user, session = require_user(), db.session()
    proposal = session.get(Proposal, proposal_id)
    if proposal is None or proposal.user_id != user.id:
        abort(404)
    try:
        outcome = withdraw(session, app_settings(), secret_box(), proposal, clock())
    except TransientGoogleError:
        flash(
            _("Google Calendar did not answer: the chat is still booked. Try again soon."), "error"
        )
        return redirect(url_for("dashboard.index"))
    cancels = unsent_cancels(session, app_settings(), proposal)
    session.commit()
    for outbox_id in cancels:
        _send_later(outbox_id)
    if outcome == "withdrawn":
        flash(_("Cancelled: the other person is told, and the chat leaves both calendars."))
    else:
        flash(_("That chat is not booked ahead any more; nothing was changed."), "error")
    return redirect(url_for("dashboard.index"))


def _send_later(outbox_id: int) -> None:
    try:
        enqueue_email(app_settings(), outbox_id)
    except QueueUnavailable as error:  # committed: the outbox sweep sends it within minutes
        log.warning("cancel email %s left for the sweep: %s", outbox_id, error)


@bp.get("/unsubscribe/<token>")
def unsubscribe_page(token: str) -> ResponseReturnValue:
    user = opened_or_404(proposing.user_from_unsubscribe_token, token)
    speak_to(user)
    return render_template("web/proposals/unsubscribe.html", done=user.weekly_nudges == 0)


# Mail clients post here with one click (RFC 8058, body List-Unsubscribe=One-Click) and cannot
# carry a CSRF token; the signed token names the user, and unsubscribing twice changes nothing.
@bp.post("/unsubscribe/<token>")
@csrf.exempt
def unsubscribe(token: str) -> ResponseReturnValue:
    user = opened_or_404(proposing.user_from_unsubscribe_token, token)
    speak_to(user)
    proposing.unsubscribe(user)
    db.session.commit()
    return render_template("web/proposals/unsubscribe.html", done=True, just_now=True)


# Resuming after the auto-pause: the paused email's signed link, then one button ----------------


class ResumeForm(FlaskForm):
    resume = SubmitField(_l("Resume proposals"))


@bp.route("/resume/<token>", methods=["GET", "POST"])
def resume(token: str) -> ResponseReturnValue:
    user, form = opened_or_404(ignored.user_from_resume_token, token), ResumeForm()
    speak_to(user)
    resumed = False
    if form.validate_on_submit():
        ignored.resume(user)
        db.session.commit()
        resumed = True
    paused = describe_pause(user) if ignored.is_paused(user, clock()) else ""
    return render_template("web/proposals/resume.html", form=form, paused=paused, resumed=resumed)
