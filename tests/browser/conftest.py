"""Browser fixtures: real Chromium driven by Playwright, against the app on a live local server.

Chromium cannot be downloaded here, so Playwright drives Debian's `chromium` package. When it or
the `playwright` package is missing, the browser tests skip with the reason, unless
TOUCHPOINT_REQUIRE_SERVICES is set (CI), where they fail. Screenshots go to the directory in
TOUCHPOINT_SCREENSHOTS, by default build/screenshots/ in the repository.

Accessibility is checked with axe-core, the npm package, installed on first use into
build/axe-core/ (a directory of the tests' own) from the npm registry; without npm the checks
skip with the reason (fail under TOUCHPOINT_REQUIRE_SERVICES).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from werkzeug.serving import BaseWSGIServer, make_server

from service.config import Settings
from tests.conftest import unavailable
from tests.factories import BERLIN
from tests.smtp_server import SmtpServer

if TYPE_CHECKING:
    from flask import Flask
    from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page

ROOT = Path(__file__).resolve().parents[2]
# Without the background-networking flags Chromium dials Google's services at start-up, and a
# closed network answers with refused connections it keeps retrying.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
LAPTOP = {"width": 1280, "height": 800}  # the screen the dashboard's first week must fit
SIZES = {"phone": PHONE, "desktop": DESKTOP}
AXE_VERSION = "4.14.1"
AXE_DIR = ROOT / "build" / "axe-core"
# What axe finds that fails a page: impacts "serious" and "critical" (WCAG A and AA rules).
FAILING_IMPACTS = ("serious", "critical")
ZONE = "Europe/Berlin"  # the browser's time zone, which the settings page detects


def frozen_now(today: datetime) -> datetime:
    """Return 08:00 in Berlin on the Monday after today: the dashboard's frozen "now".

    Uploading a calendar reads the real clock (it stores a span around today), so the frozen
    time stays a few days ahead of it: what a test puts on that week is stored and still to come.
    """
    local = today.astimezone(BERLIN).date()
    monday = local + timedelta(days=7 - local.weekday())
    return datetime.combine(monday, time(8), BERLIN)


@pytest.fixture(scope="session")
def now() -> datetime:
    return frozen_now(datetime.now(BERLIN))


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Start Debian's Chromium once for the whole run."""
    executable = shutil.which("chromium")
    if executable is None:
        unavailable("Chromium", "no `chromium` on PATH: apt-get install chromium")
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        unavailable("Playwright", "the `playwright` package is not installed")
    with sync_playwright() as playwright:
        try:
            chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        except Error as exc:
            unavailable("Chromium", f"{executable} did not start: {str(exc).splitlines()[0]}")
        yield chromium
        chromium.close()


class Tabs:
    """Opens pages in fresh browser contexts (no cookies shared) and notes what goes wrong."""

    def __init__(self, browser: Browser) -> None:
        self.browser = browser
        self.contexts: list[BrowserContext] = []
        self.problems: list[str] = []  # script errors and Content-Security-Policy refusals

    def open(self, size: dict[str, int] = PHONE, *, script: bool = True) -> Page:
        """Open a page (phone-sized by default) in a new context: another device, signed out."""
        context = self.browser.new_context(
            viewport=size, timezone_id=ZONE, locale="en-GB", java_script_enabled=script
        )
        context.set_default_timeout(10_000)
        self.contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))
        page.on("console", self._console)
        return page

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            self.problems.append(message.text)

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def tabs(browser: Browser) -> Iterator[Tabs]:
    opened = Tabs(browser)
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    """Return axe-core's script, installed from the npm registry into build/axe-core/ once."""
    script = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
    if not script.exists():
        npm = shutil.which("npm")
        if npm is None:
            unavailable("axe-core", "no `npm` on PATH to install it: apt-get install npm")
        AXE_DIR.mkdir(parents=True, exist_ok=True)
        command = [npm, "install", "--prefix", str(AXE_DIR), "--no-audit", "--no-fund"]
        done = subprocess.run(
            [*command, f"axe-core@{AXE_VERSION}"], capture_output=True, text=True, timeout=300
        )
        if done.returncode or not script.exists():
            said = (done.stderr.strip().splitlines() or ["no output"])[-1]
            unavailable("axe-core", f"npm install axe-core@{AXE_VERSION} failed: {said}")
    return script.read_text(encoding="utf-8")


