"""A booked career chat that has happened resets the cadence clock on the dashboard."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from service.models import Connection, User
from service.web.extensions import db
from tests.factories import ALICE, NOW, accepted_chat
from tests.web.forms import sign_in_as


@pytest.fixture
def frozen(app: Any) -> Any:
    app.config["NOW"] = lambda: NOW
    return app


def alice_with_chat(app: Any, start: datetime, status: str = "accepted") -> None:
    """Store alice with a calendar and a chat with Carol booked for start."""
    with app.app_context():
        user = User(email=ALICE, tz="Europe/Berlin")
        db.session.add(user)
        db.session.flush()
        db.session.add(Connection(user_id=user.id, kind="ics_upload", label="work.ics"))
        earlier = start - timedelta(days=2)
        chat = accepted_chat(user.id, start, status=status, answered_at=earlier, booked_at=earlier)
        db.session.add(chat)
        db.session.commit()


def test_a_booked_chat_that_happened_counts_as_the_last_career_conversation(
    frozen: Any, client: Any
) -> None:
    alice_with_chat(frozen, NOW - timedelta(days=3))
    sign_in_as(client, frozen, ALICE)

    page = client.get("/").get_data(as_text=True)

    assert "Your last career conversation was 3 days ago." in page
    assert "A career conversation is due" not in page


def test_without_the_chat_a_career_conversation_is_due(frozen: Any, client: Any) -> None:
    alice_with_chat(frozen, NOW - timedelta(days=3), status="withdrawn")
    sign_in_as(client, frozen, ALICE)

    page = client.get("/").get_data(as_text=True)

    assert "No career conversation on your calendar yet." in page
    assert "A career conversation is due" in page
