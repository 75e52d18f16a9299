"""The loop: a chat is due, the dashboard emails a proposal, its Accept link books a time."""

from __future__ import annotations

import re
from email.message import EmailMessage
from html import unescape
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from service.config import Settings
from service.engine.model import Occurrence
from service.models import Connection, OutboxEmail, Proposal, User
from service.sources.calendar import store_occurrences, sync_span
from service.web.extensions import db
from tests.factories import ALICE, BOB, CAROL, DAN, NOW, at, meeting
from tests.smtp_server import SmtpServer
from tests.web.forms import csrf_token, post_form, sign_in_as

LUNCH = meeting("Lunch with Carol", at(4, 12), 60, with_=(CAROL,))  # Wednesday
MENTORING = meeting("Mentoring with Dan", at(17, 9, month=2), with_=(DAN,))  # 12 days before NOW
EN_DASH = "\u2013"
# Right after the lunch with Carol first (the reason names it), then Monday and Tuesday.
STARTS = ("2026-03-04T12:05:00+00:00", "2026-03-02T08:15:00+00:00", "2026-03-03T08:15:00+00:00")


@pytest.fixture
def settings(settings: Settings, smtp_server: SmtpServer) -> Settings:
    return settings.with_changes(smtp=smtp_server.settings)


@pytest.fixture
def frozen(app: Flask) -> Flask:
    app.config["NOW"] = lambda: NOW
    return app


def alice_with(app: Flask, client: Any, occurrences: list[Occurrence], **changes: Any) -> int:
    """Sign in as alice (Berlin, manager bob) with a calendar holding these occurrences."""
    user_id = sign_in_as(client, app, ALICE)
    with app.app_context(), db.unit() as session:
        user = session.get(User, user_id)
        assert user is not None
        user.tz, user.manager_email = "Europe/Berlin", BOB
        for name, value in changes.items():
            setattr(user, name, value)
        connection = Connection(user_id=user_id, kind="ics_upload", label="work.ics")
        session.add(connection)
        session.flush()
        store_occurrences(session, connection, occurrences, *sync_span(NOW))
    return user_id


def text_of(response: Any) -> str:
    """Return the page as a user reads it: entities decoded, runs of white space as one."""
    return " ".join(unescape(response.get_data(as_text=True)).split())


def press_email_me(client: Any) -> Any:
    return post_form(client, "/proposals/new", {}, page="/", follow_redirects=True)


def body(message: EmailMessage, kind: str) -> str:
    return message.get_body((kind,)).get_content()  # type: ignore[union-attr]


def local_path(url: str) -> str:
    return url.removeprefix("http://localhost")


def proposals(app: Flask) -> list[Proposal]:
    with app.app_context():
        return list(db.session.scalars(select(Proposal)))


def checked_value(html: str) -> str | None:
    found = [tag for tag in re.findall(r"<input[^>]*>", html) if " checked" in tag]
    return found[0].split('value="')[1].split('"')[0] if found else None


# The dashboard button -------------------------------------------------------------------------


def test_the_dashboard_offers_to_email_the_suggestion(frozen: Flask, client: Any) -> None:
    alice_with(frozen, client, [LUNCH])

    page = text_of(client.get("/"))

    assert "Suggested: 15 minutes with Carol, at one of these times:" in page
    assert "<li>Wed 4 Mar 13:05</li>" in page
    assert '<form method="post" action="/proposals/new">' in page
    assert "Email me this proposal" in page


def test_the_whole_loop_from_the_button_to_a_booked_time(
    frozen: Flask, client: Any, smtp_server: SmtpServer
) -> None:
    alice_with(frozen, client, [LUNCH])

    dashboard = text_of(press_email_me(client))

    assert "Sent: check your email for three times with Carol." in dashboard
    assert "Open proposals" in dashboard
    assert "Email me this proposal" not in dashboard
    [message] = smtp_server.wait_for(1)
    assert message["Subject"] == "15 minutes with Carol?"
    links = re.findall(r"Accept: (\S+)", body(message, "plain"))
    anonymous = frozen.test_client()
    for number, link in enumerate(links):
        page = anonymous.get(local_path(link))
        assert page.status_code == 200
        assert checked_value(page.get_data(as_text=True)) == STARTS[number]
    chosen = anonymous.get(local_path(links[0]))
    token = csrf_token(chosen.get_data(as_text=True))
    answered = anonymous.post(
        local_path(links[0]),
        data={"csrf_token": token, "slot": STARTS[0], "book": "yes"},
        follow_redirects=True,
    )
    assert f"Chosen: Wed 4 Mar 13:05{EN_DASH}13:20 with Carol" in text_of(answered)
    [proposal] = proposals(frozen)
    assert proposal.status == "accepted"
    assert proposal.chosen_start is not None
    assert proposal.chosen_start.isoformat() == STARTS[0]


def test_pressing_the_button_again_sends_nothing_more(
    frozen: Flask, client: Any, smtp_server: SmtpServer
) -> None:
    alice_with(frozen, client, [LUNCH])
    press_email_me(client)

    again = client.post("/proposals/new", data={"csrf_token": csrf_token(client.get("/").text)})

    assert again.status_code == 302
    assert "Nothing to propose: a proposal is already open" in text_of(client.get("/"))
    assert len(proposals(frozen)) == 1
    assert len(smtp_server.wait_for(1)) == 1


def test_when_no_chat_is_due_it_says_so_and_sends_nothing(
    frozen: Flask, client: Any, smtp_server: SmtpServer
) -> None:
    alice_with(frozen, client, [MENTORING, LUNCH])

    page = text_of(press_email_me(client))

    assert "Nothing to propose: your next career conversation is not due yet." in page
    assert proposals(frozen) == []
    assert smtp_server.messages == []


