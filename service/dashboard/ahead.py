"""The dashboard's coming days, kept by the planning job so a request does not classify them.

The page shows the touchpoints of the next HORIZON_DAYS and the cadence clock: the engine's plan
of those days and the max_days before them (about 120 ms of CPU on a heavy calendar). The
planning job (workers.notes.plan_user) keeps that plan as one small row a user
(models.DashboardPlan), computed from the local midnight of its day for HORIZON_DAYS + 1 days so
that it serves every request of that day. Rules that keep it exact:

- The kept plan is a function of the stored occurrences it read, the user's settings, marks and
  booked chats, and its day. Storing occurrences deletes the row (sources.calendar.touched); the
  row's `key` names the settings, marks and chats; another day, key or VERSION is not current.
- A request that finds no current row computes the same plan itself (compute(), not stored), so
  the page is the same whether a job ran or not; only its cost differs.
- When a career conversation is due the page also shows a partner and times to propose, which
  depend on the request's moment: then the request plans in full as before (ahead() returns
  None).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.dashboard.past import DAY_READ, fingerprint
from service.engine.cadence import cadence_of
from service.engine.model import Cadence, Occurrence, Profile, Touchpoint, Window
from service.models import DashboardPlan, Mark, Proposal, User
from service.models.proposals import ACCEPTED
from service.sources.calendar import HORIZON_DAYS, plan_for_user, profile_of, read_span

VERSION = 1  # of what a kept plan holds: another value is not current
DAYS = HORIZON_DAYS + 1  # kept from a midnight: covers the horizon of any request that day
_UTC = ZoneInfo("UTC")


@dataclass(frozen=True, slots=True)
class Ahead:
    """The days ahead as the dashboard shows them when no conversation is due."""

    window: Window  # the request's moment to HORIZON_DAYS later
    occurrences: list[Occurrence]  # every occurrence overlapping the window, in order
    touchpoints: list[Touchpoint]  # those starting in it that are touchpoints, in order
    cadence: Cadence


def key_of(session: Session, user: User, marks: Sequence[Mark]) -> str:
    """Return what a kept plan depends on besides the occurrences and its day: the settings,
    the language its reasons are written in, the marks and the booked chats."""
    chats = session.execute(
        select(Proposal.id, Proposal.chosen_start, Proposal.booked_at, Proposal.partner)
        .where(Proposal.user_id == user.id, Proposal.status == ACCEPTED)
        .order_by(Proposal.id)
    ).all()
    profile = profile_of(user, marks)
    facts = [
        VERSION, fingerprint(profile), user.language, DAY_READ,
        sorted((uid, kind or "") for uid, kind in profile.overrides),
        [[str(value) for value in chat] for chat in chats],
    ]  # fmt: skip
    return hashlib.sha256(json.dumps(facts).encode()).hexdigest()


def compute(session: Session, user: User, day: date) -> dict[str, Any]:
    """Plan the user's days from the midnight of day (their zone) and return what the page
    needs of it: each touchpoint's verdict by (uid, UTC start), and the career conversations."""
    midnight = datetime.combine(day, time(), user.zone)
    plan = plan_for_user(
        session, user, midnight, notes=False, per_day=DAY_READ, days=DAYS, propose=False
    )
    rows = [_row(t) for t in plan.touchpoints]
    return {"touchpoints": rows, "careers": [_utc(start) for start in plan.careers]}


def keep(session: Session, user: User, now: datetime) -> None:
    """Compute and keep the user's plan for today (the planning job; the caller commits)."""
    marks = session.scalars(select(Mark).where(Mark.user_id == user.id)).all()
    day = now.astimezone(user.zone).date()
    facts, key = compute(session, user, day), key_of(session, user, marks)
    row = session.get(DashboardPlan, user.id)
    if row is None:
        session.add(DashboardPlan(user_id=user.id, day=day, key=key, facts=facts, computed_at=now))
    else:
        row.day, row.key, row.facts, row.computed_at = day, key, facts, now
    session.flush()


def kept(session: Session, user: User, marks: Sequence[Mark], now: datetime) -> dict[str, Any]:
    """Return the plan kept for today if it is current, else the same plan computed now."""
    day = now.astimezone(user.zone).date()
    row = session.get(DashboardPlan, user.id)
    if row is not None and row.day == day and row.key == key_of(session, user, marks):
        return row.facts
    return compute(session, user, day)


def ahead(
    session: Session, user: User, marks: Sequence[Mark], profile: Profile, now: datetime
) -> Ahead | None:
    """Return the next HORIZON_DAYS from the kept plan (or the same plan computed now), or
    None when a career conversation is due (the page then plans in full, with proposals)."""
    facts = kept(session, user, marks, now)
    window = Window(now, now + timedelta(days=HORIZON_DAYS))
    since = now - timedelta(days=profile.max_days)
    careers = [datetime.fromisoformat(at) for at in facts["careers"]]
    cadence = cadence_of(
        [at for at in careers if since <= at < window.end],
        now,
        ideal_days=profile.ideal_days,
        max_days=profile.max_days,
    )
    if cadence.due:
        return None
    verdicts = {(uid, at): rest for uid, at, *rest in facts["touchpoints"]}
    read, _ = read_span(session, user.id, profile, window, now, per_day=DAY_READ)
    tz = profile.tz
    inside = [o for o in read if window.overlaps(o.starts_at(tz), o.ends_at(tz))]
    touchpoints = []
    for occ in inside:
        found = verdicts.get((occ.uid, _utc(occ.starts_at(_UTC))))
        if found is not None and occ.starts_at(tz) >= now:
            kind, score, reasons, people = found
            touchpoints.append(Touchpoint(occ, kind, score, tuple(reasons), tuple(people)))
    return Ahead(window, inside, touchpoints, cadence)


def _row(t: Touchpoint) -> list[Any]:
    occurrence = t.occurrence
    start = _utc(occurrence.starts_at(_UTC))
    return [occurrence.uid, start, t.kind, t.score, list(t.reasons), list(t.people)]


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()
