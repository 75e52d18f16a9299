"""Marks: the user's own word on an event ("not a touchpoint", "a career conversation")."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.engine.model import Occurrence
from service.models import Mark, StoredOccurrence


def marks_of(session: Session, user_id: int) -> Sequence[Mark]:
    """Return the user's marks, the latest first."""
    query = select(Mark).where(Mark.user_id == user_id).order_by(Mark.created_at.desc(), Mark.id)
    return session.scalars(query).all()


def marked(marks: Sequence[Mark], occurrences: Sequence[Occurrence]) -> list[tuple[Mark, Any]]:
    """Pair each mark with an occurrence it covers (the last one seen), for the Undo list."""
    by_uid = {occ.uid: occ for occ in occurrences}
    return [(mark, by_uid[mark.uid]) for mark in marks if mark.uid in by_uid]


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
