"""From occurrences to touchpoints, notes, cadence and proposals: the engine end to end."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta

from service.engine.cadence import cadence_of
from service.engine.classify import classify, is_busy
from service.engine.context import CalendarContext, calendar_context
from service.engine.model import (
    Cadence,
    Occurrence,
    Profile,
    Proposal,
    Slot,
    Touchpoint,
    Verdict,
    Window,
)
from service.engine.notes import compose_note
from service.engine.partners import Partner, choose_partner
from service.engine.relations import Ledger, People, people_of
from service.engine.series import noted_occurrences, series_starts
from service.engine.slots import BUFFER, ROUND, find_slots

PROMPT_MEMORY = timedelta(days=30)  # a prompt is not used again with a person within a month

# What the user was already told about each person: (when, prompt key), from earlier notes.
History = Mapping[str, Sequence[tuple[datetime, str]]]


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything the engine concludes about one window of one person's calendar.

    touchpoints: every upcoming touchpoint; only the ones that get a prep note carry one (a
    recurring series gets one a week). people: the person model (names, relationships).
    """

    window: Window
    occurrences: tuple[tuple[Occurrence, Verdict], ...]
    touchpoints: tuple[Touchpoint, ...]
    cadence: Cadence
    partner: Partner | None
    proposals: tuple[Proposal, ...]
    people: People = field(default_factory=People)
    careers: tuple[datetime, ...] = ()  # when each career conversation read starts, in order


def lookback(profile: Profile, window: Window) -> Window:
    """Return the span to read so cadence can look back from the window's start."""
    return Window(window.start - timedelta(days=profile.max_days), window.end)


def plan(
    occurrences: Sequence[Occurrence],
    profile: Profile,
    window: Window,
    *,
    last_with: Mapping[str, str] | None = None,
    extra_busy: Sequence[tuple[datetime, datetime]] = (),
    ledgers: Mapping[str, Ledger] | None = None,
    history: History | None = None,
    notes: bool = True,
    notes_until: datetime | None = None,
    propose: bool = True,
) -> Plan:
    """Classify, note and propose for the window; occurrences may reach back before it.

    "Now" is the window's start: cadence looks back from it and proposals never precede it.
    extra_busy: times the slots must also avoid, beyond the user's calendar (the partner's).
    ledgers: what the user offered and asked of each person; history: the prompts earlier
    notes used with each person, so the next ones differ. notes=False leaves every touchpoint
    without a note (the dashboard shows the notes the planning job stored). notes_until:
    write notes only for touchpoints starting before it (None: the whole window); a later
    one that will get a note says from when (Touchpoint.note_from). A note depends on what
    happens before it, so one written months ahead would be rewritten anyway; those written
    are the same either way. propose=False leaves out the partner and the proposals (and
    the person model they need) even when a conversation is due.
    """
    tz = profile.tz
    context = calendar_context(occurrences, profile)  # once: which series and names recur
    judge = Judge(profile, context)
    judged = [(occ, judge.verdict(occ)) for occ in occurrences]
    inside_list: list[tuple[Occurrence, Verdict]] = []
    past: list[Touchpoint] = []
    upcoming: list[Touchpoint] = []
    careers: list[datetime] = []
    for occ, v in judged:  # one pass, each start worked out once
        start = occ.starts_at(tz)
        if window.overlaps(start, occ.ends_at(tz)):
            inside_list.append((occ, v))
            if v.kind and start >= window.start:
                upcoming.append(_touchpoint(occ, v))
        if v.kind and start < window.start:
            past.append(_touchpoint(occ, v))
        if v.kind == "career":
            careers.append(start)
    inside = tuple(inside_list)
    cadence = cadence_of(
        careers, window.start, ideal_days=profile.ideal_days, max_days=profile.max_days
    )
    # The person model serves the notes and the partner: without either, it is not built.
    people = (
        people_of(judged, profile, last_with=last_with, ledgers=ledgers)
        if notes or (cadence.due and propose)
        else People()
    )
    partner: Partner | None = None
    proposals: tuple[Proposal, ...] = ()
    if cadence.due and propose:
        partner = choose_partner(past, upcoming, profile, window.start, people=people)
        proposals = _propose(occurrences, profile, window, partner, extra_busy)
    anchors = [a for a in (cadence.booked_ahead, *(p.start for p in proposals[:1])) if a]
    read = tuple(careers)
    if not notes:
        return Plan(window, inside, tuple(upcoming), cadence, partner, proposals, people, read)
    horizon = _Horizon(window.start, notes_until)
    noted = _with_notes(past, upcoming, profile, people, anchors, history or {}, horizon)
    return Plan(window, inside, noted, cadence, partner, proposals, people, read)


