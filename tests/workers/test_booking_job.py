"""The booking job on real Redis and RQ: accepted on the page, booked once, whatever fails."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from rq import Queue
from rq.job import Job, JobStatus

from service.adapters.db import Database
from service.adapters.secrets import SecretBox
from service.config import Settings
from service.models import Proposal
from service.proposals.answer import link_token
from service.web import create_app
from tests.factories import ALICE, CAROL, CHAT_START, add_accepted_proposal, connect_google
from tests.google_server import FakeGoogle
from tests.smtp_server import SmtpServer, addressed_to, invite_of
from tests.web.forms import csrf_token
from tests.workers.jobs import let_retry_waits_pass, work
from workers.enqueue import enqueue_booking

QUEUES = ("booking",)
INSERTS = r"/calendars/primary/events$"


def job_of(queue: Queue, proposal_id: int) -> Job:
    return Job.fetch(f"book-proposal-{proposal_id}", connection=queue.connection)


def accept_on_the_page(
    client: Any, settings: Settings, database: Database, proposal_id: int
) -> Any:
    """Open the proposal's link and book its first time, as the person would."""
    with database.unit() as session:
        path = f"/p/{link_token(settings.secret_key, session.get_one(Proposal, proposal_id))}"
    form = {"slot": CHAT_START.astimezone(UTC).isoformat(), "book": "Book it"}
    token = csrf_token(client.get(path).get_data(as_text=True))
    return client.post(path, data={**form, "csrf_token": token}, follow_redirects=True)


def proposed(database: Database) -> int:
    return add_accepted_proposal(database, status="proposed", chosen_start=None, answered_at=None)


def test_accepting_on_the_page_books_the_chat_in_google_calendar_once(
    client: Any,
    settings: Settings,
    database: Database,
    box: SecretBox,
    google_server: FakeGoogle,
    queue: Queue,
) -> None:
    proposal_id = proposed(database)
    connect_google(database, box, google_server)

    page = accept_on_the_page(client, settings, database, proposal_id)
    assert page.status_code == 200
    assert queue.job_ids == [f"book-proposal-{proposal_id}"]
    work(queue)

    (event,) = google_server.events(ALICE)
    assert [a["email"] for a in event["attendees"]] == [CAROL, ALICE]
    (insert,) = google_server.calls("POST", INSERTS)
    assert insert.query["sendUpdates"] == "all"
    assert job_of(queue, proposal_id).return_value() == "booked"


def test_running_the_job_twice_makes_one_event(
    settings: Settings, google_server: FakeGoogle, google_proposal: int, queue: Queue
) -> None:

    enqueue_booking(settings, google_proposal)
    work(queue)
    enqueue_booking(settings, google_proposal)  # the finished job is replaced and runs again
    work(queue)

    assert len(google_server.events(ALICE)) == 1
    assert job_of(queue, google_proposal).return_value() == "already_booked"


def test_enqueueing_twice_adds_one_job(
    settings: Settings, database: Database, queue: Queue
) -> None:
    proposal_id = add_accepted_proposal(database)

    first = enqueue_booking(settings, proposal_id)
    second = enqueue_booking(settings, proposal_id)

    assert first.id == second.id
    assert queue.count == 1


def test_a_google_outage_is_retried_later_and_books_the_chat_once(
    settings: Settings, google_server: FakeGoogle, google_proposal: int, queue: Queue
) -> None:
    google_server.fail_next(INSERTS, 500, method="POST")

    enqueue_booking(settings, google_proposal)
    work(queue)
    assert job_of(queue, google_proposal).get_status() == JobStatus.SCHEDULED
    assert google_server.events(ALICE) == []

    let_retry_waits_pass(queue)
    work(queue, scheduler=True)

    assert len(google_server.calls("POST", INSERTS)) == 2
    assert len(google_server.events(ALICE)) == 1
    assert job_of(queue, google_proposal).return_value() == "booked"


def test_a_revoked_google_grant_still_gets_the_invite_to_both_by_email(
    settings: Settings,
    database: Database,
    box: SecretBox,
    google_server: FakeGoogle,
    smtp_server: SmtpServer,
    queue: Queue,
) -> None:
    proposal_id = add_accepted_proposal(database)
    google_server.revoked.add(connect_google(database, box, google_server))

    enqueue_booking(settings, proposal_id)
    work(queue)

    assert google_server.events(ALICE) == []
    assert sorted(message["To"] for message in smtp_server.wait_for(2)) == [ALICE, CAROL]
    assert job_of(queue, proposal_id).get_status() == JobStatus.FINISHED


def test_an_ics_user_and_the_partner_each_get_one_invite_when_the_job_runs_twice(
    settings: Settings, database: Database, smtp_server: SmtpServer, queue: Queue
) -> None:
    proposal_id = add_accepted_proposal(database)

    for _ in range(2):
        enqueue_booking(settings, proposal_id)
        work(queue)

    messages = smtp_server.wait_for(2)
    assert sorted(message["To"] for message in messages) == [ALICE, CAROL]
    for address in (ALICE, CAROL):
        calendar, part, _ = invite_of(addressed_to(messages, address))
        assert part.get_param("method") == "REQUEST"
        assert len(calendar.walk("VEVENT")) == 1


def test_a_mail_server_outage_delays_the_invites_and_sends_each_once(
    settings: Settings, database: Database, smtp_server: SmtpServer, queue: Queue
) -> None:
    proposal_id = add_accepted_proposal(database)
    smtp_server.stop()

    enqueue_booking(settings, proposal_id)
    work(queue)
    assert job_of(queue, proposal_id).get_status() == JobStatus.SCHEDULED

    smtp_server.start()
    let_retry_waits_pass(queue)
    work(queue, scheduler=True)

    assert sorted(message["To"] for message in smtp_server.wait_for(2)) == [ALICE, CAROL]
    assert job_of(queue, proposal_id).return_value() == "already_booked"


def test_when_redis_is_away_the_answer_is_kept_for_the_sweep_and_the_page_still_shows_it(
    settings: Settings, database: Database
) -> None:
    proposal_id = proposed(database)
    app = create_app(settings.with_changes(redis_url="redis://127.0.0.1:1/0"))

    page = accept_on_the_page(app.test_client(), settings, database, proposal_id)

    assert page.status_code == 200
    assert "Chosen: Wed 4 Mar 13:05" in page.get_data(as_text=True)
    with database.unit() as session:
        proposal = session.get_one(Proposal, proposal_id)
        assert (proposal.status, proposal.booked_at) == ("accepted", None)
