"""Answering a proposal from its signed link: the link names one proposal, and works once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session

from service.adapters.db import Database
from service.adapters.links import LinkExpired, LinkInvalid
from service.config import Settings
from service.engine.people import display_name
from service.models import Proposal, User
from service.proposals.answer import (
    AlreadyAnswered,
    Choice,
    SlotNotOffered,
    answer,
    link_token,
    open_slots,
    proposal_from_token,
    proposal_link,
    slot_label,
)
from tests.factories import ALICE, BERLIN, BOB, CAROL, NOW, at

SECRET = "a-test-secret-key"
SLOTS = [(at(4, 13, 5), at(4, 13, 20)), (at(5, 10), at(5, 10, 15)), (at(6, 16), at(6, 16, 15))]


@pytest.fixture
def session(database: Database) -> Session:
    return database.session()


def make_user(session: Session, email: str = ALICE) -> User:
    user = User(email=email, tz="Europe/Berlin")
    session.add(user)
    session.flush()
    return user


def make_proposal(session: Session, user: User, **changes: object) -> Proposal:
    fields: dict[str, object] = {
        "user_id": user.id,
        "partner": CAROL,
        "reason": "Carol has not heard about your goal yet.",
        "slots": [[s.astimezone(UTC).isoformat(), e.astimezone(UTC).isoformat()] for s, e in SLOTS],
        "expires_at": at(4, 12),
    }
    fields.update(changes)
    proposal = Proposal(**fields)
    session.add(proposal)
    session.commit()
    return proposal


def test_a_link_names_its_proposal(session: Session) -> None:
    proposal = make_proposal(session, make_user(session))

    token = link_token(SECRET, proposal)

    assert proposal_from_token(session, SECRET, token).id == proposal.id


def test_the_link_is_absolute_under_the_base_address(session: Session) -> None:
    proposal = make_proposal(session, make_user(session))
    settings = Settings(secret_key=SECRET, base_url="https://touchpoint.example.org")

    link = proposal_link(settings, proposal)

    assert link.startswith("https://touchpoint.example.org/p/")
    assert proposal_from_token(session, SECRET, link.rsplit("/", 1)[1]).id == proposal.id


def test_a_tampered_link_is_refused(session: Session) -> None:
    token = link_token(SECRET, make_proposal(session, make_user(session)))
    tampered = token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBB")

    with pytest.raises(LinkInvalid):
        proposal_from_token(session, SECRET, tampered)


def test_a_link_signed_with_another_secret_is_refused(session: Session) -> None:
    token = link_token("someone-elses-secret", make_proposal(session, make_user(session)))

    with pytest.raises(LinkInvalid):
        proposal_from_token(session, SECRET, token)


def test_an_old_link_does_not_open_another_users_proposal_that_reused_the_id(
    session: Session,
) -> None:
    alice = make_user(session)
    old = make_proposal(session, alice)
    token, old_id = link_token(SECRET, old), old.id
    session.execute(delete(Proposal).where(Proposal.id == old_id))
    bob = make_user(session, BOB)
    make_proposal(session, bob, id=old_id, created_at=datetime.now(UTC) + timedelta(seconds=5))

    with pytest.raises(LinkInvalid):
        proposal_from_token(session, SECRET, token)


def test_booking_a_slot_records_the_choice(session: Session) -> None:
    proposal = make_proposal(session, make_user(session))

    answer(session, proposal, Choice("accept", at(5, 10)), NOW)
    session.commit()

    assert proposal.status == "accepted"
    assert proposal.chosen_start == at(5, 10)
    assert proposal.answered_at == NOW


def test_a_proposal_can_be_answered_only_once(session: Session) -> None:
    proposal = make_proposal(session, make_user(session))
    answer(session, proposal, Choice("accept", at(5, 10)), NOW)
    session.commit()

    with pytest.raises(AlreadyAnswered):
        answer(session, proposal, Choice("decline"), NOW)
    assert proposal.status == "accepted"


def test_a_second_device_holding_the_open_proposal_cannot_answer_it_again(
    database: Database, session: Session
) -> None:
    proposal = make_proposal(session, make_user(session))
    other = Session(bind=database.engine)
    stale = other.get(Proposal, proposal.id)
    assert stale is not None
    assert stale.status == "proposed"

    answer(session, proposal, Choice("accept", at(4, 13, 5)), NOW)
    session.commit()

    with pytest.raises(AlreadyAnswered):
        answer(other, stale, Choice("accept", at(6, 16)), NOW)
    other.close()
    session.refresh(proposal)
    assert proposal.chosen_start == at(4, 13, 5)


def test_a_time_that_was_not_offered_cannot_be_booked(session: Session) -> None:
    proposal = make_proposal(session, make_user(session))

    with pytest.raises(SlotNotOffered):
        answer(session, proposal, Choice("accept", at(5, 11)), NOW)
    assert proposal.status == "proposed"


def test_a_slot_that_has_already_started_cannot_be_booked(session: Session) -> None:
    proposal = make_proposal(session, make_user(session), expires_at=at(7, 0))

    with pytest.raises(SlotNotOffered):
        answer(session, proposal, Choice("accept", at(4, 13, 5)), at(5, 9))
    assert [start for start, _ in open_slots(proposal, at(5, 9))] == [at(5, 10), at(6, 16)]


def test_an_expired_proposal_cannot_be_answered(session: Session) -> None:
    proposal = make_proposal(session, make_user(session), expires_at=NOW - timedelta(hours=1))

    with pytest.raises(LinkExpired):
        answer(session, proposal, Choice("decline"), NOW)
    assert proposal.status == "proposed"


@pytest.mark.parametrize(
    ("action", "status"), [("decline", "declined"), ("other_times", "other_times")]
)
def test_declining_or_asking_for_other_times_books_nothing(
    session: Session, action: str, status: str
) -> None:
    proposal = make_proposal(session, make_user(session))

    answer(session, proposal, Choice(action), NOW)  # type: ignore[arg-type]
    session.commit()

    assert (proposal.status, proposal.chosen_start, proposal.answered_at) == (status, None, NOW)


def test_a_slot_reads_in_the_users_time_zone() -> None:
    start, end = SLOTS[0]

    assert slot_label((start.astimezone(UTC), end.astimezone(UTC)), BERLIN) == (
        "Wed 4 Mar 13:05\u201313:20"
    )


def test_the_partner_is_named_from_their_address() -> None:
    assert display_name("carol.smith@example.com") == "Carol Smith"
    assert display_name(None) == ""
