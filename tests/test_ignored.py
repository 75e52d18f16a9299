"""Auto-pause: three proposals in a row left unanswered pause proposals, say so, and resume."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from service.adapters.db import Database
from service.adapters.mail import send_now
from service.config import Settings
from service.models import OutboxEmail, Proposal, User
from service.proposals.answer import Choice, answer
from service.proposals.pause import (
    PAUSE_DAYS,
    expire_proposals,
    queue_paused_email,
    resume_token,
)
from tests.factories import ALICE, CAROL, NOW, at
from tests.smtp_server import SmtpServer
from tests.web.forms import csrf_token

LATER = NOW + timedelta(days=30)


@pytest.fixture
def settings(settings: Settings, smtp_server: SmtpServer) -> Settings:
    return settings.with_changes(smtp=smtp_server.settings)


def add_alice(database: Database, **changes: Any) -> int:
    with database.unit() as session:
        user = User(email=ALICE, tz="Europe/Berlin", **changes)
        session.add(user)
        session.flush()
        return user.id


def propose(database: Database, user_id: int, days_ago: int) -> int:
    """Store a proposal made days_ago days before NOW, open for five days."""
    made = NOW - timedelta(days=days_ago)
    slot = [
        (made + timedelta(days=1)).isoformat(),
        (made + timedelta(days=1, minutes=15)).isoformat(),
    ]
    with database.unit() as session:
        proposal = Proposal(
            user_id=user_id,
            partner=CAROL,
            slots=[slot],
            created_at=made,
            expires_at=made + timedelta(days=5),
        )
        session.add(proposal)
        session.flush()
        return proposal.id


def sweep(database: Database, settings: Settings, now: Any = NOW) -> list[int]:
    """Expire as the hourly dispatcher does; return the ids of the pause emails it queued."""
    with database.unit() as session:
        paused = expire_proposals(session, now)
        return [queue_paused_email(session, settings, user).id for user in paused]


def alice_now(database: Database, user_id: int) -> User:
    with database.unit() as session:
        return session.get_one(User, user_id)


def test_three_expired_proposals_pause_proposals_for_a_month_and_email_once(
    database: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    user_id = add_alice(database)
    for days_ago in (20, 13, 6):
        propose(database, user_id, days_ago)

    [outbox_id] = sweep(database, settings)
    assert sweep(database, settings) == []
    assert send_now(database, settings, outbox_id) == "sent"

    assert alice_now(database, user_id).paused_until == NOW + timedelta(days=PAUSE_DAYS)
    [message] = smtp_server.wait_for(1)
    assert message["Subject"] == "We paused proposals after 3 went unanswered — resume anytime"
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "until Wed 1 Apr" in text
    assert re.search(r"Resume anytime: http://localhost/resume/\S+", text)


def test_proposals_expiring_one_at_a_time_pause_at_the_third(
    database: Database, settings: Settings
) -> None:
    user_id = add_alice(database)
    for days_ago in (20, 13, 6):
        propose(database, user_id, days_ago)

    assert sweep(database, settings, NOW - timedelta(days=12)) == []
    assert alice_now(database, user_id).ignored_proposals == 1
    assert sweep(database, settings, NOW - timedelta(days=5)) == []
    assert len(sweep(database, settings)) == 1


def test_two_ignored_proposals_do_not_pause(database: Database, settings: Settings) -> None:
    user_id = add_alice(database)
    propose(database, user_id, 13)
    propose(database, user_id, 6)

    assert sweep(database, settings) == []

    user = alice_now(database, user_id)
    assert (user.paused_until, user.ignored_proposals) == (None, 2)
    with database.unit() as session:
        statuses = session.scalars(select(Proposal.status)).all()
        assert statuses == ["expired", "expired"]


def test_an_answered_proposal_starts_the_count_again(
    database: Database, settings: Settings
) -> None:
    user_id = add_alice(database)
    propose(database, user_id, 20)
    propose(database, user_id, 13)
    assert sweep(database, settings, NOW - timedelta(days=7)) == []
    answered = propose(database, user_id, 0)
    with database.unit() as session:
        answer(session, session.get_one(Proposal, answered), Choice("decline"), NOW)

    propose(database, user_id, 6)
    assert sweep(database, settings) == []

    assert alice_now(database, user_id).ignored_proposals == 1


def test_a_proposal_left_during_a_pause_the_user_chose_is_not_ignored(
    database: Database, settings: Settings
) -> None:
    user_id = add_alice(database, ignored_proposals=2, paused_until=LATER)
    propose(database, user_id, 6)

    assert sweep(database, settings) == []
    assert alice_now(database, user_id).paused_until == LATER


# Resuming from the email's link --------------------------------------------------------------


def resume_path(app: Flask, user_id: int) -> str:
    with app.app_context():
        from service.web.extensions import db

        return (
            f"/resume/{resume_token(app.config['SECRET_KEY'], db.session.get_one(User, user_id))}"
        )


def test_the_resume_link_shows_a_button_that_resumes_proposals(
    app: Flask, client: Any, database: Database
) -> None:
    app.config["NOW"] = lambda: NOW
    user_id = add_alice(database, paused_until=at(1, 12, month=4), ignored_proposals=0)
    path = resume_path(app, user_id)

    page = client.get(path)
    assert page.status_code == 200
    assert "Proposals are paused until Wed 1 Apr" in page.text
    assert alice_now(database, user_id).paused_until is not None  # opening the link changes nothing

    done = client.post(path, data={"csrf_token": csrf_token(page.text)})

    assert done.status_code == 200
    assert "Proposals are back on" in done.text
    assert alice_now(database, user_id).paused_until is None


def test_resuming_needs_the_pages_form(app: Flask, client: Any, database: Database) -> None:
    user_id = add_alice(database, paused_until=LATER)

    assert client.post(resume_path(app, user_id)).status_code == 400
    assert alice_now(database, user_id).paused_until == LATER


def test_a_forged_resume_link_is_not_found(client: Any, database: Database) -> None:
    add_alice(database, paused_until=LATER)

    assert client.get("/resume/not-a-token").status_code == 404


def test_the_resume_link_of_a_user_not_paused_says_proposals_are_on(
    app: Flask, client: Any, database: Database
) -> None:
    user_id = add_alice(database)

    page = client.get(resume_path(app, user_id))

    assert "Proposals are on" in page.text


def test_the_pause_email_is_queued_once_per_pause(database: Database, settings: Settings) -> None:
    user_id = add_alice(database)
    for days_ago in (20, 13, 6):
        propose(database, user_id, days_ago)
    sweep(database, settings)

    with database.unit() as session:
        count = session.scalar(select(func.count(OutboxEmail.id)))
    assert count == 1
