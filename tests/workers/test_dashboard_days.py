"""The dashboard's year, kept per day by the sync job, stays right as the calendar changes.

A feed served on loopback is synced by the real sync job (RQ, Redis); the dashboard is then read
through the web app. Every event is more than a week old, so what the page says about them comes
from the day rows the job kept, and the same page computed from the stored events alone (the day
rows dropped) must say the same.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from rq import Queue
from sqlalchemy import delete, func, select

from service.adapters.db import Database
from service.adapters.secrets import SecretBox
from service.models import DashboardDay, DashboardDirty, DashboardSummary, PlannedNote
from tests.factories import ALICE, CAROL, DAN, ERIN, add_feed, time_passes
from tests.feed_server import SECRET_PATH, Feed, FeedServer
from tests.workers.jobs import synced, work

QUEUES = ("sync", "notes")  # a sync enqueues the planning of its user's notes
FRANK = "frank@example.com"


def event(uid: str, title: str, days_ago: int, *people: str, hour: int = 10) -> bytes:
    start = (datetime.now(UTC) - timedelta(days=days_ago)).replace(hour=hour, minute=0, second=0)
    attendees = "".join(
        f"ATTENDEE;CN={p.split('@')[0].title()};PARTSTAT=ACCEPTED:mailto:{p}\r\n"
        for p in (ALICE, *people)
    )
    return (
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\n"
        f"DTSTART:{start:%Y%m%dT%H%M%SZ}\r\nDURATION:PT30M\r\nSUMMARY:{title}\r\n"
        f"ORGANIZER:mailto:{ALICE}\r\n{attendees}END:VEVENT\r\n"
    ).encode()


def calendar(*events: bytes) -> bytes:
    return (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:test\r\n"
        + b"".join(events)
        + (b"END:VCALENDAR\r\n")
    )


MENTORING = event("mentoring@test", "Mentoring with Dan", 40, DAN)
COFFEE_CAROL = event("coffee-carol@test", "Coffee with Carol", 30, CAROL)
COFFEE_ERIN = event("coffee-erin@test", "Coffee with Erin", 20, ERIN)
CAREER_FRANK = event("career-frank@test", "Career chat with Frank", 10, FRANK)


def seen(page: str) -> dict[str, str]:
    """Return what the page says about the past year: the clock, the mix, the people, the strip."""
    parts = {}
    for name, start, end in (
        ("clock", "Your last career conversation", "</p>"),
        ("mix", "Who you talked to this past year", "</table>"),
        ("people", 'aria-labelledby="people-heading"', "</section>"),
        ("strip", 'id="strip-heading"', "</p> </div>"),
    ):
        at = page.find(start)
        parts[name] = page[at : page.find(end, at)] if at != -1 else ""
    return parts


def computed_from_events(database: Database, read: Callable[[], str]) -> dict[str, str]:
    """Return the page's past year with the day rows dropped: computed from the stored events."""
    with database.unit() as session:
        session.execute(delete(DashboardSummary))
    return seen(read())


def kept_days(database: Database) -> tuple[int, int]:
    with database.unit() as session:
        days = session.scalar(select(func.count()).select_from(DashboardDay))
        dirty = session.scalar(select(func.count()).select_from(DashboardDirty))
        return days or 0, dirty or 0


def test_the_kept_year_follows_a_removed_event_and_a_new_career_conversation(
    database: Database,
    box: SecretBox,
    alice_id: int,
    feeds: FeedServer,
    queue: Queue,
    alice_page: Callable[[], str],
) -> None:
    feeds.feeds[SECRET_PATH] = Feed(calendar(MENTORING, COFFEE_CAROL, COFFEE_ERIN), etag='"v1"')
    connection_id = add_feed(database, box, alice_id, feeds.url())

    assert synced(queue) == ["updated"]
    assert kept_days(database) == (3, 0)  # three days with events, nothing left to compute
    before = seen(alice_page())
    assert all(before.values())
    assert "Your last career conversation was 40 days ago" in before["clock"]
    assert "Dan (1)" in before["mix"]
    assert "Erin (1)" in before["mix"]

    feeds.feeds[SECRET_PATH] = Feed(calendar(MENTORING, COFFEE_CAROL, CAREER_FRANK), etag='"v2"')
    time_passes(database, connection_id)
    assert synced(queue) == ["updated"]

    assert kept_days(database) == (3, 0)  # Erin's day gone, Frank's day kept
    after = seen(alice_page())
    assert "Your last career conversation was 10 days ago" in after["clock"]
    assert "Erin" not in after["mix"]
    assert "Frank (1)" in after["mix"]
    assert '<th scope="row">Mentors</th> <td>2</td>' in after["mix"]  # Dan and Frank
    assert after == computed_from_events(database, alice_page)


def test_a_mark_changes_the_kept_year_at_once(
    database: Database,
    box: SecretBox,
    alice_id: int,
    feeds: FeedServer,
    queue: Queue,
    client: Any,
    alice_page: Callable[[], str],
) -> None:
    feeds.feeds[SECRET_PATH] = Feed(calendar(MENTORING, COFFEE_CAROL, CAREER_FRANK))
    add_feed(database, box, alice_id, feeds.url())
    assert synced(queue) == ["updated"]
    assert "Frank (1)" in seen(alice_page())["mix"]

    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").get_data(as_text=True))
    assert token is not None
    form = {"csrf_token": token.group(1), "uid": "career-frank@test", "kind": "none"}
    assert client.post("/marks", data=form).status_code == 302

    marked = seen(alice_page())  # no job has run since: the request computes Frank's day
    assert "Your last career conversation was 40 days ago" in marked["clock"]
    assert "Frank" not in marked["mix"]
    assert "1 career conversation in the past year." in marked["strip"]
    assert marked == computed_from_events(database, alice_page)


def test_once_planned_the_dashboard_shows_the_stored_note_as_it_was_sent(
    database: Database,
    box: SecretBox,
    alice_id: int,
    feeds: FeedServer,
    queues: list[Queue],
    alice_page: Callable[[], str],
) -> None:
    lunch = event("lunch-carol@test", "Lunch with Carol", -2, CAROL, hour=11)
    feeds.feeds[SECRET_PATH] = Feed(calendar(MENTORING, lunch))
    add_feed(database, box, alice_id, feeds.url())
    assert synced(queues[0]) == ["updated"]
    work(queues[1])  # the planning job the sync enqueued
    with database.unit() as session:  # the note went out; what it said stays as it was sent
        note = session.scalars(
            select(PlannedNote).where(PlannedNote.uid == "lunch-carol@test")
        ).one()
        note.status, note.subject = "sent", "Prep: lunch with Carol, as emailed"
        note.text = "Ask Carol how the offsite went."

    upcoming = alice_page()

    assert "Lunch with Carol" in upcoming
    assert "Prep: lunch with Carol, as emailed" in upcoming
    assert "<li>Ask Carol how the offsite went.</li>" in upcoming
