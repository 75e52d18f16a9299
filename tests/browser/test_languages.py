"""The pages in the longest languages on a 390-pixel phone, as their readers see them (issue 12).

German compounds ("Vorbereitungsnotizen", "Karrieregespräche"), Italian's and Portuguese's longer
navigation: nothing may push the page sideways, the four links of the navigation stay on one line
inside the screen, and no English is left on the page (the touchpoint cards' "Open" corner is
drawn by the stylesheet, out of reach of the catalog tests that read the HTML).
The clock is frozen at Monday 2 March 2026, 08:00 in Berlin: the sample calendar's own week.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from sqlalchemy import select

from service.models import User
from service.web.extensions import db
from tests.browser.conftest import PHONE, Tabs
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

# What the reader of each language sees: the navigation, the card's corner, a date on the page.
WORDS = {
    "de": (("Kalender", "Einstellungen", "Reflexionen", "Konto"), "Öffnen", "Mi., 4. März"),
    "fr": (("Agendas", "Paramètres", "Réflexions", "Compte"), "Ouvrir", "mer. 4 mars"),
    "pt": (("Agendas", "Configurações", "Reflexões", "Conta"), "Abrir", "qua., 4 de março"),
    "it": (("Calendari", "Impostazioni", "Riflessioni", "Account"), "Apri", "mer 4 marzo"),
}


@pytest.fixture
def now() -> datetime:
    """Monday 2 March 2026, 08:00 in Berlin: the week the sample calendar is about."""
    return datetime(2026, 3, 2, 8, 0, tzinfo=BERLIN)


def speaking(app: Flask, now: datetime, code: str) -> None:
    """Store alice with the sample calendar, her language set to code."""
    seed_sample(app, now)
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == ALICE)).one()
        user.language = code
        db.session.commit()


def overflow(page: Page) -> dict[str, float]:
    """Return how wide the page and its navigation are against the screen."""
    return page.evaluate(
        """() => {
          const nav = document.querySelector("nav.main");
          const links = [...nav.querySelectorAll("a")].filter((a) => a.offsetParent !== null);
          return {
            page: document.documentElement.scrollWidth, screen: innerWidth,
            nav: nav.scrollWidth, navBox: nav.clientWidth,
            right: Math.max(...links.map((a) => a.getBoundingClientRect().right)),
            lines: new Set(links.map((a) => Math.round(a.getBoundingClientRect().top))).size,
          };
        }"""
    )


def widest(page: Page) -> list[str]:
    """Name the elements that reach past the right edge of the screen (for the failure)."""
    return page.evaluate(
        """() => {
          const found = [];
          const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
          for (let text = walker.nextNode(); text; text = walker.nextNode()) {
            const range = document.createRange();
            range.selectNodeContents(text);
            const right = range.getBoundingClientRect().right;
            if (right > innerWidth + 0.5) {
              const node = text.parentElement;
              found.push(`${node.tagName.toLowerCase()}.${node.className}: ${text.data.trim()}`);
            }
          }
          return found.slice(0, 5);
        }"""
    )


def assert_fits(page: Page, where: str) -> None:
    seen = overflow(page)
    assert seen["page"] <= seen["screen"], f"{where} scrolls sideways: {seen} {widest(page)}"
    assert seen["nav"] <= seen["navBox"], f"{where}: the navigation hides a link: {seen}"
    assert seen["right"] <= seen["screen"], f"{where}: a link is past the edge: {seen}"
    assert seen["lines"] == 1, f"{where}: the navigation wraps: {seen}"


def test_the_german_dashboard_fits_a_phone_with_its_navigation_on_one_line(
    tabs: Tabs,
    live_server: str,
    live_app: Flask,
    smtp_server: SmtpServer,
    screenshots: Path,
    now: datetime,
) -> None:
    speaking(live_app, now, "de")
    page = tabs.open(PHONE)
    sign_in_by_email(page, live_server, smtp_server)

    expect(page.locator("html")).to_have_attribute("lang", "de")  # hyphenation goes by it
    expect(page.get_by_role("heading", name="Deine nächsten zwei Wochen")).to_be_visible()
    links = page.locator("nav.main a")
    for name in WORDS["de"][0]:
        expect(links.filter(has_text=name)).to_be_in_viewport(ratio=1)
    assert_fits(page, "dashboard")

    card = page.locator("article.tp", has_text="Lunch w/ Carol")
    summary = card.locator("summary")
    corner = "(node) => getComputedStyle(node, '::after').content"
    assert summary.evaluate(corner) == '"Öffnen"'
    expect(card).to_contain_text("Mi., 4. März")
    summary.click()
    assert summary.evaluate(corner) == '"Schließen"'
    assert_fits(page, "dashboard with a card open")
    page.screenshot(path=screenshots / "dashboard-de-phone-screen.png")
    page.screenshot(path=screenshots / "dashboard-de-phone.png", full_page=True)

    page.locator("nav.main a", has_text="Einstellungen").click()
    expect(page.get_by_role("heading", name="Einstellungen", exact=True)).to_be_visible()
    assert_fits(page, "settings")
    legend = page.locator("legend", has_text="Vorbereitungsnotizen und Vorschläge")
    fieldset = page.locator("fieldset", has=legend)
    inner, outer = legend.bounding_box(), fieldset.bounding_box()
    assert inner is not None
    assert outer is not None
    assert inner["y"] > outer["y"], "a long legend wraps inside its box, not across its border"
    page.screenshot(path=screenshots / "settings-de-phone.png", full_page=True)
    assert not tabs.problems


@pytest.mark.parametrize("code", ["fr", "pt", "it"])
def test_the_longest_languages_keep_the_phone_navigation_on_one_line(
    tabs: Tabs,
    live_server: str,
    live_app: Flask,
    smtp_server: SmtpServer,
    screenshots: Path,
    now: datetime,
    code: str,
) -> None:
    speaking(live_app, now, code)
    page = tabs.open(PHONE)
    sign_in_by_email(page, live_server, smtp_server)

    names, corner, day = WORDS[code]
    expect(page.locator("html")).to_have_attribute("lang", code)
    for name in names:
        expect(page.locator("nav.main a", has_text=name)).to_be_in_viewport(ratio=1)
    assert_fits(page, f"{code} dashboard")
    card = page.locator("article.tp", has_text="Lunch w/ Carol")
    assert (
        card.locator("summary").evaluate("(node) => getComputedStyle(node, '::after').content")
        == f'"{corner}"'
    )
    expect(card).to_contain_text(day)
    page.screenshot(path=screenshots / f"dashboard-{code}-phone.png", full_page=True)
    assert not tabs.problems
