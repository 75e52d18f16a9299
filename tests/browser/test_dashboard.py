"""The dashboard of the bundled sample calendar in a real browser, on a laptop and a phone.

The clock is frozen at Monday 2 March 2026, 08:00 in Berlin: the sample's own week.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flask import Flask

from service.models import User
from service.sources.connect import connect_ics_upload
from service.web.extensions import db
from tests.browser.conftest import LAPTOP, PHONE, Axe, Tabs
from tests.browser.test_journeys import sign_in_by_email
from tests.factories import ALICE, BERLIN, BOB
from tests.smtp_server import SmtpServer

pytestmark = pytest.mark.browser

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips these tests (fails them in CI) and says why
    expect = None

if TYPE_CHECKING:
    from playwright.sync_api import Page

SAMPLE = Path(__file__).resolve().parents[2] / "service" / "samples" / "alice.ics"
Shoot = Callable[["Page", str], None]


@pytest.fixture
def now() -> datetime:
    """Monday 2 March 2026, 08:00 in Berlin: the week the sample calendar is about."""
    return datetime(2026, 3, 2, 8, 0, tzinfo=BERLIN)


def seed_sample(app: Flask, now: datetime) -> None:
    """Store alice (manager bob, in Berlin) with the sample calendar uploaded at `now`."""
    with app.app_context():
        user = User(email=ALICE, tz="Europe/Berlin", manager_email=BOB, stage="internal_move")
        db.session.add(user)
        settings = app.extensions["touchpoint"]
        connect_ics_upload(db.session(), settings, user, "alice.ics", SAMPLE.read_bytes(), now)
        db.session.commit()


def first_week_boxes(page: Page) -> list[dict[str, float]]:
    boxes = [day.bounding_box() for day in page.locator('.timeline[data-week="1"] > .day').all()]
    assert len(boxes) == 7
    return [box for box in boxes if box is not None]


def test_the_next_seven_days_fit_one_laptop_screen_above_the_fold(
    tabs: Tabs,
    live_server: str,
    live_app: Flask,
    smtp_server: SmtpServer,
    shoot: Shoot,
    screenshots: Path,
    axe: Axe,
    now: datetime,
) -> None:
    seed_sample(live_app, now)
    page = tabs.open(LAPTOP)
    sign_in_by_email(page, live_server, smtp_server)

    boxes = first_week_boxes(page)
    assert len({round(box["x"]) for box in boxes}) == 7  # seven day columns side by side
    assert len({round(box["y"]) for box in boxes}) == 1
    for box in boxes:  # every day of the week ahead, whole, in the first 800 pixels
        assert box["y"] + box["height"] <= LAPTOP["height"], box
    week = page.locator('.timeline[data-week="1"]')
    chips = week.locator(".chip")
    titles = chips.all_inner_texts()
    for title in ("Alice / Bob 1:1", "Lunch w/ Carol", "Kaffee mit Dan", "Atlas design review"):
        assert any(title in text for text in titles), titles
    for chip in chips.all():
        box = chip.bounding_box()
        assert box is not None
        assert box["y"] + box["height"] <= LAPTOP["height"], box
    lunch = week.locator(".day", has_text="Lunch w/ Carol")
    expect(lunch.locator(".day-name")).to_contain_text("Wed")
    expect(lunch.locator(".chip.kind-meal")).to_contain_text("12:00")  # marked by kind
    page.screenshot(path=screenshots / "dashboard-sample-laptop-fold.png")  # the fold, as seen
    axe.check(page, "dashboard-sample")

    # A card per touchpoint, its note folded until opened; the chip leads to it.
    lunch.locator(".chip", has_text="Lunch").click()
    card = page.locator("article.tp", has_text="Lunch w/ Carol")
    expect(card.locator("li").first).to_be_hidden()
    card.locator("summary").click()
    expect(card.locator("li").first).to_be_visible()
    expect(page.get_by_role("heading", name="Your people")).to_be_visible()
    expect(page.locator(".person", has_text="Bob")).to_contain_text("Your manager")
    expect(page.locator(".person", has_text="Grace")).to_contain_text("Last career conversation")
    expect(page.get_by_role("img", name="Who you talked to this past year")).to_be_visible()
    shoot(page, "dashboard-sample")
    assert not tabs.problems


def test_on_a_phone_the_days_are_a_list_and_the_navigation_one_line(
    tabs: Tabs,
    live_server: str,
    live_app: Flask,
    smtp_server: SmtpServer,
    screenshots: Path,
    axe: Axe,
    now: datetime,
) -> None:
    seed_sample(live_app, now)
    page = tabs.open(PHONE)
    sign_in_by_email(page, live_server, smtp_server)

    links = page.locator("nav.main a")
    tops = {round(box["y"]) for box in (a.bounding_box() for a in links.all()) if box}
    assert len(tops) == 1, tops  # one line
    for link in links.all():
        if link.is_visible():  # none hides past the edge of the screen
            box = link.bounding_box()
            assert box is not None
            assert box["x"] + box["width"] <= PHONE["width"], box
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"]  # nothing makes the page scroll sideways
    days = [d.bounding_box() for d in page.locator(".timeline .day").all() if d.is_visible()]
    assert len({round(box["x"]) for box in days if box}) == 1  # a list of days
    expect(page.locator(".timeline .day").first).to_contain_text("Today")
    axe.check(page, "dashboard-sample")

    # By keyboard: the first Tab offers to skip to the content; a card opens with Enter.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to the content")
    expect(skip).to_be_focused()
    assert skip.evaluate("(node) => getComputedStyle(node).outlineStyle") == "solid"  # seen
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    card = page.locator("article.tp", has_text="Lunch w/ Carol")
    card.locator("summary").focus()
    page.keyboard.press("Enter")
    expect(card.locator("li").first).to_be_visible()
    page.screenshot(path=screenshots / "dashboard-sample-phone-screen.png")  # the first screen
    page.screenshot(path=screenshots / "dashboard-sample-phone.png", full_page=True)
    assert not tabs.problems


def test_the_dashboard_works_without_javascript(
    tabs: Tabs, live_server: str, live_app: Flask, smtp_server: SmtpServer, now: datetime
) -> None:
    seed_sample(live_app, now)
    page = tabs.open(LAPTOP, script=False)
    sign_in_by_email(page, live_server, smtp_server)

    expect(page.locator(".chip", has_text="Lunch w/ Carol")).to_be_visible()
    card = page.locator("article.tp", has_text="Lunch w/ Carol")
    card.locator("summary").click()  # <details> opens by itself
    expect(card.locator("li").first).to_be_visible()
    page.get_by_role("link", name="Settings").click()
    expect(page.locator("#tz")).to_have_value("Europe/Berlin")
    expect(page.locator('#tz optgroup[label="Europe"] option[value="Europe/Berlin"]')).to_have_text(
        "Berlin"
    )
