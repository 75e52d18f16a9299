"""Prep notes for upcoming touchpoints: one planned row per meeting, re-planned as meetings move.

plan_notes turns the engine's touchpoints into PlannedNote rows, one per (user, uid, start). How a
row finds its meeting again after a sync replaced the stored occurrences: a single event is its
uid, wherever it moved; an instance of a series shares its uid with the other instances and the
original start (RECURRENCE-ID) is not stored, so it is the instance of that uid with the nearest
start within seven days. Pairs are taken nearest first, so unmoved instances (distance 0) keep
their rows and a moved one takes the row left over. `start` always holds the meeting's current
start. A row with no meeting any more (cancelled, marked "not a touchpoint") is cancelled; one
whose meeting comes back is revived, as "sent" when its email went out already: a meeting gets
one note, even when it moves after the note was sent.

A recurring meeting gets one note a week, not one per occurrence (service.engine.series); the
engine leaves the others without a note and they get no row. Each row remembers whom its note is
about and which prompts of the question bank it used; the sent ones of the last month go back
into the engine, so the next note about that person asks something else.

send_due_notes claims each due row (planned -> sent, one row changed or skip) in the transaction
that queues its email, so a note is queued once however often the job runs; the outbox then sends
it once. Planning and sending start with a write on the user's row, so two jobs for one user wait
for each other.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.adapters.db import claim, hold
from service.config import Settings
from service.engine.model import PrepNote
from service.engine.people import clean
from service.models import OutboxEmail, PlannedNote, User
from service.notes import email as notes_mail
from service.reflections.ask import last_with, ledgers
from service.sources.calendar import plan_for_user

MOVE_WINDOW = timedelta(days=7)  # how far an instance of a series may move and keep its note
PROMPT_MEMORY = timedelta(days=31)  # the sent notes whose prompts the next ones avoid
DIGEST_AT = time(8, 0)  # the morning digest, in the user's zone
PLANNED, SENT, CANCELLED = "planned", "sent", "cancelled"
TITLE_CHARS = 255
EMAIL_KINDS = ("prep_note", "digest")
# How far back the notes dispatcher looks for due notes: longer than any outage it rides out.
DUE_WINDOW = timedelta(days=2)


@dataclass(frozen=True, slots=True)
class PlanChange:
    """What one round of planning did to the user's prep notes."""

    created: int = 0
    moved: int = 0
    cancelled: int = 0
    unchanged: int = 0


@dataclass(frozen=True, slots=True)
class Wanted:
    """A note the engine wants now: for which meeting, when it starts (UTC), and what it says."""

    uid: str
    start: datetime
    recurring: bool
    title: str
    kind: str
    note: PrepNote


def plan_notes(session: Session, settings: Settings, user: User, now: datetime) -> PlanChange:
    """Plan, move or cancel the user's prep notes to match their calendar; the caller commits."""
    hold(session, User, user.id)
    session.refresh(user)
    wanted = wanted_notes(session, user, now)
    rows = session.scalars(
        select(PlannedNote).where(PlannedNote.user_id == user.id, PlannedNote.start >= now)
    ).all()
    pairs, fresh, gone = match(rows, wanted)
    counts: Counter[str] = Counter()
    for row, want in pairs:
        counts[_update(row, want, user, now)] += 1
    for want in fresh:
        session.add(_new_row(user, want, now))
        counts["created"] += 1
    for row in gone:
        counts["cancelled" if row.status != CANCELLED else "unchanged"] += 1
        _set(row, now, status=CANCELLED)
    session.flush()
    return PlanChange(**counts)


def wanted_notes(session: Session, user: User, now: datetime) -> list[Wanted]:
    """Return the note each upcoming touchpoint should get, with what happened last time.

    A touchpoint the engine gives no note (a series' other meetings that week) gets no row.
    """
    plan = plan_for_user(session, user, now, **memory(session, user.id, now))
    zone = user.zone  # the zone the engine planned in
    wanted: dict[tuple[str, datetime], Wanted] = {}
    for tp in plan.touchpoints:
        if tp.note is None:
            continue
        occ, start = tp.occurrence, tp.occurrence.starts_at(zone).astimezone(UTC)
        note = tp.note
        want = Wanted(occ.uid, start, occ.recurring, clean(occ.title, TITLE_CHARS), tp.kind, note)
        wanted.setdefault((occ.uid, start), want)  # one note when two calendars hold the meeting
    return list(wanted.values())


