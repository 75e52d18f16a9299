"""The first hour: three steps after the first sign-in, a preview, and a calendar that is checked
(empty, old, someone else's) with a sentence that says what to do."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from html import unescape
from typing import Any

import pytest
from sqlalchemy import select

from service.models import OutboxEmail, User
from service.web.extensions import db
from tests.factories import ALICE, BOB, CAROL, DAN, NOW, at
from tests.web.forms import post_form, sign_in_as


@pytest.fixture
def frozen(app: Any) -> Any:
    app.config["NOW"] = lambda: NOW
    return app


def stamp(moment: datetime) -> str:
    return moment.astimezone(NOW.tzinfo).strftime("%Y%m%dT%H%M%S")


def calendar(*events: tuple[str, datetime, tuple[str, ...]], organizer: str = ALICE) -> bytes:
    """Return an .ics export with one event per (title, start, people), organised by organizer."""
    body = []
    for n, (title, start, people) in enumerate(events):
        attendees = "".join(
            f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{email}\r\n" for email in (organizer, *people)
        )
        end = start + timedelta(minutes=45)
        body.append(
            f"BEGIN:VEVENT\r\nUID:event-{n}@test\r\nDTSTAMP:20260101T000000Z\r\n"
            f"DTSTART;TZID=Europe/Berlin:{stamp(start)}\r\nDTEND;TZID=Europe/Berlin:{stamp(end)}\r\n"
            f"SUMMARY:{title}\r\nORGANIZER:mailto:{organizer}\r\n{attendees}END:VEVENT\r\n"
        )
    head = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
    return (head + "".join(body) + "END:VCALENDAR\r\n").encode()


ALICES_WEEK = calendar(
    ("Lunch with Carol", at(4, 12), (CAROL,)),
    ("Coffee with Dan", at(5, 15), (DAN,)),
    ("1:1 Alice / Bob", at(3, 14), (BOB,)),
)


def text(response: Any) -> str:
    """Return the page as a user reads it: no tags, entities decoded, white space as one."""
    return " ".join(unescape(re.sub(r"<[^>]*>", "", response.get_data(as_text=True))).split())


def upload(client: Any, data: bytes, name: str, then: str = "/welcome") -> Any:
    """Upload a calendar from the first step's form, as the browser sends it."""
    page = client.get("/welcome").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token
    files = {"csrf_token": token.group(1), "next": then}
    boundary = "touchpoint-test-boundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in files.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        f"Content-Type: text/calendar\r\n\r\n".encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return client.post(
        "/connect/upload",
        data=b"".join(parts),
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def user_row(app: Any, user_id: int) -> User:
    with app.app_context():
        return db.session.scalars(select(User).where(User.id == user_id)).one()


# The three steps and the preview -------------------------------------------------------------


def test_the_first_step_offers_the_ways_to_connect(frozen: Any, client: Any) -> None:
    sign_in_as(client, frozen, ALICE, tz="Europe/Berlin")

    response = client.get("/welcome")

    page = text(response)
    assert "Connect your work calendar" in page
    assert "Step 1 of 3: Connect your calendar" in page
    assert 'action="/connect/upload"' in response.text
    assert 'action="/connect/url"' in response.text
    assert "Skip for now" in page


def test_an_upload_from_the_first_step_comes_back_to_it_with_what_was_found(
    frozen: Any, client: Any
) -> None:
    sign_in_as(client, frozen, ALICE, tz="Europe/Berlin")

    response = upload(client, ALICES_WEEK, "alice.ics")

    assert response.status_code == 302
    assert response.headers["Location"] == "/welcome"
    page = text(client.get("/welcome"))
    assert "Connected: 3 events from the past year and the next two weeks." in page
    assert "Next: check who you are" in page
    assert "Needs a look" not in text(client.get("/connect"))


def test_an_upload_never_follows_a_next_address_off_the_site(frozen: Any, client: Any) -> None:
    sign_in_as(client, frozen, ALICE, tz="Europe/Berlin")

    response = upload(client, ALICES_WEEK, "alice.ics", then="//evil.example/")

    assert response.headers["Location"] == "/"


