"""Booked chats that have happened count as career conversations, once."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from service.adapters.db import Database
from service.engine.classify import classify
from service.engine.plan import Plan
from service.models import Connection, Proposal, User
from service.sources.calendar import (
    load_occurrences,
    plan_for_user,
    profile_of,
    store_occurrences,
    sync_span,
    to_engine,
    with_held_chats,
)
from tests.factories import ALICE, BOB, CAROL, NOW, accepted_chat, meeting


def plan_with_chat(database_url: str, start: datetime, *, synced: bool = False) -> Plan:
    """Plan for alice with a chat with Carol booked at start (and synced back, if so)."""
    db = Database(database_url)
    with db.unit() as session:
        user = User(email=ALICE, tz="Europe/Berlin", manager_email=BOB)
        session.add(user)
        session.flush()
        connection = Connection(user_id=user.id, kind="google", label=ALICE)
        session.add(connection)
        session.flush()
        session.add(accepted_chat(user.id, start, booked_at=start - timedelta(days=1)))
        # Google syncs the booked event back under its own UID, titled as we booked it.
        event = meeting("Career chat: Alice and Carol", start, 15, with_=(CAROL,))
        store_occurrences(session, connection, [event] if synced else [], *sync_span(NOW))
    with db.unit() as session:
        result = plan_for_user(session, session.get_one(User, user.id), NOW)
    db.dispose()
    return result


def test_a_chat_that_happened_resets_the_clock(database_url: str) -> None:
    result = plan_with_chat(database_url, NOW - timedelta(days=2))

    assert result.cadence.days_since == 2
    assert not result.cadence.due


def test_a_chat_synced_back_from_google_counts_once(database_url: str) -> None:
    start = NOW - timedelta(days=2)
    result = plan_with_chat(database_url, start, synced=True)
    db = Database(database_url)
    with db.unit() as session:
        user = session.scalars(select(User)).one()
        profile = profile_of(user)
        rows = load_occurrences(session, user.id, start - timedelta(days=1), NOW)
        chats = session.scalars(select(Proposal)).all()
        occurrences, counted = with_held_chats(
            [to_engine(r, profile.tz) for r in rows], profile, chats
        )
    db.dispose()

    assert result.cadence.days_since == 2
    assert [o.title for o in occurrences] == ["Career chat: Alice and Carol"]
    assert classify(occurrences[0], counted).kind == "career"


def test_a_chat_still_going_on_does_not_count_yet(database_url: str) -> None:
    result = plan_with_chat(database_url, NOW - timedelta(minutes=10))

    assert result.cadence.days_since is None
    assert result.cadence.due
