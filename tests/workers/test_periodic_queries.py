"""Every periodic job reads by an index: its cost follows what is due, not every row or user.

The statements the real jobs send are recorded and explained on PostgreSQL, over tables that
hold what a few thousand users leave behind: no plan may read one of them whole.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, event, text

from service.adapters.db import Database
from service.config import Settings
from service.models import (
    Base,
    Connection,
    OutboxEmail,
    PlannedNote,
    Proposal,
    StoredOccurrence,
    User,
)
from tests.factories import ALICE, CAROL
from workers import email, notes, proposals, reflections, runtime, sync

QUEUES = ("dispatch", "sync", "notes", "email", "proposals")
# Tables that grow with every email, note, meeting or user: never read whole by a periodic job.
LARGE = ("outbox", "planned_notes", "occurrences", "connections", "proposals", "users")


def morning_zone(now: datetime) -> str:
    """A zone where it is between 08:00 and 09:00 now (a whole-hour offset always has one)."""
    hours = (8 - now.hour) % 24
    offset = hours if hours <= 14 else hours - 24
    return f"Etc/GMT{-offset:+d}" if offset else "UTC"


@pytest.fixture
def database_url(request: pytest.FixtureRequest) -> str:
    """PostgreSQL alone, from empty tables: query plans are PostgreSQL's."""
    url: str = request.getfixturevalue("postgres_database")
    engine = create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


HISTORY = (  # what a few thousand users leave behind: nothing due, everything in the tables
    "INSERT INTO users (email, tz, stage, goal, ideal_days, max_days, hours_start, hours_end,"
    " work_days, manager_email, include_people, never_suggest, email_notes, calendar_notes,"
    " lead_minutes, digest, weekly_nudges, created_at)"
    " SELECT 'h' || n || '@example.com', 'Pacific/Kiritimati', 'growth', '', 45, 60, '09:00',"
    " '17:30', '0,1,2,3,4', '', '', '', true, false, 60, false, 1, now()"
    " FROM generate_series(1, 5000) AS n",
    "INSERT INTO connections (user_id, kind, label, scopes, status, last_error, created_at,"
    " sync_token, etag, last_modified, content_hash, next_sync_at)"
    " SELECT id, 'ics_url', 'x', '', 'ok', '', now(), '', '', '', '', now() + interval '9 minutes'"
    " FROM users WHERE email LIKE 'h%'",
    'INSERT INTO outbox (user_id, kind, "to", subject, text, html, message_id, headers,'
    " created_at, claimed_at, sent_at, attempts, last_error)"
    " SELECT u.id, 'prep_note', u.email, 's', 't', '', '<h' || u.id || '.' || n || '@x>', '{}',"
    " now() - n * interval '1 hour', now() - n * interval '1 hour', now() - n * interval '1 hour',"
    " 1, '' FROM users u, generate_series(1, 8) AS n WHERE u.email LIKE 'h%'",
    "INSERT INTO planned_notes (user_id, uid, start, title, kind, due_at, status, subject, text,"
    " calendar_event_id, created_at, updated_at)"
    " SELECT u.id, 'p' || n, now() - n * interval '1 day', '', 'meal',"
    " now() - n * interval '1 day', 'sent', '', '', '', now(), now()"
    " FROM users u, generate_series(1, 8) AS n WHERE u.email LIKE 'h%'",
    'INSERT INTO occurrences (user_id, connection_id, uid, start, "end", all_day, title,'
    " location, organizer, attendees, status, transparent, recurring)"
    " SELECT c.user_id, c.id, 'o' || n, now() - n * interval '1 day',"
    " now() - n * interval '1 day' + interval '30 minutes', false, '', '', '', '[]',"
    " 'confirmed', false, false FROM connections c, generate_series(1, 8) AS n",
    "INSERT INTO proposals (user_id, reason, slots, status, created_at, expires_at,"
    " calendar_event_id, invite_sequence, booking_error)"
    " SELECT id, '', '[]', 'declined', now(), now(), '', 0, '' FROM users WHERE email LIKE 'h%'",
    "ANALYZE",
)


