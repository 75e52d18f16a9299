"""The accept page: opened from an email without signing in, answered once, never a 500."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from itsdangerous import URLSafeTimedSerializer
from itsdangerous.encoding import base64_decode, base64_encode

from service.models import Proposal, User
from service.proposals.answer import link_token
from service.web.extensions import db
from tests.factories import ALICE, BERLIN, BOB, CAROL
from tests.web.forms import csrf_token

# The page reads the real clock, so the offered times sit safely in the future. In 2037 too,
# 4 March is a Wednesday and Berlin is on winter time (UTC+1).
SLOTS = [
    (datetime(2037, 3, 4, 13, 5, tzinfo=BERLIN), datetime(2037, 3, 4, 13, 20, tzinfo=BERLIN)),
    (datetime(2037, 3, 5, 10, 0, tzinfo=BERLIN), datetime(2037, 3, 5, 10, 15, tzinfo=BERLIN)),
    (datetime(2037, 3, 6, 16, 0, tzinfo=BERLIN), datetime(2037, 3, 6, 16, 15, tzinfo=BERLIN)),
]
EN_DASH = "\u2013"


def make_proposal(app: Any, email: str = ALICE, **changes: object) -> tuple[int, str]:
    """Store a user with a proposal; return the proposal's id and its link path."""
    with app.app_context():
        user = User(email=email, tz="Europe/Berlin")
        db.session.add(user)
        db.session.flush()
        fields: dict[str, object] = {
            "user_id": user.id,
            "partner": CAROL,
            "reason": "Carol has not heard about your goal yet.",
            "slots": [
                [s.astimezone(UTC).isoformat(), e.astimezone(UTC).isoformat()] for s, e in SLOTS
            ],
            "expires_at": datetime(2037, 3, 4, 12, tzinfo=BERLIN),
        }
        fields.update(changes)
        proposal = Proposal(**fields)
        db.session.add(proposal)
        db.session.commit()
        return proposal.id, f"/p/{link_token(app.config['SECRET_KEY'], proposal)}"


def stored(app: Any, proposal_id: int) -> Proposal:
    with app.app_context():
        proposal = db.session.get(Proposal, proposal_id)
        assert proposal is not None
        return proposal


def post(client: Any, path: str, **fields: str) -> Any:
    token = csrf_token(client.get(path).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **fields}, follow_redirects=True)


def test_the_link_shows_partner_reason_and_times_without_signing_in(app: Any, client: Any) -> None:
    _, path = make_proposal(app)

    page = client.get(path)

    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "with Carol" in text
    assert "Carol has not heard about your goal yet." in text
    for label in (f"Wed 4 Mar 13:05{EN_DASH}13:20", f"Thu 5 Mar 10:00{EN_DASH}10:15"):
        assert label in text
    assert "Europe/Berlin" in text
    assert text.count('type="radio"') == 3


def test_booking_a_time_records_it_and_says_so(app: Any, client: Any) -> None:
    proposal_id, path = make_proposal(app)

    page = post(client, path, slot=SLOTS[0][0].astimezone(UTC).isoformat(), book="Book it")

    assert page.status_code == 200
    assert f"Chosen: Wed 4 Mar 13:05{EN_DASH}13:20 with Carol" in page.get_data(as_text=True)
    assert "It goes into your calendar, and Carol gets an invitation" in page.get_data(as_text=True)
    proposal = stored(app, proposal_id)
    assert proposal.status == "accepted"
    assert proposal.chosen_start == SLOTS[0][0]
    assert proposal.answered_at is not None


def test_opening_the_link_again_shows_the_answer_already_given(app: Any, client: Any) -> None:
    _, path = make_proposal(app)
    post(client, path, slot=SLOTS[1][0].astimezone(UTC).isoformat(), book="Book it")

    page = client.get(path)

    assert "You already answered" in page.get_data(as_text=True)
    assert f"Chosen: Thu 5 Mar 10:00{EN_DASH}10:15 with Carol" in page.get_data(as_text=True)
    assert 'type="radio"' not in page.get_data(as_text=True)


def test_declining_records_it_and_books_nothing(app: Any, client: Any) -> None:
    proposal_id, path = make_proposal(app)

    page = post(client, path, decline="Decline")

    assert "Declined" in page.get_data(as_text=True)
    proposal = stored(app, proposal_id)
    assert (proposal.status, proposal.chosen_start) == ("declined", None)


def test_asking_for_other_times_records_the_wish(app: Any, client: Any) -> None:
    proposal_id, path = make_proposal(app)

    page = post(client, path, other_times="Other times please")

    assert "You asked for other times" in page.get_data(as_text=True)
    assert stored(app, proposal_id).status == "other_times"


def test_booking_without_picking_a_time_asks_for_one(app: Any, client: Any) -> None:
    proposal_id, path = make_proposal(app)

    page = post(client, path, book="Book it")

    assert page.status_code == 422
    assert "Pick one of the times first." in page.get_data(as_text=True)
    assert stored(app, proposal_id).status == "proposed"


def test_a_time_that_was_not_offered_is_not_booked(app: Any, client: Any) -> None:
    proposal_id, path = make_proposal(app)

    page = post(client, path, slot="2037-03-04T03:00:00+00:00", book="Book it")

    assert page.status_code == 422
    assert stored(app, proposal_id).status == "proposed"


def test_answering_without_the_forms_csrf_token_is_refused(app: Any, client: Any) -> None:
    proposal_id, path = make_proposal(app)
    client.get(path)

    page = client.post(path, data={"decline": "Decline"})

    assert page.status_code == 400
    assert stored(app, proposal_id).status == "proposed"


def test_an_expired_proposal_says_so(app: Any, client: Any) -> None:
    _, path = make_proposal(app, expires_at=datetime.now(UTC) - timedelta(minutes=1))

    page = client.get(path)

    assert page.status_code == 410
    assert "This link has expired" in page.get_data(as_text=True)


def test_a_proposal_whose_times_have_all_passed_says_it_expired(app: Any, client: Any) -> None:
    past = datetime(2020, 1, 6, 10, tzinfo=UTC)
    _, path = make_proposal(
        app, slots=[[past.isoformat(), (past + timedelta(minutes=15)).isoformat()]]
    )

    assert client.get(path).status_code == 410


def test_a_tampered_link_is_not_found(app: Any, client: Any) -> None:
    _, path = make_proposal(app)

    assert client.get(path[:-4] + "AAAA").status_code == 404
    assert client.get("/p/not-a-token").status_code == 404


def test_a_link_rewritten_to_another_users_proposal_is_not_found(app: Any, client: Any) -> None:
    _, alice_path = make_proposal(app)
    bob_id, _ = make_proposal(app, BOB, reason="Bob's private reason")
    payload, signature = alice_path.removeprefix("/p/").split(".", 1)
    claims = json.loads(base64_decode(payload))
    claims.update(id=bob_id)
    forged = base64_encode(json.dumps(claims, separators=(",", ":"))).decode()
    unsigned = URLSafeTimedSerializer("a guess", salt="proposal").dumps({"id": bob_id})

    for path in (f"/p/{forged}.{signature}", f"/p/{unsigned}"):
        page = client.get(path)
        assert page.status_code == 404
        assert "Bob's private reason" not in page.get_data(as_text=True)


def test_hostile_text_in_a_proposal_is_shown_as_text(app: Any, client: Any) -> None:
    _, path = make_proposal(app, reason="<script>alert(1)</script>", partner="<b>x</b>@evil.org")

    text = client.get(path).get_data(as_text=True)

    assert "<script>alert(1)" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<b>" not in text
