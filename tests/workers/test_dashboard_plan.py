"""The plan of the coming days the planning job keeps for the dashboard stays right.

A feed served on loopback is synced by the real sync job, which enqueues the real planning job;
the dashboard is then read through the web app. The page that reads the kept plan must be the
page computed from the stored events alone (the kept plan dropped), after the calendar changes,
after a mark and after a change of settings, whether or not a job has run since.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rq import Queue
from sqlalchemy import delete, func, select

from service.adapters.db import Database
from service.adapters.secrets import SecretBox
from service.config import Settings
from service.models import DashboardPlan, User
from tests.factories import CAROL, DAN, ERIN, add_feed, time_passes
from tests.feed_server import SECRET_PATH, Feed, FeedServer
from tests.web.forms import csrf_token
from tests.workers.jobs import synced, work
from tests.workers.test_dashboard_days import CAREER_FRANK, MENTORING, calendar, event
from workers.notes import enqueue_plan

QUEUES = ("sync", "notes")  # a sync enqueues the planning of its user's notes

LUNCH_CAROL = event("lunch-carol@test", "Lunch with Carol", -2, CAROL, hour=11)
COFFEE_ERIN = event("coffee-erin-ahead@test", "Coffee with Erin", -3, ERIN)
SYNC_DAN = event("sync-dan@test", "Sync with Dan", -4, DAN, hour=14)
CAREER_DAN = event("career-dan-ahead@test", "Career conversation with Dan", -5, DAN)


def upcoming(page: str) -> str:
    """Return what the page says about the next 14 days: the clock, timeline and list (the
    marks' own list left out)."""
    start = page.find("Your last career conversation")
    ends = [page.find(mark) for mark in ("<h2>Your marks</h2>", 'id="reflection-log"')]
    end = min(at for at in ends if at != -1)
    assert start != -1
    assert end > start
    return page[start:end]


def computed_from_events(database: Database, read: Callable[[], str]) -> str:
    """Return the page with the kept plan dropped: the request plans the days itself."""
    with database.unit() as session:
        session.execute(delete(DashboardPlan))
    return read()


def kept_plans(database: Database) -> int:
    with database.unit() as session:
        return session.scalar(select(func.count()).select_from(DashboardPlan)) or 0


def planned(queues: list[Queue]) -> None:
    """Run the sync that is due and the planning job it enqueues."""
    assert synced(queues[0]) == ["updated"]
    work(queues[1])


def test_the_kept_plan_follows_the_calendar(
    settings: Settings,
    database: Database,
    box: SecretBox,
    alice_id: int,
    feeds: FeedServer,
    queues: list[Queue],
    alice_page: Callable[[], str],
) -> None:
    feeds.feeds[SECRET_PATH] = Feed(
        calendar(MENTORING, CAREER_FRANK, LUNCH_CAROL, COFFEE_ERIN), etag='"v1"'
    )
    connection_id = add_feed(database, box, alice_id, feeds.url())
    planned(queues)
    assert kept_plans(database) == 1

    before = alice_page()
    assert "Lunch with Carol" in upcoming(before)
    assert "Coffee with Erin" in upcoming(before)
    assert "Your last career conversation was 10 days ago" in before
    assert before == computed_from_events(database, alice_page)
    enqueue_plan(settings, alice_id)  # kept again (the comparison dropped it)
    work(queues[1])
    assert kept_plans(database) == 1

    # Erin's coffee is cancelled, a career conversation with Dan is booked ahead.
    feeds.feeds[SECRET_PATH] = Feed(
        calendar(MENTORING, CAREER_FRANK, LUNCH_CAROL, CAREER_DAN), etag='"v2"'
    )
    time_passes(database, connection_id)
    assert synced(queues[0]) == ["updated"]
    assert kept_plans(database) == 0  # the sync that changed the events dropped it
    synced_only = alice_page()  # no planning job yet: the request plans the days itself
    assert "Coffee with Erin" not in upcoming(synced_only)
    assert "Career conversation with Dan" in upcoming(synced_only)

    work(queues[1])
    assert kept_plans(database) == 1
    after = alice_page()  # now with the prep notes the job wrote
    assert "Coffee with Erin" not in upcoming(after)
    assert "Career conversation with Dan" in upcoming(after)
    assert after == computed_from_events(database, alice_page)


def test_a_mark_is_followed_before_the_job_plans_again(
    database: Database,
    box: SecretBox,
    alice_id: int,
    feeds: FeedServer,
    queues: list[Queue],
    client: Any,
    alice_page: Callable[[], str],
) -> None:
    feeds.feeds[SECRET_PATH] = Feed(calendar(MENTORING, CAREER_FRANK, LUNCH_CAROL, COFFEE_ERIN))
    add_feed(database, box, alice_id, feeds.url())
    planned(queues)
    assert "Lunch with Carol" in upcoming(alice_page())

    form = {"uid": "lunch-carol@test", "kind": "none"}
    token = csrf_token(client.get("/").get_data(as_text=True))
    assert client.post("/marks", data={**form, "csrf_token": token}).status_code == 302
    alice_page()  # the page that shows "Marked ..." once

    marked = alice_page()  # the kept plan is still there, for the marks before this one
    assert kept_plans(database) == 1
    assert "Lunch with Carol" not in upcoming(marked)
    assert "Coffee with Erin" in upcoming(marked)
    assert marked == computed_from_events(database, alice_page)

    work(queues[1])  # the planning job the mark enqueued keeps the plan again
    assert kept_plans(database) == 1
    assert alice_page() == marked


def test_changed_settings_are_followed_before_the_job_plans_again(
    settings: Settings,
    database: Database,
    box: SecretBox,
    alice_id: int,
    feeds: FeedServer,
    queues: list[Queue],
    alice_page: Callable[[], str],
) -> None:
    feeds.feeds[SECRET_PATH] = Feed(calendar(MENTORING, CAREER_FRANK, SYNC_DAN, COFFEE_ERIN))
    add_feed(database, box, alice_id, feeds.url())
    planned(queues)
    before = upcoming(alice_page())

    with database.unit() as session:  # Dan becomes Alice's manager, as Settings would save
        session.get_one(User, alice_id).manager_email = DAN
    changed = alice_page()
    assert kept_plans(database) == 1  # kept for the settings before
    assert "with your manager" in upcoming(changed)
    assert "with your manager" not in before
    assert changed == computed_from_events(database, alice_page)

    enqueue_plan(settings, alice_id)  # as saving Settings does
    work(queues[1])
    assert kept_plans(database) == 1
    after = alice_page()  # with the notes planned again for Dan as manager
    assert "with your manager" in upcoming(after)
    assert after == computed_from_events(database, alice_page)
