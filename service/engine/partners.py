"""Choose whom to ask for a career chat, from the people already on the user's calendar."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from service.engine.cadence import short_date
from service.engine.i18n import N_, ngettext
from service.engine.i18n import gettext as _
from service.engine.model import Kind, Profile, Touchpoint
from service.engine.people import display_name
from service.engine.relations import People, is_person_address

INFORMAL: frozenset[Kind] = frozenset({"meal", "coffee", "one_on_one"})
RECENT_DAYS = 90
NOBODY = N_(
    "Pick someone who will listen without an agenda: a peer, a mentor, someone from another team."
)

# Points per reason; the biggest positive one becomes the sentence the user reads.
INFORMAL_POINTS = 100  # a slot right after a lunch or coffee is the most natural ask
STAGE_POINTS = 30
CATCH_UP_POINTS = 35
MANAGER_POINTS = -25  # the article: not necessarily the boss
MET_POINTS, MET_CAP = 4, 5


@dataclass(frozen=True)
class Partner:
    """Someone to suggest for the chat, why, and the moments a slot right after would suit."""

    email: str | None
    reason: str
    after: tuple[datetime, ...] = ()
    # Each informal moment with them (its end) and the sentence proposing a chat right after it.
    moments: tuple[tuple[datetime, str], ...] = ()
    # The reason when no slot right after one of those moments is free.
    otherwise: str = ""
    name: str = ""


@dataclass
class _Person:
    """What the calendar says about one person, relative to the user."""

    email: str
    name: str = ""
    met: int = 0  # past touchpoints in the last RECENT_DAYS
    informal: list[Touchpoint] = field(default_factory=list)
    projects: int = 0  # upcoming project touchpoints
    last_career: datetime | None = None
    mentor: bool = False
    with_manager: bool = False

    @property
    def shown(self) -> str:
        """The person's name as every page and email shows it."""
        return display_name(self.email, self.name)


@dataclass(frozen=True)
class _Context:
    profile: Profile
    now: datetime
    catch_up: bool  # career talks happen, but not with the manager for too long


def choose_partner(
    past: Sequence[Touchpoint],
    upcoming: Sequence[Touchpoint],
    profile: Profile,
    now: datetime,
    *,
    people: People | None = None,
) -> Partner:
    """Suggest someone objective to ask, best first by the rules below; nobody if none fits."""
    moment = now.astimezone(UTC)
    found = _gather(
        [t for t in past if _start(t, profile) < moment],
        [t for t in upcoming if _end(t, profile) > moment],
        profile,
        moment,
    )
    if not found:
        return Partner(email=None, reason=_(NOBODY), otherwise=_(NOBODY))
    if people is not None:
        for person in found.values():
            person.name = person.name or people.name(person.email)
    context = _Context(profile, moment, _catch_up(found, profile, moment))
    best = min(found.values(), key=lambda p: (-_score(p, context), _first(p, profile), p.email))
    moments = tuple(
        (t.occurrence.ends_at(profile.tz), _right_after(best, t, context)) for t in best.informal
    )
    return Partner(
        best.email,
        _reason(best, context),
        _after(best, profile),
        moments=tuple(sorted(moments, key=lambda m: m[0].astimezone(UTC))),
        otherwise=_reason(best, context, informal=False),
        name=best.shown,
    )


def _gather(
    past: list[Touchpoint], upcoming: list[Touchpoint], profile: Profile, now: datetime
) -> dict[str, _Person]:
    """Collect the facts about every suggestable person on the user's touchpoints."""
    people: dict[str, _Person] = {}
    recent = now - timedelta(days=RECENT_DAYS)
    for touchpoint in past:
        for person in _people(touchpoint, profile, people):
            person.met += _start(touchpoint, profile) >= recent
            _note_career(person, touchpoint, profile)
    for touchpoint in sorted(upcoming, key=lambda t: _start(t, profile)):
        for person in _people(touchpoint, profile, people):
            if touchpoint.kind in INFORMAL and not touchpoint.occurrence.all_day:
                person.informal.append(touchpoint)
            person.projects += touchpoint.kind == "project"
    return people


