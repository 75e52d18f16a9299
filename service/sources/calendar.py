"""The engine for people with accounts: stored occurrences in, a plan out; synced occurrences in."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from service.adapters.db import hold
from service.engine.i18n import language
from service.engine.model import (
    STAGES,
    Attendee,
    Kind,
    Occurrence,
    Profile,
    Window,
    WorkingHours,
)
from service.engine.people import display_name
from service.engine.plan import History, Plan, lookback, plan
from service.engine.relations import Ledger
from service.models import (
    Connection,
    DashboardDirty,
    DashboardPlan,
    Mark,
    Proposal,
    StoredOccurrence,
    User,
)
from service.models.proposals import ACCEPTED, chosen_slot

HORIZON_DAYS = 14  # how far ahead the dashboard and the planner look
HISTORY_DAYS = 365  # how far back the mix of people and the cadence look
CHAT_MINUTES = 15  # a booked chat counts once it is over
SLACK = timedelta(days=7)  # how far past the horizon a sync stores, so it re-expands weekly
SPAN_AHEAD = timedelta(days=HORIZON_DAYS + 1) + SLACK


def profile_of(user: User, marks: Sequence[Mark] = ()) -> Profile:
    """Return the engine's view of a user and their settings."""
    tz = user.zone
    return Profile(
        me=user.email,
        tz=tz,
        manager=user.manager_email.lower(),
        stage=user.stage if user.stage in STAGES else "growth",  # type: ignore[arg-type]
        goal=user.goal,
        hours=WorkingHours(
            start=time.fromisoformat(user.hours_start),
            end=time.fromisoformat(user.hours_end),
            days=frozenset(int(d) for d in user.work_days.split(",") if d.strip()),
        ),
        ideal_days=user.ideal_days,
        max_days=user.max_days,
        never_suggest=frozenset(_emails(user.never_suggest)),
        overrides=tuple((m.uid, _kind(m.kind)) for m in marks),
    )


def _emails(text: str) -> list[str]:
    return [e.strip().lower() for e in text.replace(",", " ").split() if "@" in e]


def _kind(value: str | None) -> Kind | None:
    return value  # type: ignore[return-value]  # stored values are checked when marked


def plan_for_user(
    session: Session,
    user: User,
    now: datetime,
    *,
    extra_busy: Sequence[tuple[datetime, datetime]] = (),
    last_with: Mapping[str, str] | None = None,
    ledgers: Mapping[str, Ledger] | None = None,
    history: History | None = None,
    notes: bool = True,
    per_day: int | None = None,
    days: int = HORIZON_DAYS,
    propose: bool = True,
) -> Plan:
    """Plan the next `days` (HORIZON_DAYS) for a user from what was last synced ("now" is
    passed in).

    extra_busy: times proposed slots must avoid beyond the user's calendar (the partner's);
    last_with: what happened last time with each person (service.reflections.ask.last_with);
    ledgers: what the user offered and asked of each person; history: the prompts of the
    notes already sent (service.notes.plan), so the next ones differ. notes=False plans no
    notes (the dashboard shows the stored ones); per_day reads at most that many occurrences
    a day (the dashboard's bound on a calendar that holds hundreds a day); propose=False
    chooses no partner and proposes no times (the dashboard's kept plan, service.dashboard.ahead).
    """
    marks = session.scalars(select(Mark).where(Mark.user_id == user.id)).all()
    profile = profile_of(user, marks)
    window = Window(now, now + timedelta(days=days))
    span = lookback(profile, window)
    occurrences, profile = read_span(session, user.id, profile, span, now, per_day=per_day)
    with language(user.language):  # notes and reasons in the user's language, in a job too
        return plan(
            occurrences,
            profile,
            window,
            last_with=last_with,
            extra_busy=extra_busy,
            ledgers=ledgers,
            history=history,
            notes=notes,
            propose=propose,
        )


def read_span(
    session: Session,
    user_id: int,
    profile: Profile,
    span: Window,
    now: datetime,
    *,
    per_day: int | None = None,
) -> tuple[list[Occurrence], Profile]:
    """Return the occurrences the engine reads for span (the user's stored ones, and the chats
    booked through Touchpoint), with the profile that counts those chats as career."""
    rows = load_occurrences(session, user_id, span.start, span.end, per_day=per_day)
    occurrences = [to_engine(r, profile.tz) for r in rows]
    chats = [*held_chats(session, user_id, span.start, now), *chats_ahead(session, user_id, now)]
    return with_held_chats(occurrences, profile, chats)


def held_chats(
    session: Session, user_id: int, start: datetime, now: datetime
) -> Sequence[Proposal]:
    """Return the user's booked chats that were over by now and started after start."""
    query = select(Proposal).where(Proposal.user_id == user_id, Proposal.status == ACCEPTED)
    query = query.where(Proposal.booked_at.is_not(None), Proposal.chosen_start >= start)
    over = now - timedelta(minutes=CHAT_MINUTES)
    return session.scalars(query.where(Proposal.chosen_start <= over)).all()


