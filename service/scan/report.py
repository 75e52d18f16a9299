"""Render a scan for machines (the public JSON shape) and for people (a week-by-week list)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from service.engine import dates
from service.engine.cadence import describe
from service.engine.i18n import gettext as _
from service.engine.i18n import ngettext
from service.engine.model import Occurrence, Touchpoint, Verdict
from service.engine.relations import is_person_address
from service.engine.series import week_of
from service.scan.run import ScanReport


def iso(value: date) -> str:
    """Return ISO 8601: dates plain, date-times with their UTC offset."""
    return value.isoformat()


def to_json(report: ScanReport) -> str:
    """Return the scan as one JSON object; keys may be added later, never removed or renamed."""
    return "".join(json_parts(report))


def json_parts(report: ScanReport) -> Iterator[str]:
    """Yield the JSON object of to_json in pieces (a year of a full calendar is tens of MB)."""
    plan, tz = report.plan, report.profile.tz
    cadence = plan.cadence
    items = _Items(tz)
    document: dict[str, Any] = {
        "window": {"start": iso(plan.window.start), "end": iso(plan.window.end), "tz": tz.key},
        "me": report.profile.me or None,
        "occurrences": _Encoded(items.occurrence(o, v) for o, v in plan.occurrences),
        "touchpoints": _Encoded(items.touchpoint(tp) for tp in plan.touchpoints),
        "proposals": [
            {
                "start": iso(p.start),
                "end": iso(p.end),
                "minutes": p.minutes,
                "with": p.partner,
                "reason": p.reason,
            }
            for p in plan.proposals
        ],
        "cadence": {
            "last_career_conversation": iso(cadence.last) if cadence.last else None,
            "days_since": cadence.days_since,
            "due": cadence.due,
            "booked_ahead": iso(cadence.booked_ahead) if cadence.booked_ahead else None,
        },
        "warnings": report.warnings,
    }
    yield from _lines(document)


class _Encoded(Iterator[str]):
    """Items already written as JSON text, one a line: _list writes them as they are."""

    def __init__(self, parts: Iterable[str]) -> None:
        self.parts = iter(parts)

    def __next__(self) -> str:
        return next(self.parts)


def _lines(document: dict[str, Any]) -> Iterator[str]:
    """Yield the document one key a line, each list one item a line.

    json's indenting encoder is pure Python (about 80 µs an occurrence); this way the C
    encoder writes every item and a year of a full calendar prints in a fraction of a second.
    Lists may be iterators: each item is made when it is written.
    """
    yield "{"
    for number, (key, value) in enumerate(document.items()):
        yield f"{',' if number else ''}\n  {json.dumps(key)}: "
        if isinstance(value, _Encoded):
            yield from _list(value, encoded=True)
        elif isinstance(value, list | Iterator):
            yield from _list(value)
        else:
            yield _compact(value)
    yield "\n}"


def _list(items: Iterable[Any], encoded: bool = False) -> Iterator[str]:
    opened = False
    for item in items:
        yield f"{',' if opened else '['}\n    {item if encoded else _compact(item)}"
        opened = True
    yield "\n  ]" if opened else "[]"


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": "))


def _compact(value: Any) -> str:
    return _ENCODER.encode(value)


class _Items:
    """Write occurrences and touchpoints as JSON, what they share with their component once.

    The instances of a series differ only in their times (and a touchpoint in its note): the
    rest of each item is encoded once per component and verdict, and each instance's times
    are set into it. The text is the same as encoding each item's dict whole.
    """

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self.occurrences: dict[tuple[object, ...], tuple[Occurrence, str, str]] = {}
        self.touchpoints: dict[tuple[object, ...], tuple[Touchpoint, str, str]] = {}
        # Each occurrence's times as written, by identity (the plan holds every occurrence
        # until the end): its touchpoint shows the same ones.
        self.times: dict[int, str] = {}

    def occurrence(self, occ: Occurrence, verdict: Verdict) -> str:
        key = (id(occ.attendees), occ.uid, occ.title, occ.all_day, verdict.kind, occ.component,
               occ.status, occ.my_response)  # fmt: skip
        found = self.occurrences.get(key)
        if found is None or found[0].attendees is not occ.attendees:
            head = _compact({"uid": occ.uid})[:-1]
            tail = _compact(_occurrence(occ, verdict))[1:]
            found = self.occurrences[key] = (occ, head, tail)
        _, head, tail = found
        times = self.times[id(occ)] = f'"start": "{iso(occ.start)}", "end": "{iso(occ.end)}"'
        return f"{head}, {times}, {tail}"

    def touchpoint(self, tp: Touchpoint) -> str:
        occ = tp.occurrence
        key = (id(tp.reasons), id(tp.people), occ.uid, occ.title, tp.kind, tp.score)
        found = self.touchpoints.get(key)
        if found is None or found[0].reasons is not tp.reasons or found[0].people is not tp.people:
            head = _compact({"uid": occ.uid})[:-1]
            middle = _compact(_touchpoint(tp))[1:-1]
            found = self.touchpoints[key] = (tp, head, middle)
        _, head, middle = found
        times = self.times.get(id(occ))  # written with its occurrence already, most often
        if times is None:
            times = f'"start": "{iso(occ.start)}", "end": "{iso(occ.end)}"'
        note = "null"
        if tp.note is not None:
            note = _compact({"subject": tp.note.subject, "text": tp.note.text})
        written = f'"{iso(tp.note_from.astimezone(self.tz))}"' if tp.note_from else "null"
        return f'{head}, {times}, {middle}, "prep_note": {note}, "note_from": {written}}}'


def _occurrence(occ: Occurrence, verdict: Verdict) -> dict[str, Any]:
    """Return an occurrence's item after its uid and times, which it shares with its component."""
    return {
        "title": occ.title,
        "all_day": occ.all_day,
        "attendees": [a.email for a in occ.attendees],
        "kind": verdict.kind,
        "component": occ.component,
        "status": occ.status,
        "response": occ.my_response,
    }


