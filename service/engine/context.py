"""What the rest of a calendar says about one meeting: its series, and the names it shares.

Built once per calendar (one pass over its occurrences) and handed to the classifier, so a
meeting titled only "Nimbus" or "PAY-1423" reads as project work when the same people meet
under that name elsewhere, and a series is known for one even when the feed lists its
instances one by one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Final

from service.engine import vocabulary as vocab
from service.engine.crowd import crowd_of
from service.engine.model import Occurrence, Profile
from service.engine.people import address

TICKET: Final = re.compile(r"(?<![\w-])([A-Z][A-Z0-9]{1,9})-\d{1,7}(?![\w-])")
WORD: Final = re.compile(r"[^\W\d_][\w'-]{2,}")
MOST_MEETINGS_PER_NAME: Final = 64  # a name in more meetings than this is a common word
# Words that start titles with a capital without naming anything.
COMMON: Final = frozenset({
    "the", "and", "for", "with", "about", "meeting", "call", "invitation", "updated", "new",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "next",
    "quick", "re", "fw", "fwd", "aw", "wg", "tr", "rv", "follow", "prep", "notes", "agenda",
    "discussion", "update", "topics", "misc", "q1", "q2", "q3", "q4", "h1", "h2",
})  # fmt: skip


@dataclass(frozen=True, slots=True)
class CalendarContext:
    """Per series, how many of its instances the calendar holds; per name, who meets under it."""

    instances: Mapping[str, int] = field(default_factory=dict)
    names: Mapping[str, Mapping[str, frozenset[str]]] = field(default_factory=dict)
    me: str = ""

    def in_series(self, occ: Occurrence) -> bool:
        return occ.recurring or self.instances.get(occ.uid, 0) > 1

    def shared_name(self, occ: Occurrence, people: Iterable[str]) -> str | None:
        """Return a name in occ's title that also titles another meeting of the same people."""
        mine = frozenset(people)
        for name, shown in title_names(occ.title, mine | {self.me}):
            for uid, theirs in self.names.get(name, {}).items():
                if uid != occ.uid and _same_people(mine, theirs):
                    return shown
        return None


EMPTY: Final = CalendarContext()


def calendar_context(occurrences: Iterable[Occurrence], profile: Profile) -> CalendarContext:
    """Read a calendar's occurrences once for what the classifier needs to know across them."""
    me = address(profile.me)
    instances: dict[str, int] = {}
    names: dict[str, dict[str, frozenset[str]]] = {}
    statuses: dict[str, object] = {}  # title_status once per title, not once per instance
    for occ in occurrences:
        if occ.status.lower() == "cancelled" or occ.all_day:
            continue  # a cancelled copy of a meeting is not another meeting
        status = statuses.get(occ.title, statuses)
        if status is statuses:
            status = statuses[occ.title] = vocab.title_status(occ.title)
        if status:
            continue
        instances[occ.uid] = instances.get(occ.uid, 0) + 1
        if instances[occ.uid] > 1:
            continue  # a series' title and people were read at its first instance
        people = frozenset(crowd_of(occ, me).people)
        for name, _ in title_names(occ.title, people | {me}):
            meetings = names.setdefault(name, {})
            if len(meetings) <= MOST_MEETINGS_PER_NAME:
                meetings[occ.uid] = people
    common = {n for n, meetings in names.items() if len(meetings) > MOST_MEETINGS_PER_NAME}
    return CalendarContext(instances, {n: m for n, m in names.items() if n not in common}, me)


def title_names(title: str, people: frozenset[str]) -> list[tuple[str, str]]:
    """Return the code names and ticket projects in a title: (folded key, words as written)."""
    found = [(f"#{m.group(1).lower()}", m.group(0)) for m in TICKET.finditer(title)]
    bare = TICKET.sub(" ", title)
    found += [
        (key, word.group())
        for word in WORD.finditer(bare)
        if word.group()[0].isupper() and (key := vocab.fold(word.group())[0]) not in COMMON
        and not _known(key) and not _names_someone(key, people)
    ]  # fmt: skip
    return found


def ticket(title: str) -> str | None:
    match = TICKET.search(title)
    return match.group(0) if match else None


@lru_cache(maxsize=4096)
def _known(word: str) -> bool:
    return bool(vocab.scan(word, vocab.TITLE_PATTERNS))


def _names_someone(word: str, people: frozenset[str]) -> bool:
    return any(word in re.split(r"[._+\-]", email.partition("@")[0]) for email in people)


def _same_people(mine: frozenset[str], theirs: frozenset[str]) -> bool:
    shared = len(mine & theirs)
    return shared >= min(2, len(mine)) and 2 * shared >= min(len(mine), len(theirs))