def history(database: Database) -> None:
    """Fill the tables as a few thousand users would, none of it due now (PostgreSQL)."""
    with database.unit() as session:
        for statement in HISTORY:
            session.execute(text(statement))


def some_of_everything(database: Database, now: datetime) -> None:
    """Rows for every periodic job to find: due, waiting, claimed, ended, open, in the morning."""
    with database.unit() as session:
        user = User(email=ALICE, tz=morning_zone(now), work_days="0,1,2,3,4,5,6")
        session.add(user)
        session.flush()
        session.add(Connection(user_id=user.id, kind="ics_url", label="work.ics"))
        session.add_all(
            OutboxEmail(
                user_id=user.id,
                kind="prep_note",
                to=ALICE,
                subject="s",
                text="t",
                message_id=f"<m{n}@x>",
                created_at=now,
                claimed_at=claimed,
            )
            for n, claimed in enumerate((None, now - timedelta(hours=1)))
        )
        session.add(
            PlannedNote(
                user_id=user.id,
                uid="u",
                start=now + timedelta(minutes=30),
                due_at=now - timedelta(minutes=1),
            )
        )
        session.add(
            StoredOccurrence(
                user_id=user.id,
                connection_id=1,
                uid="o",
                start=now - timedelta(minutes=40),
                end=now - timedelta(minutes=10),
            )
        )
        session.add_all(
            [
                Proposal(user_id=user.id, partner=CAROL, expires_at=now - timedelta(hours=1)),
                Proposal(
                    user_id=user.id,
                    partner=CAROL,
                    status="accepted",
                    expires_at=now,
                    chosen_start=now - timedelta(hours=1),
                ),
            ]
        )


@contextlib.contextmanager
def recorded(database: Database) -> Iterator[list[tuple[str, Any]]]:
    """Record every statement sent to the database in the block, with its parameters."""
    sent: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    assert database.engine is not None
    event.listen(database.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(database.engine, "before_cursor_execute", record)


def whole_table_scans(database: Database, sent: list[tuple[str, Any]]) -> list[str]:
    """Run each SELECT, UPDATE and DELETE sent again under EXPLAIN ANALYZE (rolled back);
    return the reads of a large table that scanned it or touched more than PAGES of it."""
    assert database.engine is not None
    found = []
    with database.engine.connect() as connection:
        cursor = connection.connection.cursor()
        for statement, parameters in sent:
            if statement.lstrip().split()[0].upper() not in {"SELECT", "UPDATE", "DELETE", "WITH"}:
                continue
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, parameters)
            plan = cursor.fetchone()[0][0]["Plan"]
            found += [f"{node} in {statement}" for node in _whole_reads(plan)]
        connection.rollback()
    return found


# A read of what is due touches a few pages; each large table spans hundreds here.
PAGES = 40


def _whole_reads(node: dict[str, Any]) -> Iterator[str]:
    table = node.get("Relation Name")
    pages = node.get("Shared Hit Blocks", 0) + node.get("Shared Read Blocks", 0)
    if table in LARGE and (node["Node Type"] == "Seq Scan" or pages > PAGES):
        yield f"{node['Node Type']} on {table} ({node.get('Index Name', '')}, {pages} pages)"
    for child in node.get("Plans", []):
        yield from _whole_reads(child)


def test_every_periodic_job_reads_its_due_rows_by_an_index(
    database: Database, settings: Settings
) -> None:
    now = datetime.now(UTC)
    some_of_everything(database, now)
    history(database)

    with recorded(runtime.current().database) as sent:
        assert sync.dispatch_syncs() == 1
        assert email.sweep_outbox() == 2  # the waiting one, and the claim that stopped
        assert notes.dispatch_notes() == 1
        assert reflections.dispatch_reflections() == 1
        assert proposals.dispatch_proposals() == 1

    assert len(sent) >= 10
    whole = whole_table_scans(database, sent)
    assert not whole, "\n\n".join(whole)