def _touchpoint(tp: Touchpoint) -> dict[str, Any]:
    """Return a touchpoint's item between its times and its note: the same for its series."""
    return {
        "title": tp.occurrence.title,
        "kind": tp.kind,
        "score": tp.score,
        "reasons": list(tp.reasons),
        "people": [e for e in tp.people if is_person_address(e)],
    }


def to_text(report: ScanReport) -> str:
    """Return the scan as a readable list: cadence, each week's touchpoints, notes, proposals."""
    plan, tz = report.plan, report.profile.tz
    end = plan.window.end - timedelta(microseconds=1)
    lines = [
        _(
            "Touchpoint scan: %(start)s to %(end)s (%(zone)s)",
            start=_day(plan.window.start),
            end=_day(end),
            zone=tz.key,
        ),
        _("Calendar of %(owner)s", owner=report.profile.me)
        if report.profile.me
        else _("Calendar of an unknown owner (use --me)"),
        "",
        describe(plan.cadence, max_days=report.profile.max_days),
    ]
    notes = {(tp.occurrence.uid, tp.occurrence.start): tp for tp in plan.touchpoints}
    weekly = _weekly_notes(plan.touchpoints, tz)
    week = None
    for occ, _verdict in plan.occurrences:
        start = occ.starts_at(tz)
        monday = start.date() - timedelta(days=start.weekday())
        if monday != week:
            week = monday
            lines += ["", _("Week of %(day)s", day=_day(monday))]
        lines += _entry(occ, notes.get((occ.uid, occ.start)), report, weekly)
    if not plan.occurrences:
        lines += ["", _("Nothing on the calendar in this window.")]
    lines += _proposals(report) + _warnings(report)
    return "\n".join(lines) + "\n"


def _weekly_notes(touchpoints: Sequence[Touchpoint], tz: ZoneInfo) -> dict[tuple[str, date], str]:
    """Return, per series and week, the day its one note of the week is for."""
    return {
        (tp.occurrence.uid, week_of(tp.occurrence.starts_at(tz), tz)): _day(
            tp.occurrence.starts_at(tz).astimezone(tz)
        )
        for tp in touchpoints
        if tp.occurrence.recurring and (tp.note is not None or tp.note_from is not None)
    }


def _entry(
    occ: Occurrence, tp: Touchpoint | None, report: ScanReport, weekly: dict[tuple[str, date], str]
) -> list[str]:
    when = _when(occ, report)
    if tp is None:
        return [f"  {when}  {occ.title or _('(no title)')}"]
    lines = [f"* {when}  {occ.title or _('(no title)')}  [{tp.kind}, {tp.score:.2f}]"]
    lines.append("      " + _("why: %(reasons)s", reasons="; ".join(tp.reasons)))
    if tp.note is None and tp.note_from is not None:
        written = _day(tp.note_from.astimezone(report.profile.tz))
        ahead = round((occ.starts_at(report.profile.tz) - tp.note_from).total_seconds() / 86400)
        lines.append(
            "      "
            + ngettext(
                "Prep: notes are written %(num)d day ahead, this one from %(day)s",
                "Prep: notes are written %(num)d days ahead, this one from %(day)s",
                ahead,
                day=written,
            )
        )
        return lines
    if tp.note is None:
        if occ.recurring:
            week = week_of(occ.starts_at(report.profile.tz), report.profile.tz)
            noted = weekly.get((occ.uid, week))
            told = (
                _("Prep: this series gets one note a week, on %(day)s", day=noted)
                if noted
                else _("Prep: this series gets one note a week, sent earlier this week")
            )
            lines.append(f"      {told}")
        return lines
    lines.append(f"      {tp.note.subject}")
    return lines + [f"        {line}" for line in tp.note.text.splitlines() if line.strip()]


def _when(occ: Occurrence, report: ScanReport) -> str:
    if occ.all_day:
        return _("%(day)s (all day)", day=_day(occ.start))
    tz = report.profile.tz
    start, end = occ.starts_at(tz), occ.ends_at(tz)
    return f"{_day(start)} {start:%H:%M}-{end:%H:%M}"


def _proposals(report: ScanReport) -> list[str]:
    plan = report.plan
    if not plan.cadence.due:
        return []
    if not plan.proposals:
        return ["", _("A career conversation is due, but no free 15 minutes fit your hours.")]
    email = plan.proposals[0].partner
    title = (
        _(
            "Proposed 15-minute career chat with %(name)s (%(email)s)",
            name=plan.people.name(email),
            email=email,
        )
        if email
        else _("Proposed 15-minute career chat with someone you choose")
    )
    lines = ["", title, f"  {plan.proposals[0].reason}"]
    for n, p in enumerate(plan.proposals, start=1):
        lines.append(f"  {n}. {_day(p.start)} {p.start:%H:%M}-{p.end:%H:%M}")
    return lines


def _warnings(report: ScanReport) -> list[str]:
    if not report.warnings:
        return []
    return ["", _("Warnings:"), *(f"  - {w}" for w in report.warnings)]


def _day(value: date | datetime) -> str:
    """Return "Mon 2 Mar 2026" in the current language."""
    return f"{dates.short_date(value)} {value.year}"