def memory(session: Session, user_id: int, now: datetime) -> dict[str, Any]:
    """Return what the notes remember (last reflections, ledgers, prompts already sent), as
    plan_for_user's keywords: the dashboard shows the same notes the emails will."""
    return {
        "last_with": last_with(session, user_id),
        "ledgers": ledgers(session, user_id),
        "history": prompt_history(session, user_id, now),
    }


def prompt_history(
    session: Session, user_id: int, now: datetime
) -> dict[str, list[tuple[datetime, str]]]:
    """Return, per person, the prompts of the notes sent about them in the last month."""
    query = select(PlannedNote.person, PlannedNote.start, PlannedNote.prompts).where(
        PlannedNote.user_id == user_id,
        PlannedNote.status == SENT,
        PlannedNote.start >= now - PROMPT_MEMORY,
        PlannedNote.person != "",
    )
    told: dict[str, list[tuple[datetime, str]]] = {}
    for person, start, keys in session.execute(query.order_by(PlannedNote.start)):
        told.setdefault(person, []).extend((start, k) for k in keys.split(",") if k)
    return told


def match(
    rows: Sequence[PlannedNote], wanted: Sequence[Wanted]
) -> tuple[list[tuple[PlannedNote, Wanted]], list[Wanted], list[PlannedNote]]:
    """Pair stored rows with wanted notes (nearest start first); return pairs, new, and gone."""
    options = sorted(
        (abs(row.start - want.start), row.status == CANCELLED, i, j)
        for i, row in enumerate(rows)
        for j, want in enumerate(wanted)
        if row.uid == want.uid and (not want.recurring or abs(row.start - want.start) < MOVE_WINDOW)
    )
    pairs: dict[int, int] = {}
    for _distance, _cancelled, i, j in options:
        if i not in pairs and j not in pairs.values():
            pairs[i] = j
    fresh = [want for j, want in enumerate(wanted) if j not in pairs.values()]
    gone = [row for i, row in enumerate(rows) if i not in pairs]
    return [(rows[i], wanted[j]) for i, j in pairs.items()], fresh, gone


def due_time(user: User, start: datetime, now: datetime) -> datetime:
    """Return when a meeting's note goes out: lead minutes before, or in the morning digest.

    Never in the past: a note planned late is due at once (the meeting has not started).
    A meeting before the digest hour, or added to a day whose digest went out, gets its own note.
    """
    zone = user.zone
    due = start - timedelta(minutes=user.lead_minutes)
    day = start.astimezone(zone).date()
    morning = datetime.combine(day, DIGEST_AT, zone)
    if user.digest and start > morning and user.digest_sent_on != day:
        due = morning
    return max(due, now)


def _update(row: PlannedNote, want: Wanted, user: User, now: datetime) -> str:
    outcome = "unchanged"
    if row.status == CANCELLED:
        outcome = "created"
        _set(row, now, status=SENT if row.outbox_id else PLANNED)
    elif row.start != want.start:
        outcome = "moved"
    due = due_time(user, want.start, now)
    if row.due_at > now or due > now:  # two "due now" times are the same: keep the first
        _set(row, now, due_at=due)
    _set(row, now, start=want.start, title=want.title, kind=want.kind)
    if row.status != SENT:  # what a sent note said stays as it was sent
        _set(row, now, subject=want.note.subject, text=want.note.text, **_told(want.note))
    return outcome


def _told(note: PrepNote) -> dict[str, str]:
    return {"person": note.person[:254], "prompts": ",".join(note.prompts)[:200]}


def _set(row: PlannedNote, now: datetime, **values: object) -> None:
    """Change the row's fields, stamping updated_at only when something really changed."""
    changed = {name: value for name, value in values.items() if getattr(row, name) != value}
    for name, value in changed.items():
        setattr(row, name, value)
    if changed:
        row.updated_at = now


def _new_row(user: User, want: Wanted, now: datetime) -> PlannedNote:
    return PlannedNote(
        user_id=user.id,
        uid=want.uid,
        start=want.start,
        title=want.title,
        kind=want.kind,
        due_at=due_time(user, want.start, now),
        status=PLANNED,
        subject=want.note.subject,
        text=want.note.text,
        **_told(want.note),
        created_at=now,
        updated_at=now,
    )


