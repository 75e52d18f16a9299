"""Every page and every email, in every language, with no English left where a translation
should be (issue 12).

A user of each language goes through the site as a browser would (signing in, onboarding, the
dashboard, a proposal and its links, the reflection and note links, the outbox, an error), and
every email kind is rendered for them. A piece of an English message shown to a German reader
fails the test, naming it. Until the translators' catalogs are merged, the six non-English runs
fail that way.
"""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, render_template, template_rendered
from sqlalchemy import select

from service.adapters import mail
from service.config import Settings
from service.engine.i18n import LANGUAGES, gettext, language
from service.models import Connection, OutboxEmail, User
from service.notes.email import links
from service.proposals.pause import resume_url
from service.reflections.ask import Chat, reply_url
from service.sources.calendar import store_occurrences, sync_span
from service.web.extensions import db
from tests.factories import ALICE, BOB, CAROL, NOW, at, meeting
from tests.i18n.catalogs import english_left
from tests.web.forms import csrf_token, post_form

ROOT = Path(__file__).resolve().parents[2]
LUNCH = meeting("Lunch with Carol", at(4, 12), 60, with_=(CAROL,))  # Wednesday
COFFEE = meeting("Coffee with Bob", at(5, 10), 30, with_=(BOB,))  # Thursday
_LINK = re.compile(r"http://localhost(/[^\s\"<>]+)")
_REFERENCED = re.compile(r"""\{%-?\s*(?:include|extends|import|from)\s+"(web/[^"]+)\"""")


@pytest.fixture
def frozen(app: Flask) -> Flask:
    app.config["NOW"] = lambda: NOW
    return app


def pages() -> set[str]:
    """Return the web templates that are pages: not a partial that another one pulls in."""
    web = ROOT / "templates" / "web"
    names = {f"web/{p.relative_to(web)}" for p in web.rglob("*.html")}
    pulled = {m for p in web.rglob("*.html") for m in _REFERENCED.findall(p.read_text())}
    return {n for n in names if n not in pulled and not Path(n).name.startswith("_")}


class Visit:
    """A browser of one language going through the site, keeping what each page showed."""

    def __init__(self, app: Flask, client: Any, code: str) -> None:
        self.app, self.client, self.code = app, client, code
        self.shown: dict[str, str] = {}
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = f"{code},en;q=0.5"

    def get(self, path: str, status: int = 200) -> str:
        response = self.client.get(path)
        assert response.status_code == status, f"{path} answered {response.status_code}"
        self.shown[path] = response.get_data(as_text=True)
        return self.shown[path]

    def post(self, path: str, data: dict[str, Any], page: str) -> str:
        response = post_form(self.client, path, data, page=page, follow_redirects=True)
        assert response.status_code in (200, 422), f"{path} answered {response.status_code}"
        self.shown[f"POST {path}"] = response.get_data(as_text=True)
        return self.shown[f"POST {path}"]

    def email(self, kind: str) -> str:
        with self.app.app_context():
            found = db.session.scalars(
                select(OutboxEmail).where(OutboxEmail.kind == kind).order_by(OutboxEmail.id)
            ).all()
        assert found, f"no {kind} email was queued"
        return found[-1].text

    def user(self) -> User:
        with self.app.app_context():
            user = db.session.scalar(select(User).where(User.email == ALICE))
            assert user is not None
            db.session.expunge(user)
            return user


def sign_up(visit: Visit) -> None:
    """Ask for a link, open it and sign in: the account takes the browser's language."""
    visit.get("/signin")
    visit.post("/signin", {"email": ALICE}, page="/signin")
    link = _LINK.search(visit.email("magic_link"))
    assert link is not None
    visit.get(link.group(1))
    visit.get("/signin/1.not-a-link", status=410)
    visit.client.post(link.group(1), data={"csrf_token": csrf_token(visit.shown[link.group(1)])})
    assert visit.user().language == visit.code


