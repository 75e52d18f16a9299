"""What people do in a real browser: sign in by email, connect a calendar, set up, answer a
proposal, connect Google. Each test follows one person and checks what they see at each step."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flask import Flask

from service.models import User
from service.sources.connect import connect_ics_upload
from service.web.extensions import db
from tests.browser.conftest import SIZES, Axe, Tabs
from tests.factories import ALICE, CAROL, DAN, ERIN
from tests.google_server import FakeGoogle
from tests.smtp_server import SmtpServer

pytestmark = pytest.mark.browser

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips these tests (fails them in CI) and says why
    expect = None

if TYPE_CHECKING:
    from playwright.sync_api import Page

Shoot = Callable[["Page", str], None]
EN_DASH = "\u2013"


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _event(uid: str, title: str, start: datetime, minutes: int, *people: str) -> str:
    attendees = "".join(
        f"ATTENDEE;CN={email.split('@')[0].title()} Example;PARTSTAT=ACCEPTED:mailto:{email}\r\n"
        for email in (ALICE, *people)
    )
    return (
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:{_stamp(start)}\r\nDTSTART:{_stamp(start)}\r\n"
        f"DTEND:{_stamp(start + timedelta(minutes=minutes))}\r\nSUMMARY:{title}\r\n"
        f"ORGANIZER:mailto:{ALICE}\r\n{attendees}END:VEVENT\r\n"
    )


def alice_calendar(now: datetime) -> str:
    """Return alice's week as an .ics export: a lunch, a coffee, focus time, an old mentoring."""
    day = now.replace(hour=0)
    events = [
        _event("lunch@test", "Lunch with Carol", day.replace(hour=12), 60, CAROL),
        _event("coffee@test", "Coffee with Dan", day + timedelta(days=1, hours=15), 30, DAN),
        _event("focus@test", "Focus time", day + timedelta(days=2, hours=9), 120),
        _event("mentoring@test", "Mentoring with Erin", mentoring(now), 45, ERIN),
    ]
    header = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
    return header + "".join(events) + "END:VCALENDAR\r\n"


def mentoring(now: datetime) -> datetime:
    """Return when alice last had a career conversation: 75 days before now, past the 60 max."""
    return (now - timedelta(days=75)).replace(hour=9)


def sign_in_by_email(
    page: Page,
    live_server: str,
    smtp: SmtpServer,
    shoot: Shoot = lambda _page, _name: None,
    axe: Axe | None = None,
    lands: str = "/",
) -> None:
    """Sign in as alice with the link emailed to the loopback SMTP server; end where it lands."""
    before = len(smtp.messages)
    page.goto(live_server + "/")
    expect(page).to_have_url(re.compile(re.escape(live_server + "/signin")))
    shoot(page, "signin")
    checked(axe, page, "signin")
    page.get_by_label("Email address").fill("Alice@Example.com")
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    expect(page.get_by_text(f"We sent a sign-in link to {ALICE}.")).to_be_visible()
    shoot(page, "check-your-inbox")
    checked(axe, page, "check-your-inbox")
    page.goto(emailed_link(smtp, live_server + "/signin/", count=before + 1))
    checked(axe, page, "sign-in-button")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(live_server + lands)


def checked(axe: Axe | None, page: Page, name: str) -> None:
    if axe is not None:
        axe.check(page, name)


