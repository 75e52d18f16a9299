"""Proposing a career chat when one is due: one proposal, one email, and the reasons for none."""

from __future__ import annotations

import re
import threading
import time
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.adapters.db import Database
from service.adapters.mail import send_now
from service.config import Settings
from service.engine.model import Attendee
from service.models import OutboxEmail, Proposal, User
from service.proposals import propose as proposing
from service.proposals.answer import proposal_from_token
from tests.factories import ALICE, CAROL, DAN, NOW, add_user, at, meeting
from tests.smtp_server import SmtpServer

LUNCH = meeting("Lunch with Carol", at(4, 12), 60, with_=(CAROL,))  # Wednesday
MENTORING = meeting("Mentoring with Dan", at(17, 9, month=2), with_=(DAN,))  # 12 days before NOW
EN_DASH = "\u2013"
# The engine's three times for alice with LUNCH on her calendar, in Berlin.
TIMES = (f"Mon 2 Mar 09:15{EN_DASH}09:30", f"Tue 3 Mar 09:15{EN_DASH}09:30",
         f"Wed 4 Mar 13:05{EN_DASH}13:20")  # fmt: skip


@pytest.fixture
def settings(settings: Settings, smtp_server: SmtpServer) -> Settings:
    return settings.with_changes(smtp=smtp_server.settings)


