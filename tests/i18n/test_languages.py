"""Each language end to end: its words and its way of writing dates in the prep note, the
proposal email and the dashboard; the language chosen in settings or taken from the browser.

The words come from the language's catalog, so these tests wait for the translators' catalogs;
the dates come from CLDR and are written out here as a reader of each language expects them.
"""

from __future__ import annotations

from datetime import timedelta
from html import unescape
from typing import Any

import icalendar
import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from flask import Flask
from sqlalchemy import select

from service.adapters.mail_delivery import compose
from service.adapters.secrets import SecretBox
from service.cli import main
from service.config import Settings
from service.engine.i18n import LANGUAGES
from service.models import Connection, OutboxEmail, Proposal, User
from service.proposals.answer import proposal_link
from service.proposals.book import book
from service.proposals.propose import queue_email
from service.sources.calendar import plan_for_user, store_occurrences, sync_span
from service.web.extensions import db
from tests.factories import ACCEPTED, ALICE, BOB, CAROL, CHAT_START, NOW, at, meeting
from tests.i18n.catalogs import translation
from tests.web.forms import post_form, sign_in_by_id

LUNCH = meeting("Lunch with Carol", at(4, 12), 60, with_=(CAROL,))  # Wednesday 4 March 2026
# How each language writes: the lunch's weekday and time in its note's subject, a proposed
# slot (Wednesday 4 March 2037, 13:05 to 13:20) and the dashboard's day of the lunch.
DATES = {
    "en": ("Wed 12:00", "Wed 4 Mar 13:05\u201313:20", "4 Mar"),
    "de": ("Mi. 12:00", "Mi., 4. März 13:05\u201313:20 Uhr", "4. März"),
    "fr": ("mer. 12:00", "mer. 4 mars 13:05\u2009\u2013\u200913:20", "4 mars"),
    "es": ("mié 12:00", "mié, 4 mar 13:05\u201313:20", "4 mar"),
    "pt": ("qua. 12:00", "qua., 4 de mar. 13:05\u2009\u2013\u200913:20", "4 de mar."),
    "it": ("mer 12:00", "mer 4 mar 13:05\u201313:20", "4 mar"),
    "nl": ("wo 12:00", "wo 4 mrt 13:05\u201313:20", "4 mrt"),
}


def words(code: str, msgid: str, **values: object) -> str:
    """Return a message as the language's catalog writes it (English: as marked)."""
    if code == "en":
        return msgid % values if values else msgid
    found = translation(code, msgid)
    assert found, f"{code} does not translate {msgid!r} yet"
    return found[0] % values if values else found[0]


@pytest.fixture
def frozen(app: Flask) -> Flask:
    app.config["NOW"] = lambda: NOW
    return app


def alice_in(app: Flask, code: str) -> int:
    """Store alice (Berlin, manager bob) writing in this language, her lunch with carol."""
    with app.app_context(), db.unit() as session:
        user = User(email=ALICE, tz="Europe/Berlin", manager_email=BOB, language=code)
        session.add(user)
        session.flush()
        connection = Connection(user_id=user.id, kind="ics_upload", label="work.ics")
        session.add(connection)
        session.flush()
        store_occurrences(session, connection, [LUNCH], *sync_span(NOW))
        return user.id


def shown(response: Any) -> str:
    assert response.status_code == 200
    return " ".join(unescape(response.get_data(as_text=True)).split())


@pytest.mark.parametrize("code", list(LANGUAGES))
def test_the_prep_note_is_in_the_users_language_and_date_format(app: Flask, code: str) -> None:
    user_id = alice_in(app, code)
    with app.app_context():
        plan = plan_for_user(db.session(), db.session.get_one(User, user_id), NOW)
    note = next(tp.note for tp in plan.touchpoints if tp.occurrence.uid == LUNCH.uid)
    assert note is not None

    lunch = words(code, "lunch")
    when = DATES[code][0]
    assert note.subject == words(
        code, "Prep: %(label)s with %(who)s (%(when)s)", label=lunch, who="Carol", when=when
    )
    assert words(code, "At %(meal)s with %(who)s, keep it light: one question is enough.",
                 meal=lunch, who="Carol") in note.text  # fmt: skip


@pytest.mark.parametrize("code", list(LANGUAGES))
def test_the_proposal_email_is_in_the_users_language_and_date_format(
    app: Flask, settings: Settings, code: str
) -> None:
    user_id = alice_in(app, code)
    slot = [CHAT_START.isoformat(), (CHAT_START + timedelta(minutes=15)).isoformat()]
    with app.app_context(), db.unit() as session:
        user = session.get_one(User, user_id)
        proposal = Proposal(user_id=user_id, partner=CAROL, slots=[slot], expires_at=CHAT_START)
        session.add(proposal)
        session.flush()
        email = queue_email(session, settings, user, proposal)
        subject, text, html = email.subject, email.text, unescape(email.html)

    assert subject == words(code, "15 minutes with %(partner)s?", partner="Carol")
    assert words(code, "Pick a time (times in %(tz)s):", tz="Europe/Berlin") in text
    assert f"  {DATES[code][1]}\n" in text
    assert DATES[code][1] in html
    assert f'<html lang="{code}">' in html
    # The mail client is told the language too (RFC 3282), not left to guess it.
    assert compose(email, settings, CHAT_START)["Content-Language"] == code


@pytest.mark.parametrize("code", list(LANGUAGES))
def test_the_dashboard_is_in_the_users_language_and_date_format(
    frozen: Flask, client: Any, code: str
) -> None:
    sign_in_by_id(client, alice_in(frozen, code))

    page = shown(client.get("/"))

    assert f'<html lang="{code}">' in page
    assert f'<h2 id="timeline-heading">{words(code, "Your next two weeks")}</h2>' in page
    assert f"<small>{DATES[code][2]}</small>" in page
    assert words(code, "Coming up in the next 14 days") in page


