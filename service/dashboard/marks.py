"""Marks: the user's own word on an event ("not a touchpoint", "a career conversation")."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.engine.model import Occurrence
from service.models import Mark, StoredOccurrence
from service.sources.calendar import to_engine


def marks_of(session: Session, user_id: int) -> Sequence[Mark]:
    """Return the user's marks, the latest first."""
    query = select(Mark).where(Mark.user_id == user_id).order_by(Mark.created_at.desc(), Mark.id)
    return session.scalars(query).all()


def marked(
    session: Session,
    user_id: int,
    marks: Sequence[Mark],
    tz: ZoneInfo,
    start: datetime,
    end: datetime,
) -> list[tuple[Mark, Occurrence]]:
    """Pair each mark with the last occurrence it covers between start and end (for Undo)."""
    uids = [mark.uid for mark in marks]
    if not uids:
        return []
    query = select(StoredOccurrence).where(
        StoredOccurrence.user_id == user_id,
        StoredOccurrence.uid.in_(uids),
        StoredOccurrence.start < end,
        StoredOccurrence.end > start - timedelta(days=1),
    )
    last = {
        row.uid: row
        for row in session.scalars(query.order_by(StoredOccurrence.start, StoredOccurrence.id))
    }
    return [(mark, to_engine(last[mark.uid], tz)) for mark in marks if mark.uid in last]


def title_of(session: Session, user_id: int, uid: str) -> str | None:
    """Return the title of one of the user's own events with this uid, or None."""
    query = select(StoredOccurrence.title).where(
        StoredOccurrence.user_id == user_id, StoredOccurrence.uid == uid
    )
    return session.scalar(query.limit(1))


def save_mark(session: Session, user_id: int, uid: str, kind: str | None, now: datetime) -> None:
    """Insert or update the user's mark on uid and commit; two clicks at once make one row."""
    for attempt in range(2):
        found = session.scalar(select(Mark).where(Mark.user_id == user_id, Mark.uid == uid))
        if found is None:
            session.add(Mark(user_id=user_id, uid=uid, kind=kind, created_at=now))
        else:
            found.kind, found.created_at = kind, now
        try:
            session.commit()
            return
        except IntegrityError:  # the other click inserted first: update its row instead
            session.rollback()
            if attempt:
                raise
