"""Who is at an occurrence: people, rooms and mailing lists, and the person a title names."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from service.engine import vocabulary as vocab
from service.engine.dates import listing
from service.engine.model import Attendee, Occurrence
from service.engine.people import address, display_name

LIST_WEIGHT: Final = 4  # a mailing list stands for several people we cannot see
ROOM_PREFIX: Final = re.compile(  # "room-3" and "Room 3" are rooms, "roomba@" and "salah@" are not
    "|".join(
        re.escape(p) + ("(?![a-z])" if p[-1].isalpha() else "") for p in vocab.ROOM_NAME_PREFIXES
    )
)
WITH_SOMEONE: Final = re.compile(  # "with Carol", "mit Carol", "w/Carol" in any language we read
    r"(?<!\w)(?:(?:"
    + "|".join(re.escape(w) for w in vocab.WITH_WORDS if w[-1].isalpha())
    + r")\s+|w/\s*)(\w[\w\-]*)"
)
PAIR: Final = re.compile(r"(\w+)\s*(?:<>|<->|<=>|↔|/|\||\+|&|(?<!\w)x(?!\w))\s*(\w+)")


@dataclass(frozen=True, slots=True)
class Crowd:
    """The other people on an occurrence, as far as the calendar tells."""

    people: tuple[str, ...] = ()
    names: Mapping[str, str] = field(default_factory=dict)
    declined: tuple[str, ...] = ()
    lists: int = 0
    rooms: int = 0

    @property
    def size(self) -> int:
        return len(self.people) + LIST_WEIGHT * self.lists


def crowd_of(occ: Occurrence, me: str) -> Crowd:
    names: dict[str, str] = {}
    declined: list[str] = []
    counts = {"room": 0, "list": 0}
    for who in _everyone(occ):
        email = address(who.email)
        if email == me or email in names:
            continue
        sort = _sort_of(who, email)
        if sort != "person":
            counts[sort] += 1
        elif who.status.lower() == "declined":
            declined.append(display_name(email, who.name))
        else:
            names[email] = display_name(email, who.name)
    return Crowd(tuple(names), names, tuple(declined), counts["list"], counts["room"])


def _everyone(occ: Occurrence) -> tuple[Attendee, ...]:
    # Feeds often leave the organiser out of the attendee list; they are there all the same.
    organiser = address(occ.organizer)
    listed = {address(a.email) for a in occ.attendees}
    if not organiser or organiser in listed or _sort_of(Attendee(organiser), organiser) != "person":
        return occ.attendees
    return (Attendee(organiser, status="accepted"), *occ.attendees)


def _sort_of(who: Attendee, email: str) -> str:
    local = email.partition("@")[0]
    cutype = who.cutype.lower()
    if cutype in ("room", "resource") or any(hint in email for hint in vocab.ROOM_EMAIL_HINTS):
        return "room"
    if ROOM_PREFIX.match(local) or ROOM_PREFIX.match(vocab.fold(who.name)[0]):
        return "room"
    if cutype == "group" or any(hint in email for hint in vocab.GROUP_EMAIL_HINTS):
        return "list"
    if local in vocab.GROUP_LOCAL_PARTS or local.startswith(vocab.GROUP_LOCAL_PREFIXES):
        return "list"
    return "person"


def named_partner(title: str, me: str) -> str | None:
    """Return the person a title names ("Lunch w/ Carol", "Alice <> Bob"), if any."""
    folded = vocab.fold(title)[0]
    mine = re.split(r"[._+\-]", me.partition("@")[0])[0]
    found = WITH_SOMEONE.search(folded)
    if found and found.group(1) not in vocab.NOT_A_NAME:
        return vocab.words_behind(title, found.span(1))
    pair = PAIR.search(folded)
    if pair and mine in pair.groups() and pair.group(1) != pair.group(2):
        other = 2 if pair.group(1) == mine else 1
        return vocab.words_behind(title, pair.span(other))
    return None


def people_phrase(names: list[str]) -> str:
    """Return "Alice, Bob and Carol" in the current language."""
    return listing(names)
