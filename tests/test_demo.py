"""The demo of `touchpoint run --demo`: a sample user whose prep note and proposal come at once."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from service.adapters.db import Database
from service.calendars.ics import IcsCalendar
from service.config import Settings
from service.demo import DEMO_EMAIL, demo_calendar, load_demo, machine_zone
from service.models import OutboxEmail, PlannedNote, Proposal, StoredOccurrence, User
from service.models.proposals import offered_slots
from service.proposals import propose as proposing
from service.sources.calendar import plan_for_user, sync_span
from tests.factories import BERLIN, NOW, at
from tests.web.forms import post_form


def outbox_files(settings: Settings) -> list[str]:
    return sorted(p.name for p in settings.outbox_dir.glob("*.eml"))


def demo_user(database: Database) -> User:
    with database.unit() as session:
        return session.scalars(select(User).where(User.email == DEMO_EMAIL)).one()


def test_the_demo_calendar_puts_touchpoints_in_the_next_days_and_makes_a_chat_due(
    database: Database, settings: Settings
) -> None:
    load_demo(database, settings, NOW)  # Monday 2 March, 08:00 in Berlin

    with database.unit() as session:
        user = session.scalars(select(User).where(User.email == DEMO_EMAIL)).one()
        plan = plan_for_user(session, user, NOW)
        titles = session.scalars(select(StoredOccurrence.title)).all()
    found = [(tp.occurrence.title, tp.kind, tp.occurrence.start) for tp in plan.touchpoints]
    assert found[:4] == [
        ("Coffee with Dan", "coffee", at(2, 8, 40)),
        ("Lunch with Carol", "meal", at(3, 12)),
        ("1:1 Demo / Bob", "one_on_one", at(4, 10)),
        ("Atlas project review", "project", at(5, 15)),
    ]
    assert plan.cadence.due
    assert "Mentoring with Grace" in titles  # 70 days ago: too long for the 60-day maximum


def test_the_demo_sends_a_prep_note_and_a_proposal_to_the_outbox(
    database: Database, settings: Settings
) -> None:
    demo = load_demo(database, settings, NOW)

    assert (demo.created, demo.notes_sent, demo.proposal) == (True, 1, proposing.SENT)
    files = outbox_files(settings)
    assert [name.split(".")[0] for name in files] == ["prep_note", "proposal"]
    note = message_from_bytes((settings.outbox_dir / files[0]).read_bytes(), policy=policy.default)
    assert note["To"] == DEMO_EMAIL
    assert "coffee with Dan" in str(note["Subject"])
    with database.unit() as session:
        notes = session.execute(select(PlannedNote.title, PlannedNote.status)).all()
        unsent = session.scalar(select(func.count()).where(OutboxEmail.sent_at.is_(None)))
    assert ("Coffee with Dan", "sent") in notes
    assert ("Lunch with Carol", "planned") in notes  # due an hour before, tomorrow
    assert unsent == 0


def test_loading_the_demo_twice_adds_no_user_and_no_email(
    database: Database, settings: Settings
) -> None:
    load_demo(database, settings, NOW)
    files = outbox_files(settings)

    again = load_demo(database, settings, NOW + timedelta(minutes=10))

    assert (again.created, again.notes_sent, again.proposal) == (
        False,
        0,
        proposing.ALREADY_OPEN,
    )
    assert outbox_files(settings) == files
    with database.unit() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 1
        assert session.scalar(select(func.count()).select_from(OutboxEmail)) == 2


def test_the_printed_link_opens_a_dashboard_with_the_demo_touchpoints_and_proposal(
    database: Database, settings: Settings, client: Any
) -> None:
    demo = load_demo(database, settings, datetime.now(UTC))

    signed_in = post_form(client, urlsplit(demo.sign_in_link).path, {})

    assert signed_in.status_code == 302
    assert f"You are signed in as <strong>{DEMO_EMAIL}</strong>" in client.get("/signin").text
    dashboard = client.get("/").text
    assert "Lunch with Carol" in dashboard
    assert "Open proposals" in dashboard


@pytest.mark.parametrize(
    ("now", "lunch"),
    [
        (NOW, at(3, 12)),  # Monday: lunch on Tuesday
        (at(6, 8), at(9, 12)),  # Friday: lunch on Monday
        (at(7, 23, 30), at(9, 12)),  # Saturday night: still Monday
    ],
)
def test_lunch_is_on_the_next_working_day(now: datetime, lunch: datetime) -> None:
    calendar = IcsCalendar.from_bytes(demo_calendar(now, BERLIN))

    occurrences = calendar.occurrences(*sync_span(now), BERLIN, DEMO_EMAIL)

    starts = {o.title: o.start for o in occurrences if isinstance(o.start, datetime)}
    assert starts["Lunch with Carol"] == lunch


@pytest.mark.parametrize(
    ("now", "coffee"),
    [
        (NOW, at(2, 8, 40)),  # Monday 08:00: within the hour
        (at(4, 15), at(4, 15, 40)),  # Wednesday afternoon: within the hour
        (at(4, 17, 30), at(5, 9)),  # Wednesday evening: Thursday morning
        (at(5, 2, 30), at(5, 9)),  # Thursday at night: that morning
        (at(6, 23, 50), at(9, 9)),  # Friday night: Monday morning
        (at(7, 5), at(9, 9)),  # Saturday early: Monday morning
        (at(8, 14), at(9, 9)),  # Sunday afternoon: Monday morning
    ],
)
def test_the_coffee_is_never_at_night_or_on_a_weekend(now: datetime, coffee: datetime) -> None:
    calendar = IcsCalendar.from_bytes(demo_calendar(now, BERLIN))

    occurrences = calendar.occurrences(*sync_span(now), BERLIN, DEMO_EMAIL)

    (start,) = [o.start for o in occurrences if o.title == "Coffee with Dan"]
    assert start == coffee
    assert isinstance(start, datetime)
    assert start.weekday() < 5
    assert 8 <= start.hour < 18


@pytest.mark.parametrize("now", [at(7, 3), at(7, 13), at(8, 22), at(4, 23, 45), at(5, 4)])
def test_the_demo_proposes_no_time_at_night_or_on_a_weekend_whenever_it_starts(
    now: datetime, database: Database, settings: Settings
) -> None:
    load_demo(database, settings, now)

    with database.unit() as session:
        proposal = session.scalars(select(Proposal)).one()
        notes = session.execute(select(PlannedNote.start, PlannedNote.status)).all()
    for start, _end in offered_slots(proposal):
        local = start.astimezone(BERLIN)
        assert local.weekday() < 5, local
        assert 9 <= local.hour < 18, local
    assert any(status == "sent" for _start, status in notes)  # a note to read at once
    for start, _status in notes:
        local = start.astimezone(BERLIN)
        assert local.weekday() < 5, local
        assert 8 <= local.hour < 18, local


@pytest.mark.parametrize(
    ("target", "zone"),
    [
        ("/usr/share/zoneinfo/America/New_York", "America/New_York"),
        ("/var/db/timezone/zoneinfo/Asia/Tokyo", "Asia/Tokyo"),  # macOS
        ("/usr/share/zoneinfo/Etc/UTC", "Europe/Berlin"),  # servers: UTC says nothing
        ("/usr/share/zoneinfo/Not/A_Zone", "Europe/Berlin"),
    ],
)
def test_the_demo_user_lives_in_this_machines_zone(tmp_path: Path, target: str, zone: str) -> None:
    os.symlink(target, tmp_path / "localtime")

    assert machine_zone(tmp_path / "localtime") == ZoneInfo(zone)


def test_a_machine_zone_named_in_etc_timezone_counts_too(tmp_path: Path) -> None:
    (tmp_path / "localtime").write_bytes(b"TZif")
    (tmp_path / "timezone").write_text("Europe/Lisbon\n")

    assert machine_zone(tmp_path / "localtime") == ZoneInfo("Europe/Lisbon")
    assert machine_zone(tmp_path / "elsewhere" / "localtime") == ZoneInfo("Europe/Berlin")