def text_of(smtp: SmtpServer, count: int) -> str:
    """Wait for the count-th email to arrive; return its plain-text part."""
    body = smtp.wait_for(count)[count - 1].get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def emailed_link(smtp: SmtpServer, prefix: str, count: int = 1) -> str:
    """Wait for the count-th email; return the first link starting with prefix in its text."""
    found = re.search(re.escape(prefix) + r"\S+", text_of(smtp, count))
    assert found, f"no {prefix} link in the email"
    return found.group(0)


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_a_new_user_is_guided_through_three_steps_to_a_preview_and_the_dashboard(
    tabs: Tabs,
    live_server: str,
    smtp_server: SmtpServer,
    screenshots: Path,
    axe: Axe,
    now: datetime,
    tmp_path: Path,
    size: str,
) -> None:
    page = tabs.open(SIZES[size])
    snap = _at_size(screenshots, size)
    sign_in_by_email(page, live_server, smtp_server, snap, axe, lands="/welcome")
    assert smtp_server.recipients == [[ALICE]]

    # Step 1: connect
    expect(page.get_by_role("heading", name="Connect your work calendar")).to_be_visible()
    expect(page.locator('[aria-current="step"]')).to_contain_text("Connect your calendar")
    snap(page, "welcome-connect")
    axe.check(page, "welcome-connect")
    export = tmp_path / "alice.ics"
    export.write_text(alice_calendar(now), newline="")
    page.get_by_label("An .ics file").set_input_files(export)
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_text("Connected: alice.ics")).to_be_visible()
    expect(page.get_by_text("Connected: 4 events")).to_be_visible()
    snap(page, "welcome-connected")
    axe.check(page, "welcome-connected")
    page.get_by_role("link", name="Next: check who you are").click()

    # Step 2: who you are, hours, zone (the browser's zone first, and chosen)
    expect(page.get_by_role("heading", name="Check who you are")).to_be_visible()
    expect(page.get_by_text(f"You are signed in as {ALICE}")).to_be_visible()
    expect(page.locator("#tz")).to_have_value("Europe/Berlin")  # detected from the browser
    expect(page.get_by_text("Detected from your browser: Europe/Berlin")).to_be_visible()
    first = page.locator("#tz optgroup").first
    expect(first).to_have_attribute("label", "Your browser's time zone")
    page.get_by_label("Working hours from").fill("10:00")
    page.get_by_label("to", exact=True).fill("16:00")
    snap(page, "welcome-you")
    axe.check(page, "welcome-you")
    page.get_by_role("button", name="Save and continue").click()

    # Step 3: stage and goal
    expect(
        page.get_by_role("heading", name="Where are you, and where do you want to go?")
    ).to_be_visible()
    page.get_by_label("Looking for a move inside the company").check()
    page.get_by_label("Your goal, in your own words").fill("Join the data platform team")
    snap(page, "welcome-goal")
    axe.check(page, "welcome-goal")
    page.get_by_role("button", name="Save and see your first week").click()

    # The preview: the first week's touchpoints and notes, before anything is sent
    expect(page.get_by_role("heading", name="Your first week with Touchpoint")).to_be_visible()
    expect(page.get_by_text("nothing has gone out yet")).to_be_visible()
    lunch = page.locator("article", has_text="Lunch with Carol")
    note = lunch.locator("details li").all_inner_texts()
    assert any("what other teams need" in line for line in note), note  # the internal move
    expect(page.locator("article", has_text="Coffee with Dan")).to_be_visible()
    expect(page.get_by_text("Focus time")).to_have_count(0)
    assert smtp_server.recipients == [[ALICE]]  # still only the sign-in link
    snap(page, "welcome-ready")
    axe.check(page, "welcome-ready")
    page.get_by_role("link", name="Looks right: go to your dashboard").click()

    days = (now.astimezone(UTC) - mentoring(now).astimezone(UTC)).days
    expect(page.get_by_text(f"Your last career conversation was {days} days ago.")).to_be_visible()
    expect(page.get_by_text("A career conversation is due.")).to_be_visible()
    lunch = page.locator("article", has_text="Lunch with Carol")
    expect(lunch.locator(".tp-when")).to_have_text(f"Today · 12:00{EN_DASH}13:00")
    expect(lunch.get_by_text("At lunch with Carol")).to_be_hidden()  # folded until opened
    lunch.locator("summary").click()
    note = lunch.locator("details li").all_inner_texts()
    assert any("Carol" in line for line in note), note
    expect(page.get_by_text("Suggested: 15 minutes with Carol Example")).to_be_visible()
    suggested = page.locator(".times li").all_inner_texts()
    assert suggested
    for text in suggested:  # inside the hours saved in step 2
        assert "10:00" <= re.findall(r"\d\d:\d\d", text)[-1] <= "15:45", text
    snap(page, "dashboard")
    axe.check(page, "dashboard")

    page.goto(live_server + "/settings")
    expect(page.get_by_label("Working hours from")).to_have_value("10:00")
    expect(page.get_by_label("Where you are")).to_have_value("internal_move")
    snap(page, "settings")
    axe.check(page, "settings")
    assert not tabs.problems


def _at_size(folder: Path, size: str) -> Shoot:
    """Save each step as the person at this size sees it: journey-<size>-<step>.png."""
    return lambda page, name: page.screenshot(
        path=folder / f"journey-{size}-{name}.png", full_page=True
    )


