"""Signing in by magic link (read from a real SMTP server on loopback) and signing out."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from service.config import Google, Settings
from service.models import LoginToken, OutboxEmail, User
from service.web import create_app
from service.web.extensions import db
from tests.factories import ALICE, BOB, DAN
from tests.smtp_server import SmtpServer, smtp_server_fixture  # noqa: F401 (the fixture)
from tests.web.forms import csrf_token, post_form, sign_in_as

LINK = re.compile(r"http://localhost(/signin/[0-9]+\.[A-Za-z0-9_-]+)")
EVIL = ("//evil.example", "https://evil.example", "/\\evil.example", "/\t/evil.example")
# A browser would leave the site for each of these; a new person lands on the first steps.
ELSEWHERE = [(url, "/welcome") for url in EVIL]


@pytest.fixture
def app(settings: Settings, smtp_server: SmtpServer) -> Iterator[Flask]:
    """The app sending its emails to the loopback SMTP server."""
    app = create_app(settings.with_changes(smtp=smtp_server.settings))
    app.config["TESTING"] = True
    yield app
    db.dispose()


def ask_for_link(client: Any, email: str, next_url: str = "") -> Any:
    return post_form(client, "/signin", {"email": email, "next": next_url})


def link_from_email(smtp_server: SmtpServer, count: int = 1) -> str:
    """Return the path of the sign-in link in the count-th email received."""
    message = smtp_server.wait_for(count)[count - 1]
    text = message.get_body(preferencelist=("plain",))
    assert text is not None
    found = LINK.search(text.get_content())
    assert found, "the email has no sign-in link"
    return found.group(1)


def signed_in_link(
    client: Any, smtp_server: SmtpServer, email: str = ALICE, count: int = 1, **kw: str
) -> Any:
    """Ask for a link, open it (from the count-th email), press the button; return the answer."""
    ask_for_link(client, email, **kw)
    return post_form(client, link_from_email(smtp_server, count), {})


def limited_app(settings: Settings) -> Flask:
    """The app with rate limits on, counting in memory.

    The counters would live in Redis, but the shared test Redis database is flushed whenever any
    test run starts a test, which would reset them halfway through when runs overlap.
    """
    return create_app(settings.with_changes(rate_limits=True, redis_url=""))


def users(app: Flask) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(User.email).order_by(User.email)))


def test_a_new_person_signs_in_with_the_link_from_their_email(
    app: Flask, client: Any, smtp_server: SmtpServer
) -> None:
    asked = ask_for_link(client, ALICE)
    assert asked.status_code == 302
    sent = client.get(asked.headers["Location"])
    assert "Check your inbox" in sent.text
    assert f"We sent a sign-in link to <strong>{ALICE}</strong>" in sent.text

    [message] = smtp_server.wait_for(1)
    assert message["To"] == ALICE
    opened = client.get(link_from_email(smtp_server))
    assert opened.status_code == 200
    assert "Press the button to finish signing in" in opened.text
    pressed = post_form(client, link_from_email(smtp_server), {})

    assert pressed.status_code == 302
    assert pressed.headers["Location"] == "/welcome"  # the first steps: no calendar yet
    assert users(app) == [ALICE]
    assert f"You are signed in as <strong>{ALICE}</strong>" in client.get("/signin").text


def test_an_address_is_lower_cased_and_gets_one_account(
    app: Flask, client: Any, smtp_server: SmtpServer
) -> None:
    signed_in_link(client, smtp_server, "  Alice@Example.COM ")
    ask_for_link(client, ALICE)
    post_form(client, link_from_email(smtp_server, 2), {})

    assert smtp_server.recipients == [[ALICE], [ALICE]]
    assert users(app) == [ALICE]


def test_opening_a_link_does_not_use_it(client: Any, smtp_server: SmtpServer) -> None:
    ask_for_link(client, ALICE)
    link = link_from_email(smtp_server)

    client.get(link)  # a mail scanner following the link
    client.get(link)

    assert post_form(client, link, {}).status_code == 302


def test_a_link_works_only_once(app: Flask, smtp_server: SmtpServer) -> None:
    ask_for_link(app.test_client(), ALICE)
    link = link_from_email(smtp_server)
    first, second = app.test_client(), app.test_client()
    first_get, second_get = first.get(link), second.get(link)

    assert first.post(link, data={"csrf_token": csrf_token(first_get.text)}).status_code == 302
    used = second.post(link, data={"csrf_token": csrf_token(second_get.text)})

    assert used.status_code == 410
    assert "This link was already used or has expired" in used.text
    assert 'href="/signin">Get a new link' in used.text
    assert "already used" in second.get(link).text


def test_an_expired_link_is_refused(app: Flask, client: Any, smtp_server: SmtpServer) -> None:
    ask_for_link(client, ALICE)
    link = link_from_email(smtp_server)
    confirm_page = client.get(link)
    with app.app_context():
        past = datetime.now(UTC) - timedelta(seconds=1)
        db.session.execute(update(LoginToken).values(expires_at=past))
        db.session.commit()

    pressed = client.post(link, data={"csrf_token": csrf_token(confirm_page.text)})

    assert pressed.status_code == 410
    assert "already used or has expired" in pressed.text
    assert client.get(link).status_code == 410
    assert users(app) == []


def test_a_made_up_link_is_refused(client: Any) -> None:
    for link in ("/signin/1.guess", "/signin/nonsense", "/signin/99999999999999999999.x"):
        assert client.get(link).status_code == 410


def test_known_and_unknown_addresses_get_the_same_page_and_an_email(
    app: Flask, smtp_server: SmtpServer
) -> None:
    with app.app_context():
        db.session.add(User(email=BOB))
        db.session.commit()
    pages = []
    for email in (BOB, DAN):
        client = app.test_client()
        sent = client.get(ask_for_link(client, email).headers["Location"])
        pages.append(sent.text.replace(email, "ADDRESS"))

    assert pages[0] == pages[1]
    assert smtp_server.recipients == [[BOB], [DAN]]


def test_the_sign_in_page_keeps_where_the_person_was_going(client: Any) -> None:
    page = client.get("/signin?next=/settings")

    assert 'value="/settings"' in page.text


@pytest.mark.parametrize(("next_url", "landing"), [("/settings", "/settings"), *ELSEWHERE])
def test_after_signing_in_only_a_path_on_this_site_is_followed(
    client: Any, smtp_server: SmtpServer, next_url: str, landing: str
) -> None:
    pressed = signed_in_link(client, smtp_server, next_url=next_url)

    assert pressed.headers["Location"] == landing


def test_signing_out_ends_the_session(client: Any, smtp_server: SmtpServer) -> None:
    signed_in_link(client, smtp_server)

    out = post_form(client, "/signout", {}, page="/signin", follow_redirects=True)

    assert "You are signed out." in out.text
    assert "Email me a sign-in link" in out.text
    assert "You are signed in" not in client.get("/signin").text


def test_a_form_posted_without_its_csrf_token_is_refused(
    app: Flask, client: Any, smtp_server: SmtpServer
) -> None:
    client.get("/signin")

    refused = client.post("/signin", data={"email": ALICE})

    assert refused.status_code == 400
    assert "That request did not make sense." in refused.text
    assert smtp_server.messages == []
    with app.app_context():
        assert db.session.scalars(select(LoginToken)).all() == []


def test_sign_out_without_the_csrf_token_keeps_the_person_signed_in(
    client: Any, smtp_server: SmtpServer
) -> None:
    signed_in_link(client, smtp_server)

    assert client.post("/signout").status_code == 400
    assert "You are signed in" in client.get("/signin").text


def test_a_malformed_address_is_explained_and_kept(client: Any) -> None:
    page = post_form(client, "/signin", {"email": "alice at example"})

    assert page.status_code == 200
    assert "That does not look like an email address." in page.text
    assert 'value="alice at example"' in page.text


def test_when_the_mail_server_is_down_the_page_says_it_keeps_trying(
    app: Flask, client: Any, smtp_server: SmtpServer
) -> None:
    smtp_server.stop()

    sent = client.get(ask_for_link(client, ALICE).headers["Location"])

    assert "we will keep trying to send it" in sent.text
    with app.app_context():
        row = db.session.scalars(select(OutboxEmail)).one()
        assert (row.to, row.sent_at, row.claimed_at, row.attempts) == (ALICE, None, None, 1)


def test_the_session_cookie_is_http_only_and_same_site(
    client: Any, smtp_server: SmtpServer
) -> None:
    pressed = signed_in_link(client, smtp_server)

    [cookie] = [c for c in pressed.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_the_google_button_shows_only_when_google_is_configured(
    settings: Settings, app: Flask, client: Any
) -> None:
    assert "Sign in with Google" not in client.get("/signin").text

    google = create_app(settings.with_changes(google=Google(client_id="id", client_secret="s")))
    page = google.test_client().get("/signin?next=/settings")

    assert '<a class="button secondary" href="/google/signin?next=/settings">' in page.text


def test_too_many_link_requests_get_the_friendly_429_page(
    settings: Settings, smtp_server: SmtpServer
) -> None:
    client = limited_app(settings.with_changes(smtp=smtp_server.settings)).test_client()

    answers = [ask_for_link(client, f"person{n}@example.com").status_code for n in range(6)]

    assert answers == [302] * 5 + [429]
    assert "Too many tries" in ask_for_link(client, ALICE).text


def test_strangers_asking_for_an_address_send_one_email_and_never_lock_its_owner_out(
    settings: Settings, smtp_server: SmtpServer
) -> None:
    app = limited_app(settings.with_changes(smtp=smtp_server.settings))
    stranger = app.test_client()
    answers = []
    for n in range(11):
        stranger.environ_base["REMOTE_ADDR"] = f"192.0.2.{n + 1}"
        answers.append(ask_for_link(stranger, ALICE).status_code)
    owner = app.test_client()
    owner.environ_base["REMOTE_ADDR"] = "198.51.100.7"

    assert answers == [302] * 11  # the same page each time: nothing tells a link is out
    assert ask_for_link(owner, ALICE).status_code == 302
    time.sleep(0.2)  # nothing more arrives
    assert len(smtp_server.messages) == 1
    pressed = post_form(owner, link_from_email(smtp_server), {})
    assert pressed.status_code == 302
    assert f"You are signed in as <strong>{ALICE}</strong>" in owner.get("/signin").text
    ask_for_link(stranger, ALICE)  # the link was used: the next one goes out
    assert len(smtp_server.wait_for(2)) == 2


def test_pressing_sign_in_buttons_is_rate_limited(settings: Settings) -> None:
    client = limited_app(settings).test_client()
    token = csrf_token(client.get("/signin").text)

    answers = [
        client.post("/signin/1.guess", data={"csrf_token": token}).status_code for _ in range(11)
    ]

    assert answers == [410] * 10 + [429]


def test_the_sign_in_shortcut_for_other_tests_signs_the_client_in(app: Flask, client: Any) -> None:
    sign_in_as(client, app, ALICE)

    assert f"You are signed in as <strong>{ALICE}</strong>" in client.get("/signin").text


# Sessions the server can end ------------------------------------------------------------------


def copy_cookie(source: Any, target: Any) -> None:
    """Give target the session cookie source holds, as someone copying it would."""
    cookie = source.get_cookie("session")
    assert cookie is not None
    target.set_cookie("session", cookie.value)


def signed_in_page(client: Any) -> bool:
    return client.get("/account").status_code == 200


def test_a_copied_cookie_stops_working_when_its_browser_signs_out(
    app: Flask, client: Any, smtp_server: SmtpServer
) -> None:
    signed_in_link(client, smtp_server)
    thief = app.test_client()
    copy_cookie(client, thief)
    assert signed_in_page(thief)

    post_form(client, "/signout", {}, page="/signin")

    assert not signed_in_page(thief)
    assert not signed_in_page(client)


def test_signing_out_everywhere_ends_every_session_of_the_account(
    app: Flask, client: Any, smtp_server: SmtpServer
) -> None:
    signed_in_link(client, smtp_server)
    laptop = app.test_client()
    signed_in_link(laptop, smtp_server, count=2)
    bob = app.test_client()
    signed_in_link(bob, smtp_server, BOB, count=3)

    out = post_form(laptop, "/account/sign-out-everywhere", {}, page="/account")

    assert out.status_code == 302
    assert "You are signed out everywhere (2 sessions ended)" in laptop.get("/signin").text
    assert not signed_in_page(client)
    assert not signed_in_page(laptop)
    assert signed_in_page(bob)  # someone else's sessions are theirs


def test_a_deleted_accounts_cookie_never_opens_the_next_account(
    app: Flask, client: Any, smtp_server: SmtpServer
) -> None:
    signed_in_link(client, smtp_server)
    kept = app.test_client()
    copy_cookie(client, kept)
    deleted = post_form(client, "/account/delete", {"confirm": ALICE}, page="/account")
    assert deleted.status_code == 302

    newcomer = app.test_client()
    signed_in_link(newcomer, smtp_server, BOB, count=2)  # on SQLite, alice's old id again
    assert signed_in_page(newcomer)

    assert not signed_in_page(kept)
    assert BOB not in kept.get("/signin").text


def test_a_cookie_that_only_names_a_user_id_signs_nobody_in(
    app: Flask, client: Any, smtp_server: SmtpServer
) -> None:
    signed_in_link(client, smtp_server)
    forged = app.test_client()
    with forged.session_transaction() as session:
        session["user_id"] = 1  # what cookies held before sessions lived on the server

    assert not signed_in_page(forged)
