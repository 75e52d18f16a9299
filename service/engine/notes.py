"""Compose the short prep note sent before each touchpoint.

A note answers the article's two questions for one person at one moment: how to add value for
them, and what one insight to ask for. Both come from a question bank (service.engine.prompts),
chosen by who the person is to the user, the kind of meeting, the user's stage and goal, and what
the calendar shows (the topic in the title, a first meeting, someone back from a break, someone
not seen for months, a new series). The last reflection about the person leads the note. The
wording lives in templates/notes/.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from service.engine import dates, i18n, prompts
from service.engine.model import Occurrence, PrepNote, Profile, Touchpoint, Verdict
from service.engine.people import NAME_CHARS, address, clean, display_name
from service.engine.relations import (
    Ledger,
    People,
    Person,
    attendees_of,
    is_person_address,
    people_of,
    topic_of,
)

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
MAX_WORDS = 120
GOAL_CHARS = 120
LAST_CHARS = 160

_MEALS = ("breakfast", "brunch", "lunch", "dinner")
# Whom to catch in a group: someone outside first when looking outside (and colleagues only
# discreetly), another team when looking for a move, otherwise a peer, who sees the work up close.
_PREFERENCE: dict[str, tuple[str, ...]] = {
    "external_move": ("external", "mentor", "peer", "cross_team", "skip_level", "manager"),
    "internal_move": ("cross_team", "mentor", "peer", "skip_level", "manager", "external"),
}
_DEFAULT_PREFERENCE = ("peer", "cross_team", "mentor", "skip_level", "manager", "external")
# Trimmed in this order when a note runs long: the user's own words first, names last.
_TRIMMABLE = (("goal", 0), ("last", 0), ("topic", 0), ("title", 1), ("who", 1))


def compose_note(
    tp: Touchpoint,
    profile: Profile,
    *,
    last_with: Mapping[str, str] | None = None,
    people: People | None = None,
    recent: Mapping[str, Sequence[str]] | None = None,
    series_new: bool = False,
    language: str | None = None,
) -> PrepNote:
    """Write the prep note for one touchpoint.

    people: the person model (service.engine.relations); built from this touchpoint alone when
    absent. recent: the prompt keys already used with each person in the month before, oldest
    first, so none comes twice. series_new: this is the first meeting of a new recurring series.
    language: what the note is written in (service.engine.i18n.LANGUAGES); the current one when
    absent.
    """
    code = i18n.supported(language or i18n.current())
    last = {address(k): v for k, v in (last_with or {}).items()}
    if people is None:
        verdict = Verdict(tp.kind, tp.score, tp.reasons, tp.people)
        people = people_of([(tp.occurrence, verdict)], profile, last_with=last, history=False)
    with i18n.language(code):  # the dates and names in the facts, in the note's language
        facts = _facts(tp, profile, people, last, recent or {}, series_new)
    facts["language"] = code
    keys = (facts["add"], facts["ask"])
    return PrepNote(_subject(facts), _fit(facts), person=facts["email"], prompts=keys)


@cache
def _environment(code: str) -> jinja2.Environment:
    """Return the notes' environment for one language, its catalog installed for {% trans %}."""
    # Plain-text notes go into text emails and JSON; the HTML side escapes them when it renders.
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=False,  # noqa: S701
        undefined=jinja2.StrictUndefined,
        lstrip_blocks=True,
        auto_reload=False,
        extensions=["jinja2.ext.i18n"],
    )
    environment.policies["ext.i18n.trimmed"] = True
    environment.install_gettext_translations(  # type: ignore[attr-defined]
        i18n.translations(code), newstyle=True
    )
    return environment


def _render(name: str, facts: Mapping[str, Any]) -> str:
    return _environment(facts["language"]).get_template(name).render(facts)


def _subject(facts: Mapping[str, Any]) -> str:
    return " ".join(_render("notes/subject.txt", facts).split())


def _text(facts: Mapping[str, Any]) -> str:
    """Render the note: one line per non-blank template line, so block tags may sit alone."""
    rendered = _render(f"notes/{facts['kind']}.txt", facts)
    lines = (" ".join(line.split()) for line in rendered.splitlines())
    return "\n".join(line for line in lines if line)


def _fit(facts: dict[str, Any]) -> str:
    """Render the note, trimming the longest free text until it is within MAX_WORDS."""
    text = _text(facts)
    for field, floor in _TRIMMABLE:
        excess = len(text.split()) - MAX_WORDS
        if excess <= 0:
            break
        facts = {**facts, field: _drop_words(facts[field], excess, floor)}
        text = _text(facts)
    return text