def _people(touchpoint: Touchpoint, profile: Profile, known: dict[str, _Person]) -> list[_Person]:
    """Return the suggestable people on a touchpoint, adding newcomers to `known`."""
    names = {a.email.lower(): a for a in touchpoint.occurrence.attendees}
    emails = {e.lower() for e in touchpoint.people}
    manager = profile.manager.lower()
    found = []
    for email in sorted(emails):
        attendee = names.get(email)
        if not _suggestable(email, profile) or (attendee is not None and not attendee.is_person):
            continue
        if attendee is not None and not is_person_address(email, attendee.cutype, attendee.name):
            continue
        person = known.setdefault(email, _Person(email))
        if not person.name and attendee and "@" not in attendee.name:
            person.name = attendee.name
        person.with_manager |= bool(manager) and manager in emails and email != manager
        found.append(person)
    return found


def _suggestable(email: str, profile: Profile) -> bool:
    barred = {e.lower() for e in profile.never_suggest} | {profile.me.lower()}
    return "@" in email and email not in barred and is_person_address(email)


def _note_career(person: _Person, touchpoint: Touchpoint, profile: Profile) -> None:
    if touchpoint.kind == "career" or "mentor" in touchpoint.occurrence.title.lower():
        person.mentor |= person.email != profile.manager.lower()
    if touchpoint.kind == "career":
        start = _start(touchpoint, profile)
        person.last_career = max(start, person.last_career or start)


def _catch_up(people: dict[str, _Person], profile: Profile, now: datetime) -> bool:
    """Say whether the user talks careers with others but has not with the manager for long."""
    manager = people.get(profile.manager.lower())
    others = any(p.last_career for p in people.values() if p is not manager)
    since = manager.last_career if manager else None
    return others and (since is None or since < now - timedelta(days=profile.max_days))


def _score(person: _Person, context: _Context) -> int:
    return sum(points for points, _ in _reasons(person, context))


def _reason(person: _Person, context: _Context, *, informal: bool = True) -> str:
    found = _reasons(person, context) if informal else _reasons(person, context, informal=False)
    told = [r for r in found if r[0] > 0 and r[1]]
    return max(told, key=lambda r: r[0])[1] if told else _fallback(person, context.profile)


def _reasons(person: _Person, context: _Context, *, informal: bool = True) -> list[tuple[int, str]]:
    """Return every reason that applies to this person, with its points."""
    rules: tuple[Callable[[_Person, _Context], tuple[int, str] | None], ...] = (
        _informal_reason if informal else _no_reason,
        _manager_reason,
        STAGE_RULES.get(context.profile.stage, _growth),
        _met_reason,
    )
    found = (rule(person, context) for rule in rules)
    return [r for r in found if r is not None]


def _informal_reason(person: _Person, context: _Context) -> tuple[int, str] | None:
    if not person.informal:
        return None
    return INFORMAL_POINTS, _right_after(person, person.informal[0], context)


def _right_after(person: _Person, touchpoint: Touchpoint, context: _Context) -> str:
    what, day = _what(touchpoint, context.profile), _when(touchpoint, context)
    return _(
        "You have %(what)s with %(name)s on %(day)s; ask for fifteen minutes right after.",
        what=_(what),
        name=person.shown,
        day=day,
    )


def _no_reason(person: _Person, context: _Context) -> tuple[int, str] | None:
    return None


def _manager_reason(person: _Person, context: _Context) -> tuple[int, str] | None:
    if person.email != context.profile.manager.lower():
        return None
    if context.catch_up:
        name = person.shown
        return CATCH_UP_POINTS, _(
            "Your recent career conversations were with others; keep %(name)s, your manager, "
            "up to date too.",
            name=name,
        )
    return MANAGER_POINTS, ""


def _met_reason(person: _Person, context: _Context) -> tuple[int, str] | None:
    if not person.met:
        return None
    points = MET_POINTS * min(person.met, MET_CAP)
    return (
        points,
        _(
            "You have met %(name)s %(times)s in the last %(days)s days.",
            name=person.shown,
            times=_times(person.met),
            days=RECENT_DAYS,
        ),
    )


def _internal_move(person: _Person, context: _Context) -> tuple[int, str] | None:
    if not _colleague(person, context.profile) or person.with_manager:
        return None
    if not context.profile.manager or person.email == context.profile.manager.lower():
        return None
    name = person.shown
    if person.met:
        return STAGE_POINTS, _(
            "%(name)s works on another team and you two have met %(times)s in the last "
            "%(days)s days.",
            name=name,
            times=_times(person.met),
            days=RECENT_DAYS,
        )
    return STAGE_POINTS, _(
        "%(name)s works on another team and can show you where you could move.", name=name
    )