class Judge:
    """Classify occurrences once per component, not once per instance.

    Everything classify reads depends on the component (the master or an override: title,
    place, people, answers) and on where an instance falls in the week and day and how long it
    is, never on its date. Instances that agree on all of that share one verdict: a weekly 1:1
    is judged once, a weekday stand-up five times.
    """

    def __init__(self, profile: Profile, context: CalendarContext | None = None) -> None:
        self.profile, self.context = profile, context
        self.verdicts: dict[tuple[object, ...], Verdict] = {}

    def facets(self, occ: Occurrence) -> tuple[object, ...]:
        """Return what an occurrence's verdict depends on (its date left out)."""
        start, end = occ.start, occ.end
        tz = self.profile.tz
        local: date
        if isinstance(start, datetime):
            # The reader gives times in the profile's zone already: no conversion then.
            local = start if start.tzinfo is tz or start.tzinfo is None else start.astimezone(tz)
            clock: object = local.time()
            timed = isinstance(end, datetime) and (end.tzinfo is None) == (start.tzinfo is None)
            length = end - start if timed else occ.duration  # type: ignore[operator]
        else:
            local, clock, length = start, None, occ.duration
        # Instances of one component share its attendee tuple: its identity stands for it.
        people = id(occ.attendees)
        return (
            people, occ.uid, occ.title, occ.location, occ.organizer, occ.status, occ.transparent,
            occ.component, occ.my_response, occ.all_day, occ.recurring,
            local.weekday(), clock, length,
        )  # fmt: skip

    def verdict(self, occ: Occurrence) -> Verdict:
        """Return classify(occ), once per facets key."""
        key = self.facets(occ)
        found = self.verdicts.get(key)
        if found is None:
            found = self.verdicts[key] = classify(occ, self.profile, self.context)
        return found


def may_be_career(template: Occurrence, profile: Profile) -> bool:
    """Say whether a component, at a weekday morning of its own length, is a career talk.

    What makes one (its title, the user's mark, nobody declining) does not depend on the
    date; cadence looks back only through these (see IcsCalendar.occurrences' keep_past).
    """
    if template.all_day and isinstance(template.start, date) and template.start != date.min:
        return False
    start = datetime.combine(date(2026, 3, 3), time(10), profile.tz)
    sample = Occurrence(
        template.uid, start, start + timedelta(minutes=30), template.title, False,
        template.location, template.description, template.organizer, template.attendees,
        template.status, template.transparent, template.component, template.recurring,
        template.my_response,
    )  # fmt: skip
    return classify(sample, profile).kind == "career"


def _touchpoint(occ: Occurrence, verdict: Verdict) -> Touchpoint:
    assert verdict.kind is not None
    return Touchpoint(occ, verdict.kind, verdict.score, verdict.reasons, verdict.people)