def onboard(visit: Visit) -> None:
    visit.get("/welcome")
    with visit.app.app_context(), db.unit() as session:
        user = session.scalars(select(User).where(User.email == ALICE)).one()
        user.tz, user.manager_email = "Europe/Berlin", BOB
        connection = Connection(user_id=user.id, kind="ics_upload", label="work.ics")
        session.add(connection)
        session.flush()
        store_occurrences(session, connection, [LUNCH, COFFEE], *sync_span(NOW))
    for path in ("/welcome", "/welcome/you", "/welcome/goal", "/welcome/ready"):
        visit.get(path)


def signed_in_pages(visit: Visit) -> None:
    for path in ("/", "/connect", "/settings", "/account", "/reflections", "/outbox"):
        visit.get(path)
    visit.get("/nothing-here", status=404)
    visit.post("/reflections", {"going_well": "The Atlas launch"}, page="/reflections")
    entry = re.search(r'href="(/reflections/\d+)"', visit.get("/reflections"))
    assert entry is not None
    visit.get(entry.group(1))
    letter = re.search(r'href="(/outbox/[^"/]+)"', visit.get("/outbox"))
    assert letter is not None
    visit.get(letter.group(1))


def proposal_pages(visit: Visit, settings: Settings) -> None:
    visit.post("/proposals/new", {}, page="/")
    links_in = [m.group(1) for m in _LINK.finditer(visit.email("proposal"))]
    answer = next(p for p in links_in if p.startswith("/p/"))
    page = answer.partition("?")[0]
    visit.get(page)
    visit.app.config["NOW"] = lambda: NOW + timedelta(days=30)  # its times have passed
    visit.get(f"{page}?later=1", status=410)
    visit.app.config["NOW"] = lambda: NOW
    visit.post(page, {"decline": "yes"}, page=page)
    visit.get(next(p for p in links_in if p.startswith("/unsubscribe/")))
    user = visit.user()
    visit.get(resume_url(settings, user).removeprefix(settings.base_url))
    chat = Chat("proposal:1", CAROL, NOW)
    visit.get(reply_url(settings, user, chat).removeprefix(settings.base_url))
    for url in links(settings, user).values():
        visit.get(url.removeprefix(settings.base_url))


def google_pages(visit: Visit) -> None:
    """The pages a trip to Google can end on (its tests drive the real round trips), and the
    one a reflection link shows two weeks on (the link's age is the signature's real time)."""
    halts: dict[str, dict[str, Any]] = {
        "web/reflect/expired.html": {},
        "web/google/denied.html": {},
        "web/google/expired.html": {},
        "web/google/failed.html": {"unavailable": True},
        "web/google/missing.html": {"missing": [("Calendar", "to read your events")]},
    }
    headers = {"Accept-Language": visit.code}
    for name, context in halts.items():
        with visit.app.test_request_context("/google/callback", headers=headers):
            visit.app.preprocess_request()  # the request's language, as for a real request
            visit.shown[name] = render_template(name, user=None, signed_in=False, **context)


def test_the_visit_renders_every_page(frozen: Flask, client: Any, settings: Settings) -> None:
    rendered: set[str] = set()

    def seen(_app: Flask, template: Any, context: Any) -> None:
        rendered.add(template.name)

    with template_rendered.connected_to(seen, frozen):
        visit_everything(frozen, client, settings, "en")

    assert pages() - rendered == set()


@pytest.mark.parametrize("code", [c for c in LANGUAGES if c != "en"])
def test_every_page_is_in_the_language_of_its_reader(
    frozen: Flask, client: Any, settings: Settings, code: str
) -> None:
    visit = visit_everything(frozen, client, settings, code)

    left = {where: english_left(html, code) for where, html in visit.shown.items()}
    assert {where: pieces for where, pieces in left.items() if pieces} == {}


@pytest.mark.parametrize("code", list(LANGUAGES))
def test_every_email_is_in_the_language_of_its_reader(
    app: Flask, settings: Settings, code: str
) -> None:
    kinds = {p.name.removesuffix(".subject.txt") for p in (ROOT / "templates/email").iterdir()}
    kinds = {k for k in kinds if not k.startswith("_") and not k.endswith((".txt", ".html"))}

    with app.app_context(), db.unit() as session, language(code):
        every = emails()
        shown = {
            f"{kind} ({variant})": _queued(session, settings, kind, context, code)
            for kind, variants in every.items()
            for variant, context in variants.items()
        }

    assert kinds == set(every)

    assert all(unescape(text).strip() for text in shown.values())
    if code != "en":
        left = {where: english_left(text, code) for where, text in shown.items()}
        assert {where: pieces for where, pieces in left.items() if pieces} == {}