def test_while_paused_it_says_so(frozen: Flask, client: Any) -> None:
    alice_with(frozen, client, [LUNCH], paused_until=NOW.replace(day=9))

    page = text_of(press_email_me(client))

    assert "Nothing to propose: proposals are paused until Mon 9 Mar." in page
    assert proposals(frozen) == []


def test_asking_for_a_proposal_needs_the_forms_csrf_token(frozen: Flask, client: Any) -> None:
    alice_with(frozen, client, [LUNCH])

    assert client.post("/proposals/new").status_code == 400
    assert proposals(frozen) == []


def test_asking_for_a_proposal_needs_a_signed_in_user(frozen: Flask, client: Any) -> None:
    token = csrf_token(client.get("/signin").get_data(as_text=True))

    response = client.post("/proposals/new", data={"csrf_token": token})

    assert response.status_code == 302
    assert "/signin" in response.headers["Location"]
    assert proposals(frozen) == []


# The links of the email --------------------------------------------------------------------


def test_the_decline_link_asks_to_confirm_and_changes_nothing_by_itself(
    frozen: Flask, client: Any, smtp_server: SmtpServer
) -> None:
    alice_with(frozen, client, [LUNCH])
    press_email_me(client)
    decline = re.search(r"Decline: (\S+)", body(smtp_server.wait_for(1)[0], "plain"))
    assert decline is not None

    page = frozen.test_client().get(local_path(decline.group(1)))

    assert "To decline this chat, press Decline below." in text_of(page)
    assert proposals(frozen)[0].status == "proposed"


def test_a_slot_number_that_is_not_offered_preselects_nothing(frozen: Flask, client: Any) -> None:
    alice_with(frozen, client, [LUNCH])
    press_email_me(client)
    open_link = re.search(r'href="(/p/[^"?]+)"', client.get("/").get_data(as_text=True))
    assert open_link is not None

    for query in ("?slot=0", "?slot=4", "?slot=x", ""):
        page = client.get(open_link.group(1) + query)
        assert page.status_code == 200
        assert checked_value(page.get_data(as_text=True)) is None


# Unsubscribing -------------------------------------------------------------------------------


def unsubscribe_link(frozen: Flask, client: Any, smtp_server: SmtpServer) -> str:
    alice_with(frozen, client, [LUNCH])
    press_email_me(client)
    header = str(smtp_server.wait_for(1)[0]["List-Unsubscribe"])
    return local_path(header.strip("<>"))


def weekly_nudges(app: Flask) -> int:
    with app.app_context():
        return db.session.scalars(select(User.weekly_nudges)).one()


def test_one_click_unsubscribe_works_without_a_csrf_token(
    frozen: Flask, client: Any, smtp_server: SmtpServer
) -> None:
    path = unsubscribe_link(frozen, client, smtp_server)

    response = frozen.test_client().post(path, data={"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200
    assert "You are unsubscribed" in text_of(response)
    assert "Prep notes before your meetings are not affected" in text_of(response)
    assert weekly_nudges(frozen) == 0


def test_the_unsubscribe_link_shows_a_button_and_changes_nothing_until_pressed(
    frozen: Flask, client: Any, smtp_server: SmtpServer
) -> None:
    path = unsubscribe_link(frozen, client, smtp_server)

    page = frozen.test_client().get(path)

    assert page.status_code == 200
    assert "Unsubscribe from proposals" in text_of(page)
    assert weekly_nudges(frozen) == 1


def test_a_tampered_unsubscribe_link_is_refused(
    frozen: Flask, client: Any, smtp_server: SmtpServer
) -> None:
    path = unsubscribe_link(frozen, client, smtp_server)
    anonymous = frozen.test_client()

    for forged in (path[:-4] + "AAAA", "/unsubscribe/not-a-token"):
        assert anonymous.post(forged, data={"List-Unsubscribe": "One-Click"}).status_code == 404
        assert anonymous.get(forged).status_code == 404
    assert weekly_nudges(frozen) == 1


def test_an_unsubscribe_link_dies_with_its_account(
    frozen: Flask, client: Any, smtp_server: SmtpServer
) -> None:
    path = unsubscribe_link(frozen, client, smtp_server)
    with frozen.app_context(), db.unit() as session:
        session.delete(session.scalars(select(User)).one())
    sign_in_as(client, frozen, ALICE)  # a new account, maybe with the same id (SQLite)

    assert frozen.test_client().post(path).status_code == 404
    assert weekly_nudges(frozen) == 1


def test_after_unsubscribing_no_proposal_is_emailed(
    frozen: Flask, client: Any, smtp_server: SmtpServer
) -> None:
    path = unsubscribe_link(frozen, client, smtp_server)
    frozen.test_client().post(path, data={"List-Unsubscribe": "One-Click"})
    decline_open_proposal(client)

    page = text_of(press_email_me(client))

    assert "Nothing to propose: you asked for no proposals (0 a week, in Settings)." in page
    with frozen.app_context():
        assert len(db.session.scalars(select(OutboxEmail)).all()) == 1


def decline_open_proposal(client: Any) -> None:
    link = re.search(r'href="(/p/[^"?]+)"', client.get("/").get_data(as_text=True))
    assert link is not None
    token = csrf_token(client.get(link.group(1)).get_data(as_text=True))
    declined = client.post(
        link.group(1), data={"csrf_token": token, "decline": "yes"}, follow_redirects=True
    )
    assert "Declined" in declined.get_data(as_text=True)