def _with_notes(
    past: Sequence[Touchpoint],
    upcoming: Sequence[Touchpoint],
    profile: Profile,
    people: People,
    anchors: Sequence[datetime],
    history: History,
    horizon: _Horizon | None = None,
) -> tuple[Touchpoint, ...]:
    """Note the touchpoints that get one (a series once a week), in order, prompts not repeated.

    Past the horizon a touchpoint that gets a note is told when it will be written instead.
    """
    chosen = noted_occurrences(past, upcoming, profile.tz, anchors)
    firsts = series_starts([*past, *upcoming], profile.tz)
    told = {
        k.lower(): _Told(sorted(v, key=lambda e: e[0].astimezone(UTC))) for k, v in history.items()
    }
    order = sorted(range(len(upcoming)), key=lambda i: _utc(upcoming[i], profile))
    notes = {}
    later: dict[int, datetime] = {}
    for i in order:
        if i not in chosen:
            continue
        tp, start = upcoming[i], _utc(upcoming[i], profile)
        if horizon is not None and (due := horizon.due(start)) is not None:
            later[i] = due
            continue
        here = {e.lower() for e in tp.people} | {a.email.lower() for a in tp.occurrence.attendees}
        recent = {p: told[p].within(start - PROMPT_MEMORY, start) for p in here & told.keys()}
        new = tp.occurrence.recurring and firsts.get(tp.occurrence.uid) == start
        note = compose_note(tp, profile, people=people, recent=recent, series_new=new)
        told.setdefault(note.person, _Told([])).extend(start, note.prompts)
        notes[i] = note
    changed: dict[int, Touchpoint] = {}
    for i, note in notes.items():
        changed[i] = replace(upcoming[i], note=note)
    for i, due in later.items():
        tp = upcoming[i]  # positional: replace() costs more than the rest of a year's notes
        changed[i] = Touchpoint(tp.occurrence, tp.kind, tp.score, tp.reasons, tp.people, None, due)
    return tuple(changed.get(i, tp) for i, tp in enumerate(upcoming))


@dataclass(frozen=True, slots=True)
class _Horizon:
    """How far ahead of now notes are written: until `until` (None: no limit)."""

    now: datetime
    until: datetime | None

    def due(self, start: datetime) -> datetime | None:
        """Return when a touchpoint starting at start comes within the horizon, None if it is."""
        if self.until is None or start < self.until:
            return None
        return start - (self.until - self.now)


class _Told:
    """The prompts used with one person, (when, key) in the order they were used.

    Notes are written in time order, so the list stays sorted by time unless the history
    reached past the window's first notes; while it is sorted, the month before a note is
    found by bisection rather than by reading every prompt ever used.
    """

    def __init__(self, entries: Sequence[tuple[datetime, str]]) -> None:
        self.entries = list(entries)
        self.times = [at.astimezone(UTC) for at, _ in self.entries]
        self.ordered = all(a <= b for a, b in zip(self.times, self.times[1:], strict=False))

    def extend(self, at: datetime, keys: Sequence[str]) -> None:
        at = at.astimezone(UTC)
        for key in keys:
            if self.times and at < self.times[-1]:
                self.ordered = False
            self.entries.append((at, key))
            self.times.append(at)

    def within(self, start: datetime, end: datetime) -> list[str]:
        """Return the keys used from start (included) to end (excluded), in the order used."""
        if not self.ordered:
            return [k for (_, k), at in zip(self.entries, self.times, strict=True)
                    if start <= at < end]  # fmt: skip
        low, high = bisect_left(self.times, start), bisect_left(self.times, end)
        return [k for _, k in self.entries[low:high]]


def _utc(tp: Touchpoint, profile: Profile) -> datetime:
    return tp.occurrence.starts_at(profile.tz).astimezone(UTC)


def _propose(
    occurrences: Sequence[Occurrence],
    profile: Profile,
    window: Window,
    partner: Partner,
    extra_busy: Sequence[tuple[datetime, datetime]],
) -> tuple[Proposal, ...]:
    tz = profile.tz
    busy = [(o.starts_at(tz), o.ends_at(tz)) for o in occurrences if is_busy(o)]
    busy.extend(extra_busy)
    slots = find_slots(busy, window.start, window.end, profile.hours, tz, prefer=partner.after)
    reason = _reason_for(slots[0], partner) if slots else partner.reason
    return tuple(Proposal(s.start, s.end, partner.email, reason) for s in slots)


def _reason_for(first: Slot, partner: Partner) -> str:
    """Return the reason that fits the first slot: "right after" only when it is right after."""
    start = first.start.astimezone(UTC)
    for end, sentence in partner.moments:
        after = end.astimezone(UTC) + BUFFER
        if after <= start < after + ROUND:
            return sentence
    return partner.otherwise or partner.reason