def test_a_new_account_takes_the_browsers_language(frozen: Flask, client: Any) -> None:
    headers = {"Accept-Language": "fr-CH, fr;q=0.9, en;q=0.8"}
    page = client.get("/signin", headers=headers).get_data(as_text=True)
    assert '<html lang="fr">' in page

    from service.account.login import create_login_token

    with frozen.app_context():
        token, secret = create_login_token(db.session(), ALICE, "", NOW)
        db.session.commit()
    link = f"/signin/{token.id}.{secret}"
    post_form(client, link, {}, headers=headers)

    with frozen.app_context():
        user = db.session.scalars(select(User).where(User.email == ALICE)).one()
        assert user.language == "fr"


def test_a_browser_asking_for_no_language_of_ours_reads_english(client: Any) -> None:
    page = client.get("/signin", headers={"Accept-Language": "ja, zh;q=0.8"})
    assert '<html lang="en">' in page.get_data(as_text=True)


def test_the_language_chosen_in_settings_is_kept_and_writes_the_pages(
    frozen: Flask, client: Any
) -> None:
    user_id = alice_in(frozen, "en")
    sign_in_by_id(client, user_id)
    form = {
        "language": "nl", "stage": "growth", "ideal_days": "45", "max_days": "60",
        "hours_start": "09:00", "hours_end": "17:30", "work_days": ["0", "1", "2", "3", "4"],
        "tz": "Europe/Berlin", "lead_minutes": "60", "weekly_nudges": "1",
    }  # fmt: skip

    post_form(client, "/settings", form)

    with frozen.app_context():
        assert db.session.get_one(User, user_id).language == "nl"
    assert '<html lang="nl">' in client.get("/settings").get_data(as_text=True)
    # The browser's language no longer decides, the user's choice does.
    page = client.get("/", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert '<html lang="nl">' in page


def test_a_language_touchpoint_does_not_speak_is_refused_in_settings(
    frozen: Flask, client: Any
) -> None:
    user_id = alice_in(frozen, "en")
    sign_in_by_id(client, user_id)
    form = {
        "language": "xx", "stage": "growth", "ideal_days": "45", "max_days": "60",
        "hours_start": "09:00", "hours_end": "17:30", "work_days": ["0"], "tz": "UTC",
        "lead_minutes": "60", "weekly_nudges": "1",
    }  # fmt: skip

    response = post_form(client, "/settings", form)

    assert response.status_code == 422
    with frozen.app_context():
        assert db.session.get_one(User, user_id).language == "en"


@pytest.mark.parametrize(
    ("code", "monday"), [("en", "Mon 2 Mar 2026"), ("de", "Mo., 2. März 2026")]
)
def test_the_scan_command_writes_in_the_language_asked(code: str, monday: str) -> None:
    args = ["scan", "service/samples/alice.ics", "--from", "2026-03-02", "--days", "7"]

    done = CliRunner().invoke(main, [*args, "--lang", code])

    assert done.exit_code == 0, done.output
    assert monday in done.output
    assert words(code, "Week of %(day)s", day=monday) in done.output


def test_the_scan_command_refuses_a_language_it_does_not_speak() -> None:
    done = CliRunner().invoke(main, ["scan", "service/samples/alice.ics", "--lang", "xx"])

    assert done.exit_code == 2
    assert "'xx' is not one of 'en', 'de', 'fr', 'es', 'pt', 'it', 'nl'" in done.output


def test_a_link_from_an_email_opens_in_its_owners_language_whatever_the_browser(
    frozen: Flask, client: Any, settings: Settings
) -> None:
    user_id = alice_in(frozen, "nl")
    slot = [CHAT_START.isoformat(), (CHAT_START + timedelta(minutes=15)).isoformat()]
    with frozen.app_context(), db.unit() as session:
        proposal = Proposal(user_id=user_id, partner=CAROL, slots=[slot], expires_at=CHAT_START)
        session.add(proposal)
        session.flush()
        link = proposal_link(settings, proposal).removeprefix(settings.base_url)

    page = shown(client.get(link, headers={"Accept-Language": "de"}))  # signed out, a German phone

    assert '<html lang="nl">' in page
    assert DATES["nl"][1].partition(" 13")[0] in page  # the slot's day as Dutch writes it


@pytest.mark.parametrize("code", list(LANGUAGES))
def test_both_invites_are_in_the_requesters_language_and_date_format(
    app: Flask, settings: Settings, code: str
) -> None:
    with app.app_context(), db.unit() as session:
        user = User(email=ALICE, tz="Europe/Berlin", language=code)
        session.add(user)
        session.flush()
        proposal = Proposal(**(ACCEPTED | {"user_id": user.id}))
        session.add(proposal)
        session.flush()
        book(session, settings, SecretBox([Fernet.generate_key().decode()]), proposal, NOW)
        invites = session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "invite")).all()

    assert len(invites) == 2  # alice's and carol's
    for invite in invites:
        event = icalendar.Calendar.from_ical(invite.calendar).walk("VEVENT")[0]
        summary = words(code, "Career chat: %(name)s and %(other)s", name="Alice", other="Carol")
        assert str(event["SUMMARY"]) == summary
        assert DATES[code][1] in invite.text  # the time, as the language writes it
    mine = next(i for i in invites if i.to == ALICE)
    description = str(icalendar.Calendar.from_ical(mine.calendar).walk("VEVENT")[0]["DESCRIPTION"])
    assert words(code, "How can I add value for %(other)s?", other="Carol") in description