def chats_ahead(session: Session, user_id: int, now: datetime) -> Sequence[Proposal]:
    """Return the user's accepted chats still to come: a chat booked ahead means none is due,
    and its time is busy."""
    query = select(Proposal).where(Proposal.user_id == user_id, Proposal.status == ACCEPTED)
    return session.scalars(query.where(Proposal.chosen_start >= now)).all()


def with_held_chats(
    occurrences: Sequence[Occurrence], profile: Profile, chats: Sequence[Proposal]
) -> tuple[list[Occurrence], Profile]:
    """Count each held chat as a career conversation, once.

    A calendar may already hold the chat (Google syncs the booked event back, an ICS user may
    have accepted the invite): then that occurrence counts as career, unless the user marked it.
    """
    added: list[Occurrence] = []
    career: list[tuple[str, Kind | None]] = []
    marked = {uid for uid, _ in profile.overrides}
    for chat in chats:
        held = _held_chat(chat, profile.tz)
        if held is None:
            continue
        same = [o for o in occurrences if o.uid == held.uid or _same_start(o, held)]
        added += [] if same else [held]
        career += [(o.uid, "career") for o in same or [held] if o.uid not in marked]
    return [*occurrences, *added], replace(profile, overrides=(*profile.overrides, *career))


def _held_chat(chat: Proposal, tz: ZoneInfo) -> Occurrence | None:
    slot = chosen_slot(chat)
    if slot is None:
        return None
    partner = chat.partner or ""
    return Occurrence(
        uid=f"touchpoint-chat-{chat.id}-{int(chat.created_at.timestamp())}",
        start=slot[0].astimezone(tz),
        end=slot[1].astimezone(tz),
        title=f"Career chat with {display_name(partner) or 'someone'}",
        attendees=(Attendee(partner, status="accepted"),) if partner else (),
    )


def _same_start(occ: Occurrence, held: Occurrence) -> bool:
    utc = ZoneInfo("UTC")
    return not occ.all_day and occ.starts_at(utc) == held.starts_at(utc)


def load_occurrences(
    session: Session, user_id: int, start: datetime, end: datetime, *, per_day: int | None = None
) -> Sequence[StoredOccurrence]:
    """Return a user's stored occurrences overlapping [start, end), in order.

    per_day: at most that many a (UTC) day, the earliest, chosen by the database, so reading a
    calendar with hundreds of events a day costs what reading a few dozen does.
    """
    inside = (
        StoredOccurrence.user_id == user_id,
        StoredOccurrence.start < end,
        StoredOccurrence.end > start - timedelta(days=1),
    )
    query = select(StoredOccurrence).where(*inside)
    if per_day is not None:
        order = (StoredOccurrence.start, StoredOccurrence.id)
        day = func.date(StoredOccurrence.start)
        rank = func.row_number().over(partition_by=day, order_by=order)
        ranked = select(StoredOccurrence.id, rank.label("n")).where(*inside).subquery()
        query = query.join(ranked, ranked.c.id == StoredOccurrence.id).where(ranked.c.n <= per_day)
    return session.scalars(query.order_by(StoredOccurrence.start, StoredOccurrence.id)).all()


def to_engine(row: StoredOccurrence, tz: ZoneInfo) -> Occurrence:
    """Turn a stored row back into the engine's Occurrence (all-day rows become dates in tz)."""
    if row.all_day:  # kept as UTC midnights of their dates
        start: date | datetime = row.start.astimezone(UTC).date()
        end: date | datetime = row.end.astimezone(UTC).date()
    else:
        start, end = row.start.astimezone(tz), row.end.astimezone(tz)
    return Occurrence(
        uid=row.uid,
        start=start,
        end=end,
        title=row.title,
        all_day=row.all_day,
        location=row.location,
        organizer=row.organizer,
        attendees=_attendees(row.attendees),
        status=row.status,
        transparent=row.transparent,
        recurring=row.recurring,
        my_response=row.my_response,
    )


def _attendees(stored: list[Any]) -> tuple[Attendee, ...]:
    """Return the attendees of a stored row; the rows of one series share one tuple, so the
    engine judges the series once (plan.Judge keys on it)."""
    key = repr(stored)
    found = _ATTENDEES.get(key)
    if found is None:
        if len(_ATTENDEES) > 4096:
            _ATTENDEES.clear()
        found = _ATTENDEES[key] = tuple(Attendee(**a) for a in stored)
    return found


_ATTENDEES: dict[str, tuple[Attendee, ...]] = {}


