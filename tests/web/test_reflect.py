"""The reflection form behind the email's reply link: no sign-in, one entry per chat, kept safe."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select

from service.adapters.db import Database
from service.adapters.links import stamp
from service.adapters.mail import send_now
from service.config import Settings
from service.models import Connection, Reflection, User
from service.reflections.ask import REPLY_LINK, last_with, queue_reflections
from service.sources.calendar import plan_for_user, store_occurrences, sync_span
from service.web import reflect
from tests.factories import ALICE, CAROL, accepted_chat, meeting
from tests.smtp_server import SmtpServer
from tests.web.forms import csrf_token, sign_in_as

ANSWERS = {
    "learned": "The platform team hires in May",
    "follow_up": "Send Carol the design doc",
    "offered": "A review of her conference talk",
}


@pytest.fixture
def settings(settings: Settings, smtp_server: SmtpServer) -> Settings:
    return settings.with_changes(smtp=smtp_server.settings)


@pytest.fixture
def app(app: Flask) -> Flask:
    """The app with the reflection blueprint (registered here until create_app does it)."""
    if "reflect" not in app.blueprints:
        app.register_blueprint(reflect.bp)
    return app


def chat_yesterday(database: Database) -> tuple[int, int]:
    """Store alice, a chat with Carol she had yesterday and a lunch with Carol on Wednesday."""
    now = datetime.now(UTC)
    start = (now - timedelta(days=1)).replace(microsecond=0)
    wednesday = now + timedelta(days=(2 - now.weekday()) % 7 or 7)
    lunch = meeting("Lunch with Carol", wednesday.replace(hour=11), 60, with_=(CAROL,))
    with database.unit() as session:
        user = User(email=ALICE, tz="Europe/Berlin")
        session.add(user)
        session.flush()
        connection = Connection(user_id=user.id, kind="ics_upload", label="work.ics")
        session.add(connection)
        session.flush()
        store_occurrences(session, connection, [lunch], *sync_span(now))
        proposal = accepted_chat(user.id, start)
        session.add(proposal)
        session.flush()
        return user.id, proposal.id


def reply_path(database: Database, settings: Settings, smtp: SmtpServer, user_id: int) -> str:
    """Send the reflection email for real and return the path its reply link opens."""
    with database.unit() as session:
        user = session.get_one(User, user_id)
        [email] = queue_reflections(session, settings, user, datetime.now(UTC))
        outbox_id = email.id
    assert send_now(database, settings, outbox_id) == "sent"
    [message] = smtp.wait_for(1)
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    found = re.search(r"http://localhost(/reflect/\S+)", text)
    assert found is not None
    return found.group(1)


@pytest.fixture
def reply_link(database: Database, settings: Settings, smtp_server: SmtpServer) -> str:
    """The path the reply link opens of the email asking alice about yesterday's chat."""
    user_id, _ = chat_yesterday(database)
    return reply_path(database, settings, smtp_server, user_id)


def post(client: Any, path: str, answers: dict[str, str], **options: Any) -> Any:
    token = csrf_token(client.get(path).text)
    return client.post(path, data={**answers, "csrf_token": token}, **options)


def entries(database: Database) -> list[Reflection]:
    with database.unit() as session:
        return list(session.scalars(select(Reflection)))


def test_answering_the_email_lands_in_the_log_and_in_the_next_prep_note(
    app: Flask,
    client: Any,
    database: Database,
    settings: Settings,
    smtp_server: SmtpServer,
) -> None:
    user_id, proposal_id = chat_yesterday(database)
    path = reply_path(database, settings, smtp_server, user_id)

    form = client.get(path)
    assert form.status_code == 200
    assert "One minute on your conversation with Carol" in form.text
    assert f'value="{CAROL}"' in form.text  # the person, filled in
    page = post(client, path, {**ANSWERS, "person": CAROL}, follow_redirects=True)

    assert "Saved to your reflection log" in page.text
    [entry] = entries(database)
    assert (entry.user_id, entry.source, entry.person) == (
        user_id,
        f"proposal:{proposal_id}",
        CAROL,
    )
    assert (entry.learned, entry.follow_up, entry.offered) == tuple(ANSWERS.values())
    sign_in_as(client, app, ALICE)
    assert f"with {CAROL}" in client.get("/reflections").text
    with database.unit() as session:
        known = last_with(session, user_id)
        plan = plan_for_user(
            session, session.get_one(User, user_id), datetime.now(UTC), last_with=known
        )
    [lunch] = plan.touchpoints
    assert lunch.note is not None
    lead = "Last time with Carol, you meant to follow up on: Send Carol the design doc"
    assert lunch.note.text.startswith(lead)


def test_answering_again_edits_the_same_entry(
    client: Any, database: Database, reply_link: str
) -> None:
    post(client, reply_link, {**ANSWERS, "person": CAROL})

    form = client.get(reply_link)
    assert ANSWERS["learned"] in form.text  # what was saved, to edit
    post(client, reply_link, {**ANSWERS, "learned": "Hiring moved to June", "person": CAROL})

    [entry] = entries(database)
    assert entry.learned == "Hiring moved to June"


def test_an_empty_answer_is_refused_with_a_reason_and_saves_nothing(
    client: Any, database: Database, reply_link: str
) -> None:
    page = post(client, reply_link, {"learned": "  ", "person": CAROL})

    assert page.status_code == 422
    assert "Write at least one line" in page.text
    assert entries(database) == []


def test_posting_without_the_pages_form_is_refused(
    client: Any, database: Database, reply_link: str
) -> None:
    assert client.post(reply_link, data=ANSWERS).status_code == 400
    assert entries(database) == []


def test_hostile_text_is_kept_as_text(client: Any, database: Database, reply_link: str) -> None:
    hostile = '<script>alert("x")</script>\r\nBcc: x@evil.example'

    post(client, reply_link, {"learned": hostile, "person": '"><img src=x onerror=alert(1)>'})
    page = client.get(reply_link)

    assert "<script>alert" not in page.text
    assert "<img src=x" not in page.text
    assert "&lt;script&gt;alert" in page.text
    [entry] = entries(database)
    assert entry.learned.startswith("<script>")  # stored as typed, escaped when shown


class SignedFifteenDaysAgo(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time()) - 15 * 24 * 60 * 60


def test_a_link_older_than_two_weeks_says_it_expired(
    app: Flask, client: Any, database: Database
) -> None:
    user_id, proposal_id = chat_yesterday(database)
    with database.unit() as session:
        user = session.get_one(User, user_id)
        made = stamp(user.created_at)
    old = URLSafeTimedSerializer(
        app.config["SECRET_KEY"], salt=REPLY_LINK.salt, signer=SignedFifteenDaysAgo
    ).dumps({"user": user_id, "made": made, "source": f"proposal:{proposal_id}", "person": CAROL})

    page = client.get(f"/reflect/{old}")

    assert page.status_code == 410
    assert "This link has expired" in page.text


def test_a_forged_link_is_not_found(client: Any, database: Database) -> None:
    chat_yesterday(database)

    assert client.get("/reflect/forged-token").status_code == 404
