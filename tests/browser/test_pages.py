"""Every page a person can reach, checked with axe-core at 390 and 1280 pixels, and the local
outbox on a laptop: the check-your-inbox page leads to it, its long links stay in their card."""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING

import pytest
from flask import Flask

from tests.browser.conftest import PHONE, SIZES, Axe, Tabs
from tests.browser.test_dashboard import seed_sample
from tests.browser.test_journeys import sign_in_by_email
from tests.factories import ALICE, BERLIN
from tests.smtp_server import SmtpServer

pytestmark = pytest.mark.browser

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips these tests (fails them in CI) and says why
    expect = None

if TYPE_CHECKING:
    from playwright.sync_api import Page

SIGNED_IN_PAGES = ("/", "/connect", "/settings", "/reflections", "/account", "/welcome",
                   "/welcome/you", "/welcome/goal", "/welcome/ready")  # fmt: skip


@pytest.fixture
def now() -> datetime:
    return datetime(2026, 3, 2, 8, 0, tzinfo=BERLIN)


def check_everywhere(page: Page, axe: Axe, base: str, paths: tuple[str, ...]) -> None:
    for path in paths:
        for label, size in SIZES.items():
            page.set_viewport_size(size)
            page.goto(base + path)
            axe.check(page, f"{path} ({label})")


def test_every_signed_in_page_has_no_serious_accessibility_problem(
    tabs: Tabs,
    live_server: str,
    live_app: Flask,
    smtp_server: SmtpServer,
    axe: Axe,
    now: datetime,
) -> None:
    seed_sample(live_app, now)
    page = tabs.open()
    sign_in_by_email(page, live_server, smtp_server)
    page.get_by_text("Add a few lines").click()  # the form is folded on the dashboard
    page.get_by_role("button", name="Add to my log").click()  # an empty entry: its error shown
    axe.check(page, "reflection refused")
    page.goto(live_server + "/reflections")
    page.get_by_label("What is going well").fill("Shipped the importer")
    page.get_by_role("button", name="Add to my log").click()
    page.get_by_role("link", name=re.compile(r"Mon 2 Mar")).first.click()
    axe.check(page, "reflection entry")
    page.get_by_text("Delete this entry…").click()  # asks before it deletes
    expect(page.get_by_role("button", name="Yes, delete it")).to_be_visible()
    axe.check(page, "reflection entry, confirming")

    check_everywhere(page, axe, live_server, SIGNED_IN_PAGES)
    page.goto(live_server + "/no/such/page")
    axe.check(page, "not found")
    assert axe.checked
    assert not axe.failures, "\n".join(axe.failures)
    assert not tabs.problems


def test_the_accessibility_check_finds_what_is_wrong_on_a_broken_page(
    tabs: Tabs, axe_source: str
) -> None:
    page = tabs.open()
    page.set_content('<html><body><input type="text"><img src="x.png"></body></html>')
    checker = Axe(axe_source)

    checker.check(page, "broken")

    found = " ".join(checker.failures)
    for rule in ("critical label", "critical image-alt", "serious html-has-lang"):
        assert rule in found, found


def test_signed_out_pages_have_no_serious_accessibility_problem(
    tabs: Tabs, live_server: str, axe: Axe
) -> None:
    page = tabs.open()
    check_everywhere(page, axe, live_server, ("/signin", "/signin/1.not-a-link"))
    assert not axe.failures, "\n".join(axe.failures)


def test_on_a_laptop_the_sign_in_email_is_found_in_the_outbox_and_fits_a_phone(
    tabs: Tabs, local_server: str, axe: Axe
) -> None:
    page = tabs.open(PHONE)
    page.goto(local_server + "/signin")
    page.get_by_label("Email address").fill(ALICE)
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_text("it is in the local outbox")).to_be_visible()
    axe.check(page, "check your inbox, local")
    page.get_by_role("link", name="Open the outbox").click()
    axe.check(page, "outbox")
    page.get_by_role("link", name="Your Touchpoint sign-in link").click()
    axe.check(page, "outbox email")

    card = page.locator(".card.note")
    widths = card.evaluate("(node) => [node.scrollWidth, node.clientWidth]")
    assert widths[0] <= widths[1], widths  # the long sign-in link wraps inside its card
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    card.get_by_role("link").first.click()
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Connect your work calendar")).to_be_visible()
    assert not axe.failures, "\n".join(axe.failures)
