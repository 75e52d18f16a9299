"""When the title says nothing the vocabulary knows: what the meeting's shape says instead.

A ticket key or a code name the same people meet under elsewhere, a recurring series of a small
group, or a few colleagues in working hours read as project work. Two people alone need more:
unknown words lower confidence, so the time of day, the length, a shared series and the other
person's domain must agree before such a meeting counts as a 1:1.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Final

from service.engine.context import EMPTY, CalendarContext, ticket
from service.engine.crowd import Crowd, people_phrase
from service.engine.i18n import gettext as _
from service.engine.model import Kind, Occurrence, Profile
from service.engine.people import address

MAX_OTHERS: Final = 8  # beyond this nobody gets a word in
SMALL: Final = 5  # standups and demos stop being conversations above this
COLLEAGUES: Final = range(2, 8)  # others besides you: 3 to 8 people in all
LONGEST: Final = timedelta(hours=2)
ENOUGH: Final = 2  # signals for, net of signals against, before two people alone count
UNSURE: Final = -0.1  # what not understanding the title costs the score

Shape = tuple[Kind | None, str, float]


def shape_kind(
    occ: Occurrence, profile: Profile, crowd: Crowd, context: CalendarContext | None, room: bool
) -> Shape:
    """Return the kind the meeting's shape points to, the reason, and a score adjustment."""
    context = context or EMPTY
    if key := ticket(occ.title):
        return "project", _("the title names the ticket %(key)s", key=key), UNSURE / 2
    if name := context.shared_name(occ, crowd.people):
        return "project", _("the same people meet about %(name)s elsewhere", name=name), UNSURE / 2
    if crowd.size <= 1:
        return _two_people(occ, profile, crowd, context)
    if context.in_series(occ) and not crowd.lists and crowd.size <= MAX_OTHERS:
        why = _("a recurring meeting of the same %(count)s people", count=crowd.size + 1)
        return "project", why, UNSURE / 2
    if crowd.size <= SMALL and room:
        return "project", _("a small meeting in a meeting room"), 0.0
    if _colleagues_at_work(occ, profile, crowd):
        return "project", _("%(count)s colleagues in working hours", count=crowd.size + 1), UNSURE
    why = _("the title does not say what it is, and %(count)s others are in it", count=crowd.size)
    return None, why, 0.0


def _two_people(occ: Occurrence, profile: Profile, crowd: Crowd, context: CalendarContext) -> Shape:
    if not crowd.people:  # the title names the partner: "Lunch w/ Carol" without invitees
        return "one_on_one", "", 0.0
    signals = [s for s in _signals(occ, profile, crowd, context) if s]
    score = sum(weight for weight, _ in signals)
    pros = [why for weight, why in signals if weight > 0]
    cons = [why for weight, why in signals if weight < 0]
    if score >= ENOUGH:
        why = _("the title says nothing we know, but %(reasons)s", reasons=_and(pros))
        return "one_on_one", why, UNSURE
    doubts = _and(cons) if cons else _("too little else says it is a meeting")
    return None, _("the title says nothing we know, and %(reasons)s", reasons=doubts), 0.0


def _signals(
    occ: Occurrence, profile: Profile, crowd: Crowd, context: CalendarContext
) -> list[tuple[int, str] | None]:
    other = crowd.people[0]
    name = crowd.names[other]
    manager = other == address(profile.manager)
    return [
        _domain(other, name, profile.domain),
        (1, _("it is in working hours")) if _in_hours(occ, profile) else
        (-1, _("it is outside working hours")),
        _length(occ),
        (1, _("it is a series with %(name)s", name=name)) if context.in_series(occ) else None,
        (1, _("it is with your manager")) if manager else None,
        (1, _("the title names %(name)s", name=name)) if _names(occ.title, other, name) else None,
    ]  # fmt: skip


def _domain(email: str, name: str, domain: str) -> tuple[int, str] | None:
    if not domain:
        return None  # whose calendar it is is unknown, so is who is from outside
    if outside(email, domain):  # doctors, schools, lawyers, candidates: it weighs double
        return -2, _("%(name)s is from outside", name=name)
    return 1, _("%(name)s is a colleague", name=name)


def _length(occ: Occurrence) -> tuple[int, str] | None:
    minutes = occ.duration.total_seconds() / 60
    if 10 <= minutes <= 90:
        return 1, _("%(minutes).0f minutes suit a talk", minutes=minutes)
    if minutes > 180:
        hours = f"{minutes / 60:.1g}"
        return -1, _("%(hours)s hours is long for a talk", hours=hours)
    return None


def _names(title: str, email: str, name: str) -> bool:
    words = set(re.findall(r"\w+", title.casefold()))
    parts = re.split(r"[._+\-]", email.partition("@")[0]) + name.casefold().split()
    return any(len(part) > 1 and part in words for part in parts)


def _colleagues_at_work(occ: Occurrence, profile: Profile, crowd: Crowd) -> bool:
    return (
        crowd.size in COLLEAGUES
        and not crowd.lists
        and bool(profile.domain)
        and not _outsiders(crowd, profile)
        and _in_hours(occ, profile)
        and occ.duration <= LONGEST
    )


def _in_hours(occ: Occurrence, profile: Profile) -> bool:
    if not isinstance(occ.start, datetime):
        return False
    local = occ.starts_at(profile.tz).astimezone(profile.tz)
    early = (datetime.combine(local.date(), profile.hours.start) - timedelta(minutes=30)).time()
    return local.weekday() in profile.hours.days and early <= local.time() < profile.hours.end


def _outsiders(crowd: Crowd, profile: Profile) -> list[str]:
    return [email for email in crowd.people if outside(email, profile.domain)]


def outside(email: str, domain: str) -> bool:
    theirs = email.rpartition("@")[2]
    return bool(domain) and theirs != domain and not theirs.endswith("." + domain)


def _and(parts: list[str]) -> str:
    return people_phrase(parts) if parts else ""
