"""Who each address is to the user, as far as the calendar and the reflection log tell.

One model of people for notes, proposals, the dashboard and the scan: a relationship (manager,
skip-level, mentor, peer in the same projects, cross-team, external), a display name, when the
user met them and in which series, and a give-before-ask ledger. Group, resource and room
addresses, no-reply and list addresses are never people (is_person_address).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from service.engine.model import Attendee, Occurrence, Profile, Verdict
from service.engine.people import NAME_CHARS, address, clean, display_name, domain_of

Relation = Literal["manager", "skip_level", "mentor", "peer", "cross_team", "external"]
RELATIONS: tuple[Relation, ...] = (
    "manager", "skip_level", "mentor", "peer", "cross_team", "external",
)  # fmt: skip

MONTHS_AWAY = timedelta(days=60)  # "you have not seen them for months"
BREAK = timedelta(days=12)  # a gap this long in a weekly habit is time off
REGULAR = timedelta(days=8)  # meeting at least this often is a habit
TOPIC_CHARS = 40

# Calendars that belong to no one: Google's group, resource and imported calendars.
_NOT_PEOPLE_DOMAINS = re.compile(
    r"(^|\.)(group|resource|import)\.calendar\.google\.com$|(^|\.)googlegroups\.com$"
    r"|^(groups?|lists?|resource|resources)\."
)
# Mailboxes nobody reads, rooms, and distribution lists.
_NOT_PEOPLE_LOCAL = re.compile(
    r"^(no[-_.]?reply|do[-_.]?not[-_.]?reply|mailer[-_.]?daemon|postmaster|notifications?"
    r"|calendar|bounces?|list|lists|all|everyone|staff|team|announce|room|rooms)([-_.+]|$)"
    r"|^(room|conf|meetingroom|meeting-room)[-_.0-9]"
    r"|[-_.](list|group|team|all)$"
)
_NOT_PEOPLE_TYPES = frozenset({"room", "resource", "group"})


def is_person_address(email: str, cutype: str = "", name: str = "") -> bool:
    """Tell whether an address (with its CUTYPE and CN) can be a person the user talks to."""
    email = address(email)
    local, _, domain = email.partition("@")
    if not local or not domain or cutype.lower() in _NOT_PEOPLE_TYPES:
        return False
    if _NOT_PEOPLE_DOMAINS.search(domain) or _NOT_PEOPLE_LOCAL.search(local):
        return False
    return not name.lower().startswith(("room ", "raum ", "salle ", "sala "))


def is_person(attendee: Attendee) -> bool:
    return attendee.is_person and is_person_address(attendee.email, attendee.cutype, attendee.name)


@dataclass(frozen=True, slots=True)
class Ledger:
    """What the user offered a person and what they asked of them, as the log tells."""

    offered: int = 0
    asked: int = 0


@dataclass(frozen=True, slots=True)
class Person:
    """One person as the user knows them from the calendar and the reflection log."""

    email: str
    name: str
    relation: Relation
    topics: tuple[str, ...] = ()  # the projects of the series you share, most frequent first
    meetings: tuple[datetime, ...] = ()  # every meeting together the calendar shows, UTC, sorted
    titles: tuple[str, ...] = ()  # the title of each of those meetings, in the same order
    series: tuple[str, ...] = ()  # uids of the recurring meetings you share
    ledger: Ledger = Ledger()
    last: str = ""  # the last reflection or follow-up about them

    def met_before(self, moment: datetime) -> list[datetime]:
        return list(self.meetings[: self._count_before(moment.astimezone(UTC))])

    def _count_before(self, instant: datetime) -> int:
        # meetings is sorted (people_of sorts it): bisect instead of scanning every meeting.
        return bisect_left(self.meetings, instant)

    def moment_facts(self, moment: datetime) -> dict[str, object]:
        """Return what the calendar says about meeting this person at moment."""
        instant = moment.astimezone(UTC)
        count = self._count_before(instant)
        last = self.meetings[count - 1] if count else None
        gap = instant - last if last is not None else None
        return {
            "first": bool(self.meetings) and not count,
            "months": gap is not None and gap >= MONTHS_AWAY,
            "last_seen": last,
            "last_title": self.titles[count - 1] if count else "",
            "gap_days": gap.days if gap is not None else None,
            "back": gap is not None
            and BREAK <= gap < MONTHS_AWAY
            and _regular(self.meetings[max(0, count - 4) : count], count),
        }


def _regular(recent: Sequence[datetime], count: int) -> bool:
    """Say whether meetings before a gap came at least weekly (three or more of them).

    recent: the last (up to four) of the count meetings before the gap.
    """
    if count < 3:
        return False
    span = (recent[-1] - recent[0]) / (len(recent) - 1)
    return span <= REGULAR


@dataclass
class _Seen:
    email: str
    name: str = ""
    meetings: list[tuple[datetime, str]] = field(default_factory=list)
    series: dict[str, int] = field(default_factory=dict)
    topics: dict[str, int] = field(default_factory=dict)
    project: bool = False  # shares a project meeting or a recurring series with the user
    mentor: bool = False
    skip: bool = False


@dataclass(frozen=True, slots=True)
class People:
    """Everyone the user meets, by lower-case address."""

    by_email: Mapping[str, Person] = field(default_factory=dict)
    # False when built from one meeting alone: then nothing is known about first or last times.
    history: bool = True

    def get(self, email: str) -> Person | None:
        return self.by_email.get(address(email))

    def name(self, email: str | None) -> str:
        """Return the display name of an address (from the calendar's CN when it had one)."""
        if not email:
            return ""
        known = self.get(email)
        return known.name if known else display_name(email)


def people_of(
    judged: Iterable[tuple[Occurrence, Verdict]],
    profile: Profile,
    *,
    last_with: Mapping[str, str] | None = None,
    ledgers: Mapping[str, Ledger] | None = None,
    history: bool = True,
) -> People:
    """Build the person model from classified occurrences, the log's last lines and ledgers."""
    seen: dict[str, _Seen] = {}
    components: dict[tuple[int, str, str], _Component] = {}
    # Instances of one component with one verdict tell the same about everyone at them but
    # when: gathered first, then taken once per component (in the order first met).
    groups: dict[tuple[object, ...], tuple[Occurrence, Verdict, list[datetime]]] = {}
    tz = profile.tz
    for occ, verdict in judged:
        if occ.all_day or occ.cancelled or (occ.my_response or "").lower() == "declined":
            continue
        key = (id(occ.attendees), occ.organizer, occ.title, occ.uid, occ.recurring, verdict.kind)
        group = groups.get(key)
        if group is None or group[0].attendees is not occ.attendees:
            group = groups[key] = (occ, verdict, [])
        group[2].append(occ.starts_at(tz).astimezone(UTC))
    for occ, verdict, starts in groups.values():
        _take(seen, occ, verdict, profile, components, starts)
    last = {address(k): v for k, v in (last_with or {}).items()}
    books = {address(k): v for k, v in (ledgers or {}).items()}
    people = {email: _person(email, s, profile, history, books, last) for email, s in seen.items()}
    return People(people, history)


def _person(
    email: str,
    s: _Seen,
    profile: Profile,
    history: bool,
    books: Mapping[str, Ledger],
    last: Mapping[str, str],
) -> Person:
    ordered = sorted(s.meetings)
    return Person(
        email=email,
        name=display_name(email, s.name),
        # Without the calendar around it, a colleague counts as a peer.
        relation=relation_of(
            email, profile, project=s.project or not history, mentor=s.mentor, skip=s.skip
        ),
        topics=tuple(t for t, _ in sorted(s.topics.items(), key=lambda i: (-i[1], i[0]))),
        meetings=tuple(m for m, _ in ordered),
        titles=tuple(t for _, t in ordered),
        series=tuple(sorted(s.series)),
        ledger=books.get(email, Ledger()),
        last=last.get(email, ""),
    )


@dataclass(frozen=True, slots=True)
class _Component:
    """What _take reads of a component, the same for each of its instances."""

    attendees: tuple[Attendee, ...]  # held so the id in the cache key stays this tuple's
    others: tuple[tuple[str, Attendee], ...]  # (address, attendee) of the other people
    topic: str
    title: str  # the cleaned title
    lowered: str


def _component(
    occ: Occurrence, profile: Profile, cache: dict[tuple[int, str, str], _Component]
) -> _Component:
    """Return the people, topic and title of occ's component, worked out once per component."""
    key = (id(occ.attendees), occ.organizer, occ.title)
    found = cache.get(key)
    if found is not None and found.attendees is occ.attendees:
        return found
    others = attendees_of(occ, profile)
    topic = ""
    if others and len(others) <= 12:
        names = [display_name(a.email, a.name) for a in (*others, Attendee(profile.me))]
        topic = topic_of(occ.title, names)
    found = cache[key] = _Component(
        occ.attendees,
        tuple((address(a.email), a) for a in others),
        topic,
        clean(occ.title, NAME_CHARS),
        occ.title.lower(),
    )
    return found


def _take(
    seen: dict[str, _Seen],
    occ: Occurrence,
    verdict: Verdict,
    profile: Profile,
    components: dict[tuple[int, str, str], _Component],
    starts: Sequence[datetime],
) -> None:
    """Take what the instances of one component (starting at starts, UTC) tell of its people."""
    component = _component(occ, profile, components)
    others = component.others
    if not others or len(others) > 12:  # a crowd tells nothing about anyone in it
        return
    title, topic, cleaned = component.lowered, component.topic, component.title
    meetings = [(start, cleaned) for start in starts]
    for email, attendee in others:
        person = seen.setdefault(email, _Seen(email))
        if not person.name and attendee.name and "@" not in attendee.name:
            person.name = attendee.name
        person.meetings.extend(meetings)
        if occ.recurring:
            person.series[occ.uid] = person.series.get(occ.uid, 0) + len(starts)
        if topic:
            person.topics[topic] = person.topics.get(topic, 0) + len(starts)
        person.project |= verdict.kind == "project" or (occ.recurring and len(others) > 1)
        person.mentor |= verdict.kind == "career" or "mentor" in title
        person.skip |= "skip" in title


def attendees_of(occ: Occurrence, profile: Profile) -> list[Attendee]:
    """Return the other people at an occurrence (organiser included), never rooms or lists."""
    me = address(profile.me)
    listed = list(occ.attendees)
    organiser = address(occ.organizer)
    if organiser and all(address(a.email) != organiser for a in listed):
        listed.append(Attendee(organiser, status="accepted"))
    found: dict[str, Attendee] = {}
    for attendee in listed:
        email = address(attendee.email)
        declined = attendee.status.lower() == "declined"
        if email != me and not declined and is_person(attendee):
            found.setdefault(email, attendee)
    return list(found.values())


def relation_of(
    email: str, profile: Profile, *, project: bool = False, mentor: bool = False, skip: bool = False
) -> Relation:
    """Return who a person is to the user; the first rule that fits wins."""
    if email == address(profile.manager):
        return "manager"
    if skip:
        return "skip_level"
    if mentor:
        return "mentor"
    if not same_company(email, profile.domain):
        return "external"
    return "peer" if project else "cross_team"


def same_company(email: str, home: str) -> bool:
    theirs = domain_of(email)
    if not home or not theirs:
        return True
    return theirs == home or theirs.endswith("." + home) or home.endswith("." + theirs)


# Topics: the project a title names -------------------------------------------------------------

# Words that say what kind of meeting it is, not what it is about.
_GENERIC_WORDS = """
    a an the and or of for on in at to with w mit avec con com met de du des la le les el y und
    meeting meetings mtg call sync syncs review reviews design planning plan kickoff kick off retro
    retrospective sprint standup stand up daily weekly biweekly monthly quarterly scrum demo
    status update check checkin in catch catchup 1 on1 1on1 one 121 lunch breakfast brunch
    dinner coffee kaffee café cafe tea walk virtual quick chat pairing session workshop team
    déjeuner dejeuner mittagessen almuerzo pranzo lunchen comida essen mentoring mentor career
    development growth skip level chat prep office hours hour grooming refinement touchpoint
    with your my our x vs
"""
_GENERIC = frozenset(_GENERIC_WORDS.split())
_QUOTES = ".-'\u2019"
_WORD = re.compile(r"[^\W_][\w'\u2019&.-]*")
_BRACKETS = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_WITH = re.compile(r"(?i)(\b(with|mit|avec|con|com|met)\b|\bw/).*$")


def topic_of(title: str, names: Sequence[str] = ()) -> str:
    """Return the project or topic a title names ("Atlas" in "Sprint retro - Atlas"), or ""."""
    text = _WITH.sub("", _BRACKETS.sub(" ", clean(title, NAME_CHARS)))
    skip = {w.lower() for n in names for w in n.split()}
    words = [
        w.strip(_QUOTES)
        for w in _WORD.findall(text)
        if w.lower().strip(_QUOTES) not in _GENERIC
        and w.lower() not in skip
        and not w.isdigit()
        and "/" not in w
    ]
    words = [w for w in words if len(w) > 1 and (w[0].isupper() or w.isupper())]
    return clean(" ".join(words[:3]), TOPIC_CHARS)