def visit_everything(app: Flask, client: Any, settings: Settings, code: str) -> Visit:
    visit = Visit(app, client, code)
    sign_up(visit)
    onboard(visit)
    signed_in_pages(visit)
    proposal_pages(visit, settings)
    google_pages(visit)
    return visit


def _queued(session: Any, settings: Settings, kind: str, context: dict[str, Any], code: str) -> str:
    row = mail.queue(session, settings, kind=kind, to=CAROL, context=context, language=code)
    return f"{row.subject}\n{row.text}\n{row.html}"


WHEN = "Mi., 4. März 13:05"  # what the caller formats; the test looks at the words around it
PREP = {
    "subject": "Prep: lunch with Carol",
    "title": "Lunch with Carol",
    "when": WHEN,
    "time": "12:00",
    "tz": "Europe/Berlin",
    "lines": ["One line of the note."],
    "dashboard_url": "http://localhost/",
    "snooze_url": "http://localhost/notes/snooze/t",
    "unsubscribe_url": "http://localhost/notes/unsubscribe/t",
}
CHAT = {"user": "Alice", "when": WHEN, "tz": "Europe/Berlin", "base_url": "http://localhost"}
INVITE = {**CHAT, "reason": "Carol knows your work.", "for_partner": "", "google_problem": ""}


def emails() -> dict[str, dict[str, dict[str, Any]]]:
    """Return each email kind's variants with what their callers put in them, in the current
    language (the reconnect email's reason and fix come translated, as schedule.py makes them).
    """
    return {
        "magic_link": {"link": {"link": "http://localhost/signin/1.x", "minutes": 15}},
        "prep_note": {"note": PREP},
        "digest": {
            "one": {**PREP, "day": "Mi., 4. März", "items": [PREP]},
            "two": {**PREP, "day": "Mi., 4. März", "items": [PREP, {**PREP, "title": ""}]},
        },
        "proposal": {
            variant: {
                "partner": partner,
                "reason": "Carol knows your work.",
                "slots": [{"label": WHEN, "accept_url": "http://localhost/p/t?slot=1"}],
                "tz": "Europe/Berlin",
                "decline_url": "http://localhost/p/t?answer=decline",
                "other_times_url": "http://localhost/p/t?answer=other_times",
                "goal": "lead the platform team",
                "unsubscribe_url": "http://localhost/unsubscribe/t",
            }
            for variant, partner in (("with Carol", "Carol"), ("with anyone", ""))
        },
        "invite": {
            "user, partner": {**INVITE, "role": "user", "partner": "Carol"},
            "user, hold": {
                **INVITE,
                "role": "user",
                "partner": "",
                "google_problem": "refused",
            },
            "partner": {
                **INVITE,
                "role": "partner",
                "partner": "Carol",
                "for_partner": "A chat.",
            },
        },
        "invite_cancel": {
            "user, partner": {**CHAT, "role": "user", "partner": "Carol"},
            "user, hold": {**CHAT, "role": "user", "partner": ""},
            "partner": {**CHAT, "role": "partner", "partner": "Carol"},
        },
        "paused": {
            "paused": {
                "count": 3,
                "until": "Mi., 4. März",
                "resume_url": "http://localhost/resume/t",
                "settings_url": "http://localhost/settings",
            }
        },
        "reconnect": {
            "broken": {
                "label": "work.ics",
                "kind": gettext("calendar"),
                "reason": gettext("It could not be read."),
                "fix": gettext("Connect it again"),
                "connect_url": "http://localhost/connect",
            }
        },
        "reflect": {
            variant: {
                "name": name,
                "title": "Mentoring",
                "booked": booked,
                "when": WHEN,
                "reply_url": "http://localhost/reflect/t",
                "days": 14,
                "unsubscribe_url": "http://localhost/unsubscribe/t",
            }
            for variant, name, booked in (("chat", "Carol", True), ("talk", "", False))
        },
    }