def test_step_two_saves_the_manager_hours_and_zone_then_leads_to_step_three(
    frozen: Any, client: Any
) -> None:
    user_id = sign_in_as(client, frozen, ALICE)
    page = text(client.get("/welcome/you"))
    assert f"You are signed in as {ALICE}." in page
    assert 'data-detect="yes"' in client.get("/welcome/you").get_data(as_text=True)

    answer = {"manager_email": "Bob@Example.com", "hours_start": "10:00", "hours_end": "16:00"}
    days = {"work_days": ["0", "1", "2", "3"], "tz": "America/Argentina/Buenos_Aires"}
    response = post_form(client, "/welcome/you", {**answer, **days})

    assert response.status_code == 302
    assert response.headers["Location"] == "/welcome/goal"
    user = user_row(frozen, user_id)
    assert (user.manager_email, user.hours_start, user.hours_end) == (BOB, "10:00", "16:00")
    assert (user.work_days, user.tz) == ("0,1,2,3", "America/Argentina/Buenos_Aires")


def test_step_two_shows_a_mistake_and_saves_nothing(frozen: Any, client: Any) -> None:
    user_id = sign_in_as(client, frozen, ALICE)

    answer = {"hours_start": "16:00", "hours_end": "10:00", "work_days": ["0"], "tz": "UTC"}
    response = post_form(client, "/welcome/you", answer)

    assert response.status_code == 422
    assert "The end of the day must come after its start." in text(response)
    assert user_row(frozen, user_id).hours_start == "09:00"


def test_step_three_saves_the_stage_and_goal_and_the_preview_shows_the_first_week(
    frozen: Any, client: Any
) -> None:
    user_id = sign_in_as(client, frozen, ALICE, tz="Europe/Berlin", manager_email=BOB)
    upload(client, ALICES_WEEK, "alice.ics")

    chosen = {"stage": "internal_move", "goal": "Join the data platform team"}
    response = post_form(client, "/welcome/goal", chosen)

    assert response.headers["Location"] == "/welcome/ready"
    user = user_row(frozen, user_id)
    assert (user.stage, user.goal) == ("internal_move", "Join the data platform team")
    page = text(client.get("/welcome/ready"))
    assert (
        "3 touchpoints in the next seven days. This is a preview: nothing has gone out yet." in page
    )
    assert "The first prep note reaches alice@example.com on Tue 3 Mar 13:00" in page
    assert "Lunch with Carol" in page
    assert "what other teams need" in page  # the note follows the stage just chosen
    assert "Looks right: go to your dashboard" in page


def test_the_preview_does_not_claim_nothing_was_sent_once_a_note_was(
    frozen: Any, client: Any
) -> None:
    user_id = sign_in_as(client, frozen, ALICE, tz="Europe/Berlin")
    upload(client, ALICES_WEEK, "alice.ics")
    with frozen.app_context():
        note = OutboxEmail(user_id=user_id, kind="prep_note", to=ALICE, subject="Prep", text="")
        note.message_id, note.sent_at = "<note@test>", NOW
        db.session.add(note)
        db.session.commit()

    page = text(client.get("/welcome/ready"))

    assert "3 touchpoints in the next seven days. Here they are with their prep notes." in page
    assert "nothing has gone out yet" not in page


def test_the_preview_without_a_calendar_leads_back_to_connecting(frozen: Any, client: Any) -> None:
    sign_in_as(client, frozen, ALICE)

    page = text(client.get("/welcome/ready"))

    assert "Connect a calendar and this page shows the touchpoints of your coming week" in page


def test_an_unknown_stage_is_refused(frozen: Any, client: Any) -> None:
    user_id = sign_in_as(client, frozen, ALICE)

    response = post_form(client, "/welcome/goal", {"stage": "astronaut"})

    assert response.status_code == 422
    assert user_row(frozen, user_id).stage == "growth"


def test_the_steps_need_a_signed_in_person(client: Any) -> None:
    for path in ("/welcome", "/welcome/you", "/welcome/goal", "/welcome/ready"):
        response = client.get(path)
        assert response.status_code == 302
        assert "/signin?next=" in response.headers["Location"]


# The calendar check --------------------------------------------------------------------------


def test_an_upload_without_events_says_so_and_is_not_shown_as_working(
    frozen: Any, client: Any
) -> None:
    sign_in_as(client, frozen, ALICE, tz="Europe/Berlin")

    upload(client, calendar(), "empty.ics")

    assert "empty.ics has no events in the past year or the coming two weeks" in text(
        client.get("/welcome")
    )
    connect = text(client.get("/connect"))
    assert "Needs a look" in connect
    assert "Working" not in connect
    assert "empty.ics has no events" in text(client.get("/"))


