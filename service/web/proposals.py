"""The accept page of a proposal: opened from an email's signed link, no sign-in needed."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, render_template
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, SubmitField

from service.calendars.zones import resolve_zone
from service.extensions import db
from service.models import Proposal, User
from service.proposals import (
    AlreadyAnswered,
    Choice,
    LinkExpired,
    LinkInvalid,
    SlotNotOffered,
    answer,
    chosen_slot,
    is_open,
    open_slots,
    partner_name,
    proposal_from_token,
    slot_label,
)

bp = Blueprint("proposals", __name__)


class AnswerForm(FlaskForm):
    slot = RadioField("Pick a time", choices=[], validate_choice=False)
    book = SubmitField("Book it")
    decline = SubmitField("Decline")
    other_times = SubmitField("Other times please")


@bp.route("/p/<token>", methods=["GET", "POST"])
def show(token: str) -> ResponseReturnValue:
    now = datetime.now(UTC)
    proposal = _proposal_or_404(token)
    if proposal is None:
        return _expired()
    tz = _zone_of(proposal)
    if proposal.status in ("accepted", "declined", "other_times"):
        return _answered(proposal, tz, again=True)
    if not is_open(proposal, now):
        return _expired()
    form = _form(proposal, tz, now)
    if form.validate_on_submit():
        return _record(proposal, form, tz, now)
    return _page(form, proposal, tz)


def _proposal_or_404(token: str) -> Proposal | None:
    """Return the proposal a link names; None when the link is too old; 404 when forged."""
    try:
        return proposal_from_token(db.session(), current_app.config["SECRET_KEY"], token)
    except LinkExpired:
        return None
    except LinkInvalid:
        abort(404)


def _zone_of(proposal: Proposal) -> ZoneInfo:
    owner = db.session.get(User, proposal.user_id)
    return (resolve_zone(owner.tz) if owner else None) or ZoneInfo("UTC")


def _form(proposal: Proposal, tz: ZoneInfo, now: datetime) -> AnswerForm:
    form = AnswerForm()
    form.slot.choices = [
        SelectChoice(start.isoformat(), slot_label((start, end), tz))
        for start, end in open_slots(proposal, now)
    ]
    return form


def _record(
    proposal: Proposal, form: AnswerForm, tz: ZoneInfo, now: datetime
) -> ResponseReturnValue:
    try:
        answer(db.session(), proposal, _choice(form), now)
    except SlotNotOffered:
        form.slot.errors = ["Pick one of the times first."]
        return _page(form, proposal, tz)
    except AlreadyAnswered:
        return _answered(proposal, tz, again=True)
    except LinkExpired:
        return _expired()
    db.session.commit()
    # The booking itself (Google event or iTIP invite) is enqueued by the workers issue.
    return _answered(proposal, tz, again=False)


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
        partner=partner_name(proposal.partner),
        tz=tz.key,
    ), status


def _answered(proposal: Proposal, tz: ZoneInfo, *, again: bool) -> ResponseReturnValue:
    slot = chosen_slot(proposal)
    return render_template(
        "web/proposals/answered.html",
        proposal=proposal,
        again=again,
        chosen=slot_label(slot, tz) if slot else "",
        partner=partner_name(proposal.partner),
        tz=tz.key,
    )


def _expired() -> ResponseReturnValue:
    return render_template("web/proposals/expired.html"), 410
