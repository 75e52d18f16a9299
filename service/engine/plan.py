"""From occurrences to touchpoints, notes, cadence and proposals: the engine end to end."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from service.engine.cadence import cadence_of
from service.engine.classify import classify, is_busy
from service.engine.model import (
    Cadence,
    Occurrence,
    PrepNote,
    Profile,
    Proposal,
    Touchpoint,
    Verdict,
    Window,
)
from service.engine.notes import compose_note
from service.engine.partners import Partner, choose_partner
from service.engine.slots import find_slots


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything the engine concludes about one window of one person's calendar."""

    window: Window
    occurrences: tuple[tuple[Occurrence, Verdict], ...]
    touchpoints: tuple[Touchpoint, ...]
    cadence: Cadence
    partner: Partner | None
    proposals: tuple[Proposal, ...]


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
) -> Plan:
    """Classify, note and propose for the window; occurrences may reach back before it.

    "Now" is the window's start: cadence looks back from it and proposals never precede it.
    extra_busy: times the slots must also avoid, beyond the user's calendar (the partner's).
    """
    tz = profile.tz
    judge = Judge(profile)
    facts = [(occ, occ.starts_at(tz), judge.facets(occ)) for occ in occurrences]
    judged = [(occ, start, key, judge.verdict(occ, key)) for occ, start, key in facts]
    inside = [j for j in judged if window.overlaps(j[1], j[0].ends_at(tz))]
    past = [_touchpoint(o, v) for o, start, _, v in judged if v.kind and start < window.start]
    upcoming = [
        (_touchpoint(o, v), key) for o, start, key, v in inside if v.kind and start >= window.start
    ]
    careers = [start for _, start, _, v in judged if v.kind == "career"]
    cadence = cadence_of(
        careers, window.start, ideal_days=profile.ideal_days, max_days=profile.max_days
    )
    noted = tuple(
        Touchpoint(
            t.occurrence, t.kind, t.score, t.reasons, t.people, judge.note(t, key, last_with)
        )
        for t, key in upcoming
    )
    partner: Partner | None = None
    proposals: tuple[Proposal, ...] = ()
    if cadence.due:
        partner = choose_partner(past, [t for t, _ in upcoming], profile, window.start)
        proposals = _propose(occurrences, profile, window, partner, extra_busy)
    occurring = tuple((occ, verdict) for occ, _, _, verdict in inside)
    return Plan(window, occurring, noted, cadence, partner, proposals)


class Judge:
    """Classify occurrences and write their notes once per component, not once per instance.

    Everything classify and compose_note read depends on the component (the master or an
    override: title, place, people, answers) and on where an instance falls in the week and
    day and how long it is, never on its date. Instances that agree on all of that share one
    verdict and one note: a weekly 1:1 is judged once, a weekday stand-up five times.
    """

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.verdicts: dict[tuple[object, ...], Verdict] = {}
        self.notes: dict[tuple[object, ...], PrepNote] = {}

    def facets(self, occ: Occurrence) -> tuple[object, ...]:
        """Return what an occurrence's verdict and note depend on (its date left out)."""
        start = occ.start
        tz = self.profile.tz
        local = start.astimezone(tz) if isinstance(start, datetime) and start.tzinfo else start
        # Instances of one component share its attendee tuple: its identity stands for it.
        people = id(occ.attendees)
        return (
            people, occ.uid, occ.title, occ.location, occ.organizer, occ.status, occ.transparent,
            occ.component, occ.my_response, occ.all_day, occ.recurring,
            local.weekday(), local.time() if isinstance(local, datetime) else None, occ.duration,
        )  # fmt: skip

    def verdict(self, occ: Occurrence, key: tuple[object, ...]) -> Verdict:
        """Return classify(occ), once per facets key (see facets)."""
        found = self.verdicts.get(key)
        if found is None:
            found = self.verdicts[key] = classify(occ, self.profile)
        return found

    def note(
        self, tp: Touchpoint, key: tuple[object, ...], last_with: Mapping[str, str] | None
    ) -> PrepNote:
        """Return compose_note(tp), once per facets key of its occurrence."""
        found = self.notes.get(key)
        if found is None:
            found = self.notes[key] = compose_note(tp, self.profile, last_with=last_with)
        return found


def _touchpoint(occ: Occurrence, verdict: Verdict) -> Touchpoint:
    assert verdict.kind is not None
    return Touchpoint(occ, verdict.kind, verdict.score, verdict.reasons, verdict.people)


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
    return tuple(Proposal(s.start, s.end, partner.email, partner.reason) for s in slots)