def _facts(
    tp: Touchpoint,
    profile: Profile,
    people: People,
    last_with: Mapping[str, str],
    recent: Mapping[str, Sequence[str]],
    series_new: bool,
) -> dict[str, Any]:
    others = _people(tp, profile)
    focus = _focus(others, profile, people, last_with, recent)
    person = people.get(focus) if focus else None
    local = tp.occurrence.starts_at(profile.tz).astimezone(profile.tz)
    title = clean(tp.occurrence.title, NAME_CHARS)
    names = [display_name(a.email, a.name) for a in tp.occurrence.attendees]
    names += [people.name(e) for e in others] + [display_name(profile.me)]
    facts: dict[str, Any] = {
        "kind": tp.kind,
        "stage": profile.stage,
        "group": len(others) > 1,
        "title": title,
        "topic": topic_of(title, names),
        "email": focus,
        "who": _display_name(tp.occurrence, focus, people) if focus else "",
        "relation": person.relation if person else "open",
        "goal": clean(profile.goal, GOAL_CHARS),
        "last": _sentence(clean(last_with.get(focus, "") or _last(person), LAST_CHARS)),
        "meal": _meal(title, local),
        "when": _when(tp.occurrence, local),
        "series_new": series_new,
        **_calendar_facts(person if people.history else None, local),
        **_ledger_facts(person.ledger if person else Ledger()),
    }
    used = recent.get(focus, ()) if focus else ()
    facts["add"] = prompts.choose(prompts.add_keys(facts), used)
    facts["ask"] = prompts.choose(prompts.ask_keys(facts), used)
    return facts


def _calendar_facts(person: Person | None, local: datetime) -> dict[str, Any]:
    """Return what the calendar says about this person at this moment, for the templates."""
    nothing = {"first": False, "back": False, "months": False, "last_seen": "", "gap_days": None}
    if person is None:
        return {**nothing, "last_day": "", "last_title": "", "their_topic": ""}
    seen = person.moment_facts(local)
    # Someone the log already has a line about is no stranger, whatever the calendar shows.
    seen["first"] = seen["first"] and not person.last and person.ledger == Ledger()
    last_seen = seen.pop("last_seen")
    known = isinstance(last_seen, datetime)
    return {
        **seen,
        "last_seen": dates.month(last_seen) if isinstance(last_seen, datetime) else "",
        "last_day": dates.short_date(last_seen.astimezone(local.tzinfo))
        if isinstance(last_seen, datetime)
        else "",
        "last_title": seen["last_title"] if known else "",
        "their_topic": person.topics[0] if person.topics else "",
    }


def _ledger_facts(ledger: Ledger) -> dict[str, Any]:
    give = ledger.asked > ledger.offered
    take = ledger.offered >= ledger.asked + 2
    return {"asked": ledger.asked, "offered": ledger.offered, "give": give, "take": take}


def _last(person: Person | None) -> str:
    return person.last if person else ""


def _people(tp: Touchpoint, profile: Profile) -> list[str]:
    """Return the other people at the touchpoint, in order: never the user, a room or a list."""
    kinds = {address(a.email): a for a in tp.occurrence.attendees}
    emails = tp.people or tuple(a.email for a in attendees_of(tp.occurrence, profile))
    me = address(profile.me)
    found = []
    for email in dict.fromkeys(map(address, emails)):
        attendee = kinds.get(email)
        cutype, name = (attendee.cutype, attendee.name) if attendee else ("", "")
        if email and email != me and is_person_address(email, cutype, name):
            found.append(email)
    return found


def _focus(
    others: Sequence[str],
    profile: Profile,
    people: People,
    last_with: Collection[str],
    recent: Mapping[str, Sequence[str]],
) -> str:
    """Pick the one person to talk to: by relationship, then whoever was noted least lately."""
    order = _PREFERENCE.get(profile.stage, _DEFAULT_PREFERENCE)

    def rank(email: str) -> tuple[int, int, bool, str]:
        person = people.get(email)
        relation = person.relation if person else "cross_team"
        return (order.index(relation), len(recent.get(email, ())), email not in last_with, email)

    return min(others, key=rank, default="")


def _display_name(occurrence: Occurrence, email: str, people: People) -> str:
    """Return the person's name as the calendar gives it, or as read from the address."""
    given = next((a.name for a in occurrence.attendees if address(a.email) == email), "")
    return display_name(email, given) if given else people.name(email)


def _meal(title: str, local: datetime) -> str:
    lowered = title.lower()
    for meal in _MEALS:
        if meal in lowered:
            return meal
    return "breakfast" if local.hour < 11 else "lunch" if local.hour < 16 else "dinner"


def _when(occurrence: Occurrence, local: datetime) -> str:
    # The note's language, never the process locale, so notes stay deterministic.
    return dates.weekday(local) if occurrence.all_day else dates.weekday_time(local)


def _drop_words(value: str, excess: int, floor: int) -> str:
    """Drop excess words from the end of value, keeping at least floor words."""
    words = value.split()
    kept = max(floor, len(words) - excess)
    if kept >= len(words):
        return value
    return " ".join(words[:kept]).rstrip(",;:.-") + "…" if kept else ""


def _sentence(text: str) -> str:
    return text + "." if text and text[-1] not in ".!?…" else text
