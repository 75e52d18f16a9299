"""Decide which occurrences are touchpoints: meals, coffees, 1:1s, project work, career talks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, time
from functools import lru_cache
from typing import Final

from service.engine import vocabulary as vocab
from service.engine.context import CalendarContext
from service.engine.crowd import Crowd, crowd_of, named_partner, people_phrase
from service.engine.i18n import N_, ngettext
from service.engine.i18n import gettext as _
from service.engine.model import Kind, Occurrence, Profile, Verdict
from service.engine.people import address
from service.engine.structure import MAX_OTHERS, SMALL, outside, shape_kind

BASE: Final[Mapping[Kind, float]] = {
    "career": 0.95, "one_on_one": 0.8, "meal": 0.8, "coffee": 0.75, "project": 0.6,
}  # fmt: skip
TITLE_FIRST: Final[tuple[Kind, ...]] = ("career", "meal", "coffee")  # these beat the 1:1 rule
MEALTIMES: Final = (
    (time(7), time(10), N_("at breakfast time")),
    (time(11, 30), time(14), N_("at lunchtime")),
    (time(18), time(22), N_("at dinnertime")),
)

Adjustment = tuple[float, str]


def classify(occ: Occurrence, profile: Profile, context: CalendarContext | None = None) -> Verdict:
    """Judge one occurrence: which kind of touchpoint it is, if any, how good, and why.

    context: what the whole calendar says (calendar_context, built once per calendar).
    """
    me = address(profile.me)
    crowd = crowd_of(occ, me)
    for uid, marked in profile.overrides:
        if uid == occ.uid:  # the user's own mark beats every rule below
            score = BASE[marked] if marked else 0.0
            return Verdict(marked, score, (_("you marked it"),), crowd.people)
    hits = _title_hits(occ.title)
    partner = named_partner(occ.title, me) if crowd.size == 0 else None
    why_not = _ruled_out(occ, me, hits) or _crowd_rules_out(crowd, partner)
    if why_not:
        return Verdict(None, 0.0, (why_not,), crowd.people)
    kind, why, doubt = _kind_of(occ, profile, hits, crowd, context)
    if kind is None:
        return Verdict(None, 0.0, (why,), crowd.people)
    found = _adjustments(kind, occ, profile, crowd, partner)
    score = _clamp(kind, BASE[kind] + doubt + sum(delta for delta, _ in found))
    reasons = dict.fromkeys(r for r in (why, *(reason for _, reason in found)) if r)
    return Verdict(kind, score, tuple(reasons), crowd.people)


def is_busy(occ: Occurrence) -> bool:
    """Tell whether the occurrence blocks its time when looking for a free slot.

    Busy means: a VEVENT, not cancelled, not declined by the owner, and opaque. All-day events
    follow the same rule, so an opaque all-day event (an OOO day, a conference) blocks the whole
    day while a transparent one (the usual all-day default: birthdays, "working from home") does
    not. Tentative and unanswered invitations block time: the owner may still go.
    """
    return (
        occ.component.upper() == "VEVENT"
        and not _is_cancelled(occ)
        and (occ.my_response or "").lower() != "declined"
        and not occ.transparent
        and vocab.title_status(occ.title) is None
    )


def is_career(occ: Occurrence, profile: Profile) -> bool:
    """Tell whether the occurrence already is a career conversation (it resets the cadence)."""
    return classify(occ, profile).kind == "career"


@lru_cache(maxsize=8192)
def _title_hits(title: str) -> Mapping[str, str]:
    return vocab.scan(title, vocab.TITLE_PATTERNS)


@lru_cache(maxsize=4096)
def _place_hits(location: str) -> Mapping[str, str]:
    return vocab.scan(location, vocab.PLACE_PATTERNS) if location else {}


# Rules ------------------------------------------------------------------------------------

HARD_NO: Final = (
    ("family", N_("title mentions %(words)s: a family appointment, not a work moment")),
    ("away", N_("title says %(words)s: you are away")),
    ("interview", N_("title mentions %(words)s: an interview is about the candidate, not you")),
    ("focus", N_("title mentions %(words)s: time kept free of meetings")),
    ("crowd", N_("title mentions %(words)s: too big to talk")),
)
SOFT_NO: Final = (  # weak words (a hotel, a train): yield to what the title says it is about
    ("personal", N_("title mentions %(words)s: a personal appointment")),
    ("travel", N_("title mentions %(words)s: that is travel")),
)


def _ruled_out(occ: Occurrence, me: str, hits: Mapping[str, str]) -> str | None:
    """Return why the occurrence cannot be a touchpoint whoever attends, or None."""
    if occ.component.upper() != "VEVENT":
        return _("it is a %(component)s entry, not a meeting", component=occ.component)
    if _is_cancelled(occ):
        return _("it was cancelled")
    if _my_response(occ, me) == "declined":
        return _("you declined it")
    if marked := vocab.title_status(occ.title):
        status, words = marked
        if status == "cancelled":
            return _("the title says %(words)s: it was cancelled", words=words)
        return _("the title says %(words)s: you declined it", words=words)
    if occ.all_day:
        return _("all-day events are not meetings")
    if occ.transparent:
        return _("it is marked free: a hold, not a meeting")
    return _title_rules_out(hits)


def _title_rules_out(hits: Mapping[str, str]) -> str | None:
    for category, why in HARD_NO:
        if category in hits:
            return _(why, words=hits[category])
    if any(kind in hits for kind in (*TITLE_FIRST, "project", "project_if_small")):
        return None  # "Lunch at Hotel Adlon", "Release train planning"
    return next((_(why, words=hits[c]) for c, why in SOFT_NO if c in hits), None)


def _crowd_rules_out(crowd: Crowd, partner: str | None) -> str | None:
    if crowd.size == 0 and crowd.declined:
        return _("%(names)s declined", names=people_phrase(list(crowd.declined)))
    if crowd.size == 0 and not partner:
        return _("nobody else is in it")
    if crowd.size > MAX_OTHERS and crowd.lists:
        return _(
            "%(count)s other people and a mailing list: too big to talk", count=len(crowd.people)
        )
    if crowd.size > MAX_OTHERS:
        return _("%(count)s other people: too big to talk", count=len(crowd.people))
    return None


def _kind_of(
    occ: Occurrence,
    profile: Profile,
    hits: Mapping[str, str],
    crowd: Crowd,
    context: CalendarContext | None,
) -> tuple[Kind | None, str, float]:
    """Return the kind the title, the place and the people point to, the main reason, and how
    much less sure than usual that is (when the title says nothing the vocabulary knows)."""
    for kind in TITLE_FIRST:  # what it is about beats who it is with
        if kind in hits:
            return kind, _("title mentions %(words)s", words=hits[kind]), 0.0
    if "one_on_one" in hits:
        if crowd.size <= 1:
            return "one_on_one", _("title mentions %(words)s", words=hits["one_on_one"]), 0.0
        why = _(
            "title says %(words)s, but %(count)s others are invited",
            words=hits["one_on_one"],
            count=crowd.size,
        )
        return "project", why, 0.0
    if work := hits.get("project") or hits.get("project_if_small"):
        return (*_project(work, "project" in hits, crowd, profile), 0.0)
    if place := _place_kind(occ, profile):
        return (*place, 0.0)
    return shape_kind(occ, profile, crowd, context, _in_a_room(occ, crowd))


def _project(word: str, any_size: bool, crowd: Crowd, profile: Profile) -> tuple[Kind | None, str]:
    alone = crowd.size <= 1 and not crowd.lists
    if alone and (not any_size or crowd.people == (address(profile.manager),)):
        # a weekly or status of two is a 1:1
        return "one_on_one", _("title mentions %(words)s", words=word)
    if not any_size and crowd.size > SMALL:
        why = _(
            "%(words)s with %(count)s others is a status round, not a talk",
            words=word,
            count=crowd.size,
        )
        return None, why
    return "project", _("title mentions %(words)s", words=word)


def _place_kind(occ: Occurrence, profile: Profile) -> tuple[Kind, str] | None:
    spots = _place_hits(occ.location)
    food = spots.get("food") or spots.get("canteen")
    if food and _mealtime(occ, profile):
        return "meal", _("at %(place)s", place=food)
    drink = spots.get("cafe") or food
    return ("coffee", _("at %(place)s", place=drink)) if drink else None


def _in_a_room(occ: Occurrence, crowd: Crowd) -> bool:
    return crowd.rooms > 0 or "room" in _place_hits(occ.location)


def _mealtime(occ: Occurrence, profile: Profile) -> str | None:
    if not isinstance(occ.start, datetime):
        return None
    local = occ.starts_at(profile.tz).astimezone(profile.tz).time()
    return next((_(label) for low, high, label in MEALTIMES if low <= local < high), None)


# Score ------------------------------------------------------------------------------------


def _adjustments(
    kind: Kind, occ: Occurrence, profile: Profile, crowd: Crowd, partner: str | None
) -> list[Adjustment]:
    return [
        *_company(kind, occ, profile, crowd, partner),
        *_timing(kind, occ, profile),
        *_setting(kind, occ, crowd),
        *_answer(occ, profile),
        *_length(kind, occ),
    ]


def _company(
    kind: Kind, occ: Occurrence, profile: Profile, crowd: Crowd, partner: str | None
) -> Iterable[Adjustment]:
    names = [crowd.names[email] for email in crowd.people]
    if partner:
        yield -0.15, _("nobody is invited, but the title names %(name)s", name=partner)
    elif names:
        yield _size_delta(kind, crowd.size), _who(names)
    if crowd.lists:
        yield -0.1, _("a mailing list is invited, so it may be bigger")
    if address(profile.manager) in crowd.names:
        alone = len(names) == 1
        yield ((0.05, _("with your manager")) if alone else (0.0, _("your manager is there")))
    if outsiders := [e for e in crowd.people if outside(e, profile.domain)]:
        yield 0.0, _networking(outsiders, crowd)
    organiser = crowd.names.get(address(occ.organizer))
    if organiser and kind != "project":  # they asked for the time: they want to talk
        yield 0.02, _("%(name)s set it up", name=organiser)


def _networking(outsiders: list[str], crowd: Crowd) -> str:
    names = people_phrase([crowd.names[email] for email in outsiders])
    domains = ", ".join(dict.fromkeys(email.rpartition("@")[2] for email in outsiders))
    return ngettext(
        "%(names)s is from outside (%(domains)s): a networking moment",
        "%(names)s are from outside (%(domains)s): a networking moment",
        len(outsiders),
        names=names,
        domains=domains,
    )


def _who(names: list[str]) -> str:
    if len(names) == 1:
        return _("just you and %(name)s", name=names[0])
    if len(names) <= 3:
        return _("you, %(names)s", names=people_phrase(names))
    return _("you and %(count)s others", count=len(names))


def _size_delta(kind: Kind, size: int) -> float:
    if kind == "project":
        return 0.05 if size <= 3 else -0.03 * (size - 3)
    return -0.1 if kind in ("meal", "coffee") and size >= 4 else 0.0


def _timing(kind: Kind, occ: Occurrence, profile: Profile) -> Iterable[Adjustment]:
    if kind == "meal" and isinstance(occ.start, datetime):
        when = _mealtime(occ, profile)
        yield (0.05, when) if when else (-0.1, _("not at a mealtime"))


def _setting(kind: Kind, occ: Occurrence, crowd: Crowd) -> Iterable[Adjustment]:
    spots = _place_hits(occ.location)
    spot = spots.get("food") or spots.get("canteen") or spots.get("cafe")
    if kind in ("meal", "coffee") and spot:
        yield 0.05, _("at %(place)s", place=spot)
    if kind == "project" and _in_a_room(occ, crowd):
        yield 0.05, _("in a meeting room")


def _answer(occ: Occurrence, profile: Profile) -> Iterable[Adjustment]:
    answer = _my_response(occ, address(profile.me))
    if answer == "tentative":
        yield -0.1, _("you are only tentative")
    elif answer == "needs-action":
        yield -0.1, _("you have not answered yet")


LABELS: Final[Mapping[Kind, str]] = {
    "meal": N_("meal"), "coffee": N_("coffee"), "one_on_one": N_("1:1"),
    "project": N_("working meeting"), "career": N_("career talk"),
}  # fmt: skip


def _length(kind: Kind, occ: Occurrence) -> Iterable[Adjustment]:
    minutes = occ.duration.total_seconds() / 60
    longest = 120 if kind == "meal" else 90  # 15-90 minutes suits a talk; meals run longer
    if 0 < minutes < 10:
        yield -0.1, _("only %(minutes).0f minutes", minutes=minutes)
    elif minutes > longest:
        delta = -0.2 if minutes >= 180 else -0.1
        hours = f"{round(minutes / 60, 1):g}"
        yield delta, _("%(hours)s hours is long for a %(what)s", hours=hours, what=_(LABELS[kind]))


def _clamp(kind: Kind, score: float) -> float:
    lowest = 0.9 if kind == "career" else 0.1  # a real career talk always ranks first
    return round(min(1.0, max(lowest, score)), 2)


def _my_response(occ: Occurrence, me: str) -> str:
    if occ.my_response:
        return occ.my_response.lower()
    mine = (a.status for a in occ.attendees if address(a.email) == me)
    return next(mine, "").lower()


def _is_cancelled(occ: Occurrence) -> bool:
    return occ.status.lower() == "cancelled"