def _external_move(person: _Person, context: _Context) -> tuple[int, str] | None:
    name = person.shown
    if context.profile.domain and not _colleague(person, context.profile):
        return STAGE_POINTS, _(
            "%(name)s works outside your company and sees your field from there.", name=name
        )
    if person.mentor:
        return STAGE_POINTS, _(
            "%(name)s has mentored you before and has no stake in where you go.", name=name
        )
    return None


def _new_project(person: _Person, context: _Context) -> tuple[int, str] | None:
    if not person.projects:
        return None
    return (
        STAGE_POINTS,
        _("%(name)s is in your upcoming project meetings; ask what it needs.", name=person.shown),
    )


def _growth(person: _Person, context: _Context) -> tuple[int, str] | None:
    name, last = person.shown, person.last_career
    if last is None:
        if person.met:
            return STAGE_POINTS, _(
                "You have never had a career conversation with %(name)s, and you two have met "
                "%(times)s in the last %(days)s days.",
                name=name,
                times=_times(person.met),
                days=RECENT_DAYS,
            )
        return STAGE_POINTS, _("You have never had a career conversation with %(name)s.", name=name)
    # The longer ago, the more points, short of someone never asked.
    days, span = (context.now - last).days, 2 * max(context.profile.max_days, 1)
    points = min(STAGE_POINTS * min(days, span) // span, STAGE_POINTS - 1)
    sentence = _(
        "Your last career conversation with %(name)s was %(days)s days ago.", name=name, days=days
    )
    return points, sentence if days > context.profile.max_days else ""


STAGE_RULES: dict[str, Callable[[_Person, _Context], tuple[int, str] | None]] = {
    "internal_move": _internal_move,
    "external_move": _external_move,
    "new_project": _new_project,
    "growth": _growth,
}


def _fallback(person: _Person, profile: Profile) -> str:
    if person.email == profile.manager.lower():
        return _(
            "%(name)s is your manager and should hear where you want to go.", name=person.shown
        )
    return _(
        "%(name)s knows your work and has no stake in your next step: a good listener.",
        name=person.shown,
    )


def _colleague(person: _Person, profile: Profile) -> bool:
    return bool(profile.domain) and person.email.rpartition("@")[2] == profile.domain


def _what(touchpoint: Touchpoint, profile: Profile) -> str:
    """Return what the touchpoint is, in English: the caller translates it."""
    if touchpoint.kind == "coffee":
        return N_("coffee")
    if touchpoint.kind == "one_on_one":
        return N_("a 1:1")
    title = touchpoint.occurrence.title.lower()
    meals = (N_("breakfast"), N_("brunch"), N_("lunch"), N_("dinner"))
    hour = touchpoint.occurrence.starts_at(profile.tz).astimezone(profile.tz).hour
    by_hour = "breakfast" if hour < 11 else "lunch" if hour < 16 else "dinner"
    return next((meal for meal in meals if meal in title), by_hour)


def _when(touchpoint: Touchpoint, context: _Context) -> str:
    # A date, never "today" or "tomorrow": the reason is stored and read in emails days later.
    day = touchpoint.occurrence.starts_at(context.profile.tz).astimezone(context.profile.tz)
    return short_date(day)


def _times(count: int) -> str:
    if count == 1:
        return _("once")
    if count == 2:
        return _("twice")
    return ngettext("%(num)d time", "%(num)d times", count)


def _after(person: _Person, profile: Profile) -> tuple[datetime, ...]:
    ends: Iterable[datetime] = (t.occurrence.ends_at(profile.tz) for t in person.informal)
    return tuple(sorted(ends, key=lambda e: e.astimezone(UTC)))


def _first(person: _Person, profile: Profile) -> float:
    """Return when the person's first upcoming informal touchpoint starts, for tie-breaks."""
    if not person.informal:
        return float("inf")
    return _start(person.informal[0], profile).timestamp()


def _start(touchpoint: Touchpoint, profile: Profile) -> datetime:
    return touchpoint.occurrence.starts_at(profile.tz).astimezone(UTC)


def _end(touchpoint: Touchpoint, profile: Profile) -> datetime:
    return touchpoint.occurrence.ends_at(profile.tz).astimezone(UTC)
