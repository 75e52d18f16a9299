"""Compose the short prep note sent before each touchpoint."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from service.engine.model import Occurrence, PrepNote, Profile, Touchpoint
from service.engine.people import NAME_CHARS, address, clean, display_name

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
MAX_WORDS = 120
GOAL_CHARS = 120
LAST_CHARS = 160

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MEALS = ("breakfast", "brunch", "lunch", "dinner")
# Whom to catch in a group: someone outside first when looking outside (and colleagues only
# discreetly), otherwise a peer, who sees the work up close, before the manager.
_PREFERENCE: dict[str, tuple[str, ...]] = {"external_move": ("external", "peer", "manager")}
_DEFAULT_PREFERENCE = ("peer", "manager", "external")
# Trimmed in this order when a note runs long: the user's own words first, names last.
_TRIMMABLE = (("goal", 0), ("last", 0), ("title", 1), ("who", 1))


def compose_note(
    tp: Touchpoint, profile: Profile, *, last_with: Mapping[str, str] | None = None
) -> PrepNote:
    """Write the prep note for one touchpoint."""
    facts = _facts(tp, profile, {address(k): v for k, v in (last_with or {}).items()})
    return PrepNote(subject=_subject(facts), text=_fit(facts))


@cache
def _environment() -> jinja2.Environment:
    # Plain-text notes go into text emails and JSON; the HTML side escapes them when it renders.
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=False,  # noqa: S701
        undefined=jinja2.StrictUndefined,
        lstrip_blocks=True,
        auto_reload=False,
    )


def _render(name: str, facts: Mapping[str, Any]) -> str:
    return _environment().get_template(name).render(facts)


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


def _facts(tp: Touchpoint, profile: Profile, last_with: Mapping[str, str]) -> dict[str, Any]:
    people = _people(tp, profile)
    focus = _focus(people, profile, last_with)
    local = tp.occurrence.starts_at(profile.tz).astimezone(profile.tz)
    title = clean(tp.occurrence.title, NAME_CHARS)
    return {
        "kind": tp.kind,
        "stage": profile.stage,
        "group": len(people) > 1,
        "title": title,
        "who": _display_name(tp.occurrence, focus) if focus else "",
        "relation": _relation(focus, profile) if focus else "open",
        "goal": clean(profile.goal, GOAL_CHARS),
        "last": _sentence(clean(last_with.get(focus, ""), LAST_CHARS)),
        "meal": _meal(title, local),
        "when": _when(tp.occurrence, local),
    }


def _people(tp: Touchpoint, profile: Profile) -> list[str]:
    """Return the other people at the touchpoint, in order, without the user."""
    emails = tp.people or tuple(
        a.email for a in tp.occurrence.attendees if a.is_person and a.status != "declined"
    )
    me = address(profile.me)
    return [email for email in dict.fromkeys(map(address, emails)) if email and email != me]


def _focus(people: Sequence[str], profile: Profile, last_with: Mapping[str, str]) -> str:
    """Pick the one person to talk to; an open follow-up breaks a tie."""
    order = _PREFERENCE.get(profile.stage, _DEFAULT_PREFERENCE)
    ranked = sorted(people, key=lambda e: (order.index(_relation(e, profile)), e not in last_with))
    return ranked[0] if ranked else ""


def _relation(email: str, profile: Profile) -> str:
    if email == address(profile.manager):
        return "manager"
    domain, home = email.rpartition("@")[2], profile.domain
    same = not home or domain == home or domain.endswith("." + home) or home.endswith("." + domain)
    return "peer" if same else "external"


def _display_name(occurrence: Occurrence, email: str) -> str:
    """Return the person's name as the calendar gives it, or as read from the address."""
    given = next((a.name for a in occurrence.attendees if address(a.email) == email), "")
    return display_name(email, given)


def _meal(title: str, local: datetime) -> str:
    lowered = title.lower()
    for meal in _MEALS:
        if meal in lowered:
            return meal
    return "breakfast" if local.hour < 11 else "lunch" if local.hour < 16 else "dinner"


def _when(occurrence: Occurrence, local: datetime) -> str:
    # Weekday names are fixed here rather than taken from the locale, so notes stay deterministic.
    day = _DAYS[local.weekday()]
    return day if occurrence.all_day else f"{day} {local:%H:%M}"


def _drop_words(value: str, excess: int, floor: int) -> str:
    """Drop excess words from the end of value, keeping at least floor words."""
    words = value.split()
    kept = max(floor, len(words) - excess)
    if kept >= len(words):
        return value
    return " ".join(words[:kept]).rstrip(",;:.-") + "…" if kept else ""


def _sentence(text: str) -> str:
    return text + "." if text and text[-1] not in ".!?…" else text