def store_occurrences(
    session: Session,
    connection: Connection,
    occurrences: Sequence[Occurrence],
    start: datetime,
    end: datetime,
    *,
    series: Collection[str] | None = None,
) -> int:
    """Make what a connection stored in [start, end) these occurrences; return how many.

    Incremental: a row whose occurrence is the same is left as it is (same id, no write), a
    changed one is updated, a new one inserted, one that vanished deleted, each kind in one
    statement. series limits it to those uids (a sync that read only the changed series):
    the other uids' rows stay whatever this call is given. The caller commits: a failed sync
    leaves the previous rows as they were.
    """
    wanted: dict[tuple[str, datetime], dict[str, Any]] = {}
    for occ in occurrences:
        values = _values(connection, occ)
        key = (values["uid"], values["start"])
        if key not in wanted and start <= values["start"] < end:
            wanted[key] = values
    stored = _stored(session, connection, start, end, series)
    gone = [row.id for key, row in stored.items() if key not in wanted]
    changed = [
        {"id": row.id, **values}
        for key, values in wanted.items()
        if (row := stored.get(key)) is not None and _differs(row, values)
    ]
    new = [values for key, values in wanted.items() if key not in stored]
    if gone:
        session.execute(delete(StoredOccurrence).where(StoredOccurrence.id.in_(gone)))
    if changed:
        session.execute(update(StoredOccurrence), changed)  # by primary key, one executemany
    if new:
        session.execute(insert(StoredOccurrence), new)
    starts = [stored[key].start for key in stored if key not in wanted] + [
        values["start"] for values in (*changed, *new)
    ]
    touched(session, connection.user_id, starts)
    return len(wanted)


def touched(session: Session, user_id: int, starts: Collection[datetime]) -> None:
    """Record the UTC days of these starts as changed for the user's dashboard days
    (service.dashboard.past computes them again)."""
    days = sorted({start.astimezone(UTC).date() for start in starts})
    if days:
        # The user's row first, as the planning job takes it: a plan being kept from the
        # occurrences before this change is committed before the delete below drops it (and
        # the two never wait for each other's rows in opposite order).
        hold(session, User, user_id)
        session.execute(insert(DashboardDirty), [{"user_id": user_id, "day": d} for d in days])
        # The plan the dashboard keeps read these occurrences: computed again by the next job.
        session.execute(delete(DashboardPlan).where(DashboardPlan.user_id == user_id))


_COMPARED = (
    "end",
    "all_day",
    "title",
    "location",
    "organizer",
    "attendees",
    "status",
    "transparent",
    "my_response",
    "recurring",
)


def _stored(
    session: Session,
    connection: Connection,
    start: datetime,
    end: datetime,
    series: Collection[str] | None,
) -> dict[tuple[str, datetime], Any]:
    columns = [getattr(StoredOccurrence, name) for name in ("id", "uid", "start", *_COMPARED)]
    query = select(*columns).where(
        StoredOccurrence.connection_id == connection.id,
        StoredOccurrence.start >= start,
        StoredOccurrence.start < end,
    )
    if series is not None:
        query = query.where(StoredOccurrence.uid.in_([uid[:255] for uid in series]))
    return {(row.uid, row.start): row for row in session.execute(query)}


def _differs(row: Any, values: dict[str, Any]) -> bool:
    return any(getattr(row, name) != values[name] for name in _COMPARED)


def _values(connection: Connection, occ: Occurrence) -> dict[str, Any]:
    # All-day occurrences are kept as UTC midnights of their dates and read back as dates.
    utc = ZoneInfo("UTC")
    return {
        "user_id": connection.user_id,
        "connection_id": connection.id,
        "uid": occ.uid[:255],
        "start": occ.starts_at(utc),
        "end": occ.ends_at(utc),
        "all_day": occ.all_day,
        "title": occ.title,
        "location": occ.location,
        "organizer": occ.organizer,
        "attendees": [asdict(a) for a in occ.attendees],
        "status": occ.status,
        "transparent": occ.transparent,
        "my_response": occ.my_response,
        "recurring": occ.recurring,
    }


def sync_span(now: datetime) -> tuple[datetime, datetime]:
    """Return the span a sync stores: a year back (cadence, people mix) to HORIZON_DAYS ahead."""
    midnight = datetime.combine(now.date(), time(), now.tzinfo)
    return midnight - timedelta(days=HISTORY_DAYS), midnight + timedelta(days=HORIZON_DAYS + 1)


def stored_span(now: datetime) -> tuple[datetime, datetime]:
    """Return the span a full read stores: a year back to SPAN_AHEAD ahead of now.

    Ahead of the planner's horizon by SLACK, and not cut at midnight: a calendar that does not
    change is expanded again (from the kept copy, without a download) only once its stored
    days ahead fall below the horizon, about once a SLACK, each at its own time of day.
    """
    return sync_span(now)[0], now + SPAN_AHEAD


def stale_span(connection: Connection, now: datetime) -> bool:
    """Say whether the days ahead a connection stored no longer reach the planner's horizon."""
    if connection.expanded_until is None:  # stored before spans were kept: the day's span
        last = connection.synced_at
        return last is None or sync_span(last.astimezone(now.tzinfo)) != sync_span(now)
    return connection.expanded_until < now + timedelta(days=HORIZON_DAYS + 1)
