"""Cancelling a booked career chat from the dashboard."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from service.models import Connection, OutboxEmail, Proposal, User
from service.web.extensions import db
from tests.factories import ALICE, BOB, CAROL, NOW
from tests.web.forms import csrf_token, sign_in_as

START = NOW + timedelta(days=2, hours=5)


@pytest.fixture
def frozen(app: Any) -> Any:
    app.config["NOW"] = lambda: NOW
    return app


def booked_chat(app: Any, email: str = ALICE) -> int:
    """Store a user with a chat with Carol booked by invite emails; return the proposal's id."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(email=email, tz="Europe/Berlin")
            db.session.add(user)
            db.session.flush()
            db.session.add(Connection(user_id=user.id, kind="ics_upload", label="work.ics"))
        end = START + timedelta(minutes=15)
        proposal = Proposal(
            user_id=user.id,
            partner=CAROL,
            slots=[[START.astimezone(UTC).isoformat(), end.astimezone(UTC).isoformat()]],
            status="accepted",
            chosen_start=START,
            expires_at=START,
            answered_at=NOW,
            booked_at=NOW,
        )
        db.session.add(proposal)
        db.session.commit()
        return proposal.id


def withdraw(client: Any, proposal_id: int) -> Any:
    token = csrf_token(client.get("/").get_data(as_text=True))
    path = f"/proposals/{proposal_id}/withdraw"
    return client.post(path, data={"csrf_token": token}, follow_redirects=True)


def cancels(app: Any) -> list[str]:
    with app.app_context():
        query = select(OutboxEmail.to).where(OutboxEmail.kind == "invite_cancel")
        return sorted(db.session.scalars(query))


def status_of(app: Any, proposal_id: int) -> str:
    with app.app_context():
        return db.session.get_one(Proposal, proposal_id).status


def test_a_booked_upcoming_chat_can_be_cancelled_from_the_dashboard(
    frozen: Any, client: Any
) -> None:
    proposal_id = booked_chat(frozen)
    sign_in_as(client, frozen, ALICE)

    page = client.get("/").get_data(as_text=True)
    response = withdraw(client, proposal_id)

    assert "Cancel this chat" in page
    # It asks first, and the button that cancels looks destructive, not like the main action.
    assert '<details class="confirm">\n        <summary>Cancel this chat…</summary>' in page
    assert '<button type="submit" class="danger">Yes, cancel the chat</button>' in page
    assert response.status_code == 200
    assert "Cancelled: the other person is told" in response.get_data(as_text=True)
    assert "Cancel this chat" not in response.get_data(as_text=True)
    assert status_of(frozen, proposal_id) == "withdrawn"
    assert cancels(frozen) == [ALICE, CAROL]


def test_cancelling_twice_emails_each_person_once(frozen: Any, client: Any) -> None:
    proposal_id = booked_chat(frozen)
    sign_in_as(client, frozen, ALICE)

    withdraw(client, proposal_id)
    again = withdraw(client, proposal_id)

    assert "nothing was changed" in again.get_data(as_text=True)
    assert cancels(frozen) == [ALICE, CAROL]


def test_someone_elses_chat_cannot_be_cancelled(frozen: Any, client: Any) -> None:
    proposal_id = booked_chat(frozen, BOB)
    booked_chat(frozen)
    sign_in_as(client, frozen, ALICE)

    response = withdraw(client, proposal_id)

    assert response.status_code == 404
    assert status_of(frozen, proposal_id) == "accepted"
    assert cancels(frozen) == []


def test_cancelling_without_the_forms_token_changes_nothing(frozen: Any, client: Any) -> None:
    proposal_id = booked_chat(frozen)
    sign_in_as(client, frozen, ALICE)

    response = client.post(f"/proposals/{proposal_id}/withdraw")

    assert response.status_code == 400
    assert status_of(frozen, proposal_id) == "accepted"