# Sending ---------------------------------------------------------------------------------------


def send_due_notes(session: Session, settings: Settings, user: User, now: datetime) -> list[int]:
    """Queue the emails of the user's due notes (and the morning digest); return outbox ids.

    The caller commits, then delivers the returned rows.
    """
    hold(session, User, user.id)
    session.refresh(user)
    if not user.email_notes or (user.paused_until is not None and user.paused_until > now):
        return []
    queued = _send_digest(session, settings, user, now) if _digest_time(user, now) else []
    for row in _due(session, user.id, now):
        if claim_note(session, row, now):
            row.outbox_id = notes_mail.queue_prep_note(session, settings, user, row).id
            queued.append(row.outbox_id)
    session.flush()
    return queued


def claim_note(session: Session, row: PlannedNote, now: datetime) -> bool:
    """Move one row from planned to sent; True only for the caller that changed it."""
    planned = PlannedNote.status == PLANNED
    if not claim(session, PlannedNote, row.id, planned, status=SENT, updated_at=now):
        return False
    row.status, row.updated_at = SENT, now
    return True


def _due(session: Session, user_id: int, now: datetime) -> Sequence[PlannedNote]:
    query = select(PlannedNote).where(
        PlannedNote.user_id == user_id,
        PlannedNote.status == PLANNED,
        PlannedNote.due_at <= now,
        PlannedNote.start > now,  # too late once the meeting has started
    )
    return session.scalars(query.order_by(PlannedNote.start, PlannedNote.id)).all()


def _digest_time(user: User, now: datetime) -> bool:
    local = now.astimezone(user.zone)
    return user.digest and local.time() >= DIGEST_AT and user.digest_sent_on != local.date()


def _send_digest(session: Session, settings: Settings, user: User, now: datetime) -> list[int]:
    """Queue one email with the rest of today's notes; today's digest is done even when empty."""
    zone = user.zone
    today = now.astimezone(zone).date()
    user.digest_sent_on = today
    rows = _later_today(session, user.id, now, datetime.combine(today, time(), zone))
    claimed = [row for row in rows if claim_note(session, row, now)]
    if not claimed:
        return []
    email = notes_mail.queue_digest(session, settings, user, claimed, today)
    for row in claimed:
        row.outbox_id = email.id
    return [email.id]


def _later_today(
    session: Session, user_id: int, now: datetime, midnight: datetime
) -> Sequence[PlannedNote]:
    query = select(PlannedNote).where(
        PlannedNote.user_id == user_id,
        PlannedNote.status == PLANNED,
        PlannedNote.start > now,
        PlannedNote.start < midnight + timedelta(days=1),
    )
    return session.scalars(query.order_by(PlannedNote.start, PlannedNote.id)).all()


def unsent_notes(session: Session, user_id: int) -> list[int]:
    """Return the ids of the user's note and digest emails that no sender has claimed yet."""
    query = select(OutboxEmail.id).where(
        OutboxEmail.user_id == user_id,
        OutboxEmail.kind.in_(EMAIL_KINDS),
        OutboxEmail.claimed_at.is_(None),
        OutboxEmail.sent_at.is_(None),
    )
    return list(session.scalars(query.order_by(OutboxEmail.id)))


def users_with_due_notes(session: Session, now: datetime) -> list[int]:
    """Return the users with a note (or a morning digest) to send now.

    Reads ix_planned_notes_planned_due from DUE_WINDOW ago: planned rows only, and never the
    past ones of users who get no emails. A note due longer ago than that is left to the
    user's next planning (after a sync that changed their calendar), which sends it if the
    meeting is still ahead.
    """
    query = (
        select(PlannedNote.user_id)
        .join(User, User.id == PlannedNote.user_id)
        .where(PlannedNote.status == PLANNED, PlannedNote.start > now)
        .where(PlannedNote.due_at <= now, PlannedNote.due_at > now - DUE_WINDOW)
        .where(User.email_notes.is_(True))
        .where(User.paused_until.is_(None) | (User.paused_until <= now))
        .distinct()
    )
    return sorted(session.scalars(query))