def test_an_upload_of_old_events_says_when_the_last_one_was(frozen: Any, client: Any) -> None:
    sign_in_as(client, frozen, ALICE, tz="Europe/Berlin")
    old = datetime(2019, 5, 3, 12, tzinfo=NOW.tzinfo)

    upload(client, calendar(("Lunch with Carol", old, (CAROL,))), "old.ics")

    page = text(client.get("/welcome"))
    assert "Every event in old.ics is old: the latest is on 3 May 2019." in page
    assert "Working" not in text(client.get("/connect"))


def test_an_export_with_nothing_ahead_looks_stale(frozen: Any, client: Any) -> None:
    sign_in_as(client, frozen, ALICE, tz="Europe/Berlin")

    upload(client, calendar(("Lunch with Carol", at(12, 12, month=1), (CAROL,))), "jan.ics")

    assert "jan.ics has nothing after 12 Jan 2026: it looks like an old export." in text(
        client.get("/welcome")
    )


def test_someone_elses_calendar_is_named_with_what_to_do(frozen: Any, client: Any) -> None:
    sign_in_as(client, frozen, ALICE, tz="Europe/Berlin")
    bobs = [(f"Meeting {n}", at(3 + n, 10), (CAROL,)) for n in range(6)]

    upload(client, calendar(*bobs, organizer=BOB), "bob.ics")

    said = "bob.ics looks like bob@example.com's calendar: you (alice@example.com) are on none"
    assert said in text(client.get("/welcome"))
    assert said in text(client.get("/welcome/you"))
    assert said in text(client.get("/connect"))
    assert said in text(client.get("/"))


def test_a_calendar_of_ones_own_is_not_questioned(frozen: Any, client: Any) -> None:
    sign_in_as(client, frozen, ALICE, tz="Europe/Berlin")
    mine = [(f"Meeting {n}", at(3 + n, 10), (CAROL,)) for n in range(6)]

    upload(client, calendar(*mine), "mine.ics")

    assert "looks like" not in text(client.get("/welcome"))


# Sign-in lands on the first steps; the local outbox; the picker; icons ------------------------


def test_the_check_your_inbox_page_points_to_the_local_outbox(client: Any) -> None:
    response = post_form(client, "/signin", {"email": ALICE}, follow_redirects=True)

    assert "it is in the local outbox" in text(response)
    assert '<a class="button" href="/outbox">Open the outbox</a>' in response.text


def test_the_check_your_inbox_page_names_no_outbox_from_another_machine(client: Any) -> None:
    client.environ_base["REMOTE_ADDR"] = "203.0.113.9"  # the outbox answers this machine only
    response = post_form(client, "/signin", {"email": ALICE}, follow_redirects=True)

    assert "Check your inbox" in text(response)
    assert "/outbox" not in response.text


def test_the_time_zone_picker_groups_cities_by_region(frozen: Any, client: Any) -> None:
    sign_in_as(client, frozen, ALICE, tz="US/Eastern")

    page = client.get("/settings").get_data(as_text=True)

    assert '<optgroup label="Europe">' in page
    assert '<option value="Europe/Berlin">Berlin</option>' in page
    assert (
        '<option value="America/Argentina/Buenos_Aires">Argentina / Buenos Aires</option>' in page
    )
    assert '<option selected value="US/Eastern">US/Eastern</option>' in page  # kept, under Other
    assert '<option value="US/Pacific">' not in page  # old aliases are not offered
    assert "localtime" not in page


def test_the_favicon_and_the_manifest_answer(client: Any) -> None:
    with client.get("/favicon.ico") as icon:
        assert icon.status_code == 200
        assert icon.mimetype == "image/vnd.microsoft.icon"
        assert icon.data[:4] == b"\x00\x00\x01\x00"  # an ICO file

    manifest = client.get("/manifest.webmanifest")
    assert manifest.mimetype == "application/manifest+json"
    body = json.loads(manifest.data)
    assert (body["name"], body["start_url"], body["display"]) == ("Touchpoint", "/", "standalone")
    for icon_entry in body["icons"]:
        with client.get(icon_entry["src"]) as answer:
            assert answer.status_code == 200
    page = client.get("/signin").get_data(as_text=True)
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page
    assert '<link rel="icon" href="/favicon.ico" sizes="32x32">' in page


def test_a_file_that_is_no_calendar_is_refused_on_the_first_step_itself(
    frozen: Any, client: Any
) -> None:
    sign_in_as(client, frozen, ALICE, tz="Europe/Berlin")

    response = upload(client, b"<html><body>Not a calendar</body></html>", "page.ics")

    assert response.status_code == 422
    page = text(response)
    assert "Step 1 of 3: Connect your calendar" in page
    assert "That file is a web page, not a calendar: export the calendar as .ics." in page