def user_in(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    assert user is not None
    return user


def run(database: Database, settings: Settings, user_id: int, **at: Any) -> proposing.Attempt:
    """Propose for the user as the planner would, committing like the caller does."""
    with database.unit() as session:
        return proposing.attempt(session, settings, user_in(session, user_id), at.get("now", NOW))


def counts(database: Database) -> tuple[int, int]:
    with database.unit() as session:
        proposals = session.scalar(select(func.count(Proposal.id)))
        emails = session.scalar(
            select(func.count(OutboxEmail.id)).where(OutboxEmail.kind == "proposal")
        )
        return proposals or 0, emails or 0


def emailed(database: Database, settings: Settings, smtp: SmtpServer, user_id: int) -> EmailMessage:
    """Propose for the user, send the email and return it as the SMTP server received it."""
    attempt = run(database, settings, user_id)
    assert attempt.email is not None
    assert send_now(database, settings, attempt.email.id) == "sent"
    [message] = smtp.wait_for(1)
    return message


def body(message: EmailMessage, kind: str) -> str:
    return message.get_body((kind,)).get_content()  # type: ignore[union-attr]


# A due chat becomes one proposal and one email ------------------------------------------------


def test_a_due_chat_becomes_one_proposal_with_three_times_and_the_partner(
    database: Database, settings: Settings
) -> None:
    user_id = add_user(database, [LUNCH])

    result = run(database, settings, user_id)

    assert result.reason == proposing.SENT
    with database.unit() as session:
        proposal = session.scalars(select(Proposal)).one()
        assert (proposal.user_id, proposal.partner, proposal.status) == (user_id, CAROL, "proposed")
        assert proposal.reason.startswith("You have lunch with Carol on Wed 4 Mar")
        # The reason names the lunch: the first time is right after it.
        assert proposal.slots[0] == ["2026-03-04T12:05:00+00:00", "2026-03-04T12:20:00+00:00"]
        assert proposal.slots[1] == ["2026-03-02T08:15:00+00:00", "2026-03-02T08:30:00+00:00"]
        assert len(proposal.slots) == 3
        assert proposal.expires_at == at(4, 13, 5)  # the last time's start, within the week


def test_the_email_arrives_with_an_accept_link_per_time(
    database: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    user_id = add_user(database, [LUNCH])

    message = emailed(database, settings, smtp_server, user_id)

    assert message["Subject"] == "15 minutes with Carol?"
    assert smtp_server.recipients == [[ALICE]]
    text, html = body(message, "plain"), body(message, "html")
    for label in TIMES:
        assert label in text
        assert label in html
    assert "How can I add value for Carol?" in text
    assert "What is one insight I would like from Carol?" in html
    links = re.findall(r"Accept: (\S+)", text)
    assert [link.rsplit("?", 1)[1] for link in links] == ["slot=1", "slot=2", "slot=3"]
    with database.unit() as session:
        token = links[0].removeprefix("http://localhost/p/").split("?")[0]
        assert proposal_from_token(session, settings.secret_key, token).user_id == user_id
    assert "?answer=decline" in text
    assert "?answer=other_times" in text


def test_the_email_carries_one_click_unsubscribe_headers(
    database: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    user_id = add_user(database, [LUNCH])

    message = emailed(database, settings, smtp_server, user_id)

    link = str(message["List-Unsubscribe"])
    assert re.fullmatch(r"<http://localhost/unsubscribe/[\w.-]+>", link)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link.strip("<>") in body(message, "plain")


def test_the_unsubscribe_header_travels_as_a_plain_url(
    database: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    user_id = add_user(database, [LUNCH])

    message = emailed(database, settings, smtp_server, user_id)

    raw = dict(message.raw_items())["List-Unsubscribe"]
    assert "=?" not in raw
    assert raw.strip().startswith("<http://localhost/unsubscribe/")


def test_proposing_twice_makes_one_proposal_and_one_email(
    database: Database, settings: Settings
) -> None:
    user_id = add_user(database, [LUNCH])
    with database.unit() as session:  # twice in one transaction, then once more an hour later
        made = [proposing.propose(session, settings, user_in(session, user_id), NOW) for _ in "12"]

    later = run(database, settings, user_id, now=NOW + timedelta(hours=1))

    assert made[0] is not None
    assert made[1] is None
    assert (later.reason, later.proposal, later.email) == (proposing.ALREADY_OPEN, None, None)
    assert counts(database) == (1, 1)


def test_a_racing_planner_waits_and_then_finds_the_proposal_open(
    database: Database, settings: Settings
) -> None:
    user_id = add_user(database, [LUNCH])
    assert database.engine is not None
    outcome: list[str] = []

    def second_planner() -> None:
        with Session(database.engine) as session:
            user = user_in(session, user_id)
            outcome.append(proposing.attempt(session, settings, user, NOW).reason)
            session.commit()

    with Session(database.engine) as first:
        user = user_in(first, user_id)
        assert proposing.attempt(first, settings, user, NOW).reason == proposing.SENT
        racer = threading.Thread(target=second_planner)
        racer.start()
        time.sleep(0.5)
        assert racer.is_alive(), "the second planner did not wait for the first"
        first.commit()
    racer.join(timeout=20)

    assert outcome == [proposing.ALREADY_OPEN]
    assert counts(database) == (1, 1)


# No proposal, and why ------------------------------------------------------------------------


def test_no_proposal_when_no_chat_is_due(database: Database, settings: Settings) -> None:
    user_id = add_user(database, [MENTORING, LUNCH])

    result = run(database, settings, user_id)

    assert result.reason == proposing.NOT_DUE
    assert result.why == "your next career conversation is not due yet."
    assert counts(database) == (0, 0)


def test_no_proposal_while_paused_and_one_once_the_pause_is_over(
    database: Database, settings: Settings
) -> None:
    user_id = add_user(database, [LUNCH], paused_until=NOW + timedelta(days=7))

    paused = run(database, settings, user_id)
    after = run(database, settings, user_id, now=NOW + timedelta(days=7, minutes=1))

    assert paused.reason == proposing.PAUSED
    assert paused.why == "proposals are paused until Mon 9 Mar."
    assert after.reason == proposing.SENT


def test_no_proposal_with_a_weekly_budget_of_zero(database: Database, settings: Settings) -> None:
    user_id = add_user(database, [LUNCH], weekly_nudges=0)

    result = run(database, settings, user_id)

    assert result.reason == proposing.BUDGET_USED
    assert counts(database) == (0, 0)


def test_a_declined_proposal_uses_this_weeks_budget(database: Database, settings: Settings) -> None:
    user_id = add_user(database, [LUNCH])
    with database.unit() as session:
        made = NOW - timedelta(days=6)
        session.add(Proposal(user_id=user_id, status="declined", created_at=made, expires_at=NOW))

    result = run(database, settings, user_id)
    later = run(database, settings, user_id, now=NOW + timedelta(days=1, minutes=1))

    assert result.reason == proposing.BUDGET_USED
    assert "this week's proposals are used (one a week" in result.why
    assert later.reason == proposing.SENT


def test_no_proposal_without_a_free_slot(database: Database, settings: Settings) -> None:
    all_day = [meeting("Offsite", at(day, 0), 24 * 60, with_=()) for day in range(2, 17)]
    user_id = add_user(database, [LUNCH, *all_day])

    result = run(database, settings, user_id)

    assert result.reason == proposing.NO_FREE_SLOT
    assert counts(database) == (0, 0)


# Hostile calendars ------------------------------------------------------------------------


def test_hostile_names_and_titles_cannot_inject_headers_or_html(
    database: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    hostile = "Carol<script>alert(1)</script>\r\nX-Injected: yes"
    lunch = meeting(
        "Lunch <img src=x onerror=alert(1)>\r\nBcc: victim@evil.org",
        at(4, 12),
        60,
        attendees=(Attendee(ALICE, "Alice", "accepted"), Attendee(CAROL, hostile, "accepted")),
    )
    user_id = add_user(database, [lunch])

    message = emailed(database, settings, smtp_server, user_id)

    assert message["X-Injected"] is None
    assert message["Bcc"] is None
    assert smtp_server.recipients == [[ALICE]]
    html = body(message, "html")
    assert "<script>" not in html
    assert "<img src=x" not in html
    assert "Carol&lt;script&gt;alert(1)&lt;/script&gt; X-Injected: yes" in html
    with database.unit() as session:
        assert "\n" not in session.scalars(select(Proposal.reason)).one()