def seed_alice(app: Flask, calendar: str) -> None:
    """Store alice, set up for an internal move in Berlin, with her calendar uploaded."""
    with app.app_context():
        user = User(email=ALICE, tz="Europe/Berlin", stage="internal_move")
        db.session.add(user)
        settings, data = app.extensions["touchpoint"], calendar.encode()
        # Connecting reads the real clock, as the connect page does.
        connect_ics_upload(db.session(), settings, user, "a.ics", data, datetime.now(UTC))
        db.session.commit()


def test_a_proposal_emailed_from_the_dashboard_is_accepted_from_its_link_signed_out(
    tabs: Tabs,
    axe: Axe,
    live_server: str,
    live_app: Flask,
    smtp_server: SmtpServer,
    shoot: Shoot,
    now: datetime,
) -> None:
    seed_alice(live_app, alice_calendar(now))
    page = tabs.open()
    sign_in_by_email(page, live_server, smtp_server, axe=axe)
    axe.check(page, "dashboard-with-suggestion")
    page.get_by_role("button", name="Email me this proposal").click()
    expect(page.get_by_text("Sent: check your email for three times with Carol.")).to_be_visible()
    accept = emailed_link(smtp_server, live_server + "/p/", count=2)
    assert accept.endswith("?slot=1")

    signed_out = tabs.open()
    signed_out.goto(accept)
    expect(
        signed_out.get_by_role("heading", name="A 15-minute career chat with Carol")
    ).to_be_visible()
    times = signed_out.locator("fieldset label")
    expect(times).to_have_count(3)
    expect(times.first.get_by_role("radio")).to_be_checked()  # the time whose link was opened
    shoot(signed_out, "proposal")
    axe.check(signed_out, "proposal")
    times.nth(1).get_by_role("radio").check()
    chosen = times.nth(1).inner_text().strip()
    assert chosen in text_of(smtp_server, 2)  # the page offers the times the email listed
    signed_out.get_by_role("button", name="Book it").click()
    expect(signed_out.get_by_text(f"Chosen: {chosen} with Carol")).to_be_visible()
    shoot(signed_out, "proposal-answered")
    axe.check(signed_out, "proposal-answered")
    expect(signed_out.get_by_role("link", name="Open your dashboard")).to_be_visible()  # next step

    signed_out.goto(accept)
    expect(signed_out.get_by_role("heading", name="You already answered")).to_be_visible()
    expect(signed_out.get_by_text(f"Chosen: {chosen} with Carol")).to_be_visible()
    expect(signed_out.get_by_role("button", name="Book it")).to_have_count(0)
    assert not tabs.problems


def test_a_new_user_signs_in_with_google_and_sees_a_google_event_as_a_touchpoint(
    tabs: Tabs, live_server: str, google_server: FakeGoogle, shoot: Shoot, now: datetime
) -> None:
    start = now.replace(hour=11) + timedelta(days=1)
    google_server.add_event(
        ALICE,
        {
            "summary": "Coffee with Carol",
            "start": {"dateTime": start.isoformat(), "timeZone": "Europe/Berlin"},
            "end": {"dateTime": (start + timedelta(minutes=30)).isoformat()},
            "organizer": {"email": ALICE},
            "attendees": [
                {"email": ALICE, "responseStatus": "accepted", "self": True},
                {"email": CAROL, "displayName": "Carol Example", "responseStatus": "accepted"},
            ],
        },
    )
    google_server.consent(email=ALICE)
    page = tabs.open()

    page.goto(live_server + "/signin")
    page.get_by_role("link", name="Sign in with Google").click()
    expect(page).to_have_url(re.compile(re.escape(google_server.auth_uri)))
    expect(
        page.get_by_role("heading", name="Touchpoint wants to access your Google Account")
    ).to_be_visible()
    shoot(page, "google-consent")
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(live_server + "/welcome/you")  # connected with Google: on to step 2
    expect(page.get_by_text(f"Connected Google Calendar {ALICE}: 1 event")).to_be_visible()
    expect(page.get_by_role("heading", name="Check who you are")).to_be_visible()
    page.get_by_role("link", name="Touchpoint: your dashboard").click()

    coffee = page.locator("article", has_text="Coffee with Carol")
    expect(coffee.get_by_text("Coffee", exact=True)).to_be_visible()  # the kind
    coffee.locator("summary").click()  # the note is folded until opened
    assert "Carol" in " ".join(coffee.locator("details li").all_inner_texts())
    shoot(page, "dashboard-google")
    assert not tabs.problems