class Axe:
    """Runs axe-core on the page in front of it and keeps what fails, by page and size."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.failures: list[str] = []
        self.checked: list[str] = []

    def check(self, page: Page, name: str) -> None:
        """Run axe on the page as it is now; note every serious or critical violation."""
        if not page.evaluate("() => typeof window.axe === 'object'"):
            page.evaluate(self.source)  # run by the browser's tools: the page's CSP allows none
        found = page.evaluate(_AXE_RUN)
        width = page.viewport_size["width"] if page.viewport_size else 0
        self.checked.append(f"{name}@{width}")
        for violation in found:
            if violation["impact"] in FAILING_IMPACTS:
                where = ", ".join(violation["nodes"])
                self.failures.append(
                    f"{name} at {width}px: {violation['impact']} {violation['id']}: "
                    f"{violation['help']} ({where})"
                )


_AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 4).map(n => n.target.join(" ")),
  }));
}"""


@pytest.fixture
def axe(axe_source: str) -> Iterator[Axe]:
    """Check pages with axe-core; the test fails at the end on any serious or critical finding."""
    checker = Axe(axe_source)
    yield checker
    assert not checker.failures, "\n".join(checker.failures)


@pytest.fixture(scope="session")
def screenshots() -> Path:
    directory = Path(os.environ.get("TOUCHPOINT_SCREENSHOTS") or ROOT / "build" / "screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.fixture
def shoot(screenshots: Path) -> Callable[[Page, str], None]:
    """Return a function saving a page as <name>-phone.png and <name>-desktop.png (whole page)."""

    def save(page: Page, name: str) -> None:
        before = page.viewport_size or PHONE
        for label, size in SIZES.items():
            page.set_viewport_size(size)
            page.screenshot(path=screenshots / f"{name}-{label}.png", full_page=True)
        page.set_viewport_size(before)

    return save


class _Served:
    """The app on a werkzeug server in a thread, at the address its settings name."""

    def __init__(self, settings: Settings, changes: dict[str, Any], now: datetime) -> None:
        from service.web import create_app

        # Bind first: the port is part of base_url, which the app puts into emailed links.
        self.server: BaseWSGIServer = make_server("127.0.0.1", 0, _not_ready, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.port}"
        self.app: Flask = create_app(settings.with_changes(base_url=self.url, **changes))
        self.app.config["NOW"] = lambda: now
        self.server.app = self.app
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,))

    def start(self) -> _Served:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=10)


def _not_ready(_environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"starting"]


@pytest.fixture
def served(
    request: pytest.FixtureRequest, settings: Settings, smtp_server: SmtpServer, now: datetime
) -> Iterator[_Served]:
    """Serve the app: mail to loopback SMTP, fake Google if the test uses it, clock at `now`."""
    changes: dict[str, Any] = {"smtp": smtp_server.settings}
    if "google_server" in request.fixturenames:
        changes["google"] = request.getfixturevalue("google_server").google_settings()
    live = _Served(settings, changes, now).start()
    yield live
    live.stop()


@pytest.fixture
def local_server(settings: Settings, now: datetime) -> Iterator[str]:
    """Serve the app as on a laptop: no mail server, every email in the local outbox."""
    live = _Served(settings, {}, now).start()
    yield live.url
    live.stop()


@pytest.fixture
def live_server(served: _Served) -> str:
    """Return the base URL of the running app (settings.base_url is the same)."""
    return served.url


@pytest.fixture
def live_app(served: _Served) -> Flask:
    """Return the app behind live_server, to look at or seed its database."""
    return served.app
