"""The outbox: emails are rendered into rows, then delivered once, whatever the mail server does."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import cast

import pytest
from sqlalchemy.orm import Session

from service.adapters import mail
from service.adapters.db import Database
from service.config import Settings
from service.models import OutboxEmail
from tests.factories import ALICE, NOW, race
from tests.smtp_server import SmtpServer, smtp_server_fixture  # noqa: F401 (the fixture)

LINK = "http://localhost/signin/7.s3cret"


@pytest.fixture
def smtp_settings(settings: Settings, smtp_server: SmtpServer) -> Settings:
    return settings.with_changes(smtp=smtp_server.settings)


def queued(database: Database, settings: Settings, link: str = LINK, **changes: object) -> int:
    """Queue a magic-link email to alice (with any column changed) and commit; return its id."""
    with database.unit() as session:
        row = mail.queue_magic_link(session, settings, ALICE, link)
        for name, value in changes.items():
            setattr(row, name, value)
    return row.id


def stored(database: Database, outbox_id: int) -> OutboxEmail:
    with Session(database.engine) as session:
        row = session.get(OutboxEmail, outbox_id)
        assert row is not None
        return row


def parts(message: EmailMessage) -> dict[str, str]:
    return {part.get_content_type(): part.get_content() for part in message.iter_parts()}


def test_a_queued_email_has_a_subject_a_text_part_and_an_html_part(
    database: Database, settings: Settings
) -> None:
    row = stored(database, queued(database, settings))

    assert row.subject == "Your Touchpoint sign-in link"
    assert LINK in row.text
    assert f'href="{LINK}"' in row.html
    assert row.message_id.startswith("<magic_link.")
    assert row.message_id.endswith("@localhost>")
    assert (row.claimed_at, row.sent_at, row.attempts) == (None, None, 0)


def test_only_the_html_part_escapes_what_it_shows(database: Database, settings: Settings) -> None:
    row = stored(database, queued(database, settings, link='http://localhost/x?a=<b>&c="d"'))

    assert 'http://localhost/x?a=<b>&c="d"' in row.text
    assert "http://localhost/x?a=&lt;b&gt;&amp;c=&#34;d&#34;" in row.html
    assert "<b>" not in row.html


def test_a_subject_loses_its_line_breaks_and_control_characters() -> None:
    hostile = "Lunch with Bob\r\nBcc: eve@evil.example\x00\u202e"

    assert mail.clean_subject(hostile) == "Lunch with Bob Bcc: eve@evil.example"


def test_a_row_whose_subject_would_add_a_header_is_refused_not_sent(
    database: Database, smtp_settings: Settings, smtp_server: SmtpServer
) -> None:
    outbox_id = queued(database, smtp_settings, subject="Hi\r\nBcc: eve@evil.example")

    with pytest.raises(mail.PermanentMailError):
        mail.deliver(database, outbox_id, smtp_settings, NOW)

    assert smtp_server.messages == []
    assert stored(database, outbox_id).sent_at is None


def test_an_address_that_is_not_one_plain_address_is_not_queued(
    database: Database, settings: Settings
) -> None:
    with database.unit() as session:
        for hostile in ("alice@example.com\r\nBcc: eve@evil.example", "a@example.com, b@x.org"):
            with pytest.raises(ValueError, match="not one plain email address"):
                mail.queue_magic_link(session, settings, hostile, LINK)


def test_deliver_sends_the_email_over_smtp_as_text_with_an_html_alternative(
    database: Database, smtp_settings: Settings, smtp_server: SmtpServer
) -> None:
    outbox_id = queued(database, smtp_settings)

    assert mail.deliver(database, outbox_id, smtp_settings, NOW) == "sent"

    [message] = smtp_server.wait_for(1)
    assert smtp_server.recipients == [[ALICE]]
    assert message["To"] == ALICE
    assert message["From"] == "Touchpoint <touchpoint@localhost>"
    assert message["Subject"] == "Your Touchpoint sign-in link"
    assert message["Message-ID"] == stored(database, outbox_id).message_id
    assert "List-Unsubscribe" not in message  # a sign-in link is not a recurring email
    assert message.get_content_type() == "multipart/alternative"
    assert LINK in parts(message)["text/plain"]
    assert f'href="{LINK}"' in parts(message)["text/html"]
    row = stored(database, outbox_id)
    assert (row.attempts, row.last_error) == (1, "")
    assert NOW <= row.sent_at < NOW + timedelta(seconds=5)  # when the server accepted it


def test_a_recurring_email_carries_one_click_unsubscribe_headers(
    database: Database, smtp_settings: Settings, smtp_server: SmtpServer
) -> None:
    unsubscribe = "http://localhost/unsubscribe/abc"
    headers = mail.unsubscribe_headers(unsubscribe)
    outbox_id = queued(database, smtp_settings, headers=headers)

    mail.deliver(database, outbox_id, smtp_settings, NOW)

    [message] = smtp_server.wait_for(1)
    assert message["List-Unsubscribe"] == f"<{unsubscribe}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_delivering_the_same_email_twice_sends_it_once(
    database: Database, smtp_settings: Settings, smtp_server: SmtpServer
) -> None:
    outbox_id = queued(database, smtp_settings)

    first = mail.deliver(database, outbox_id, smtp_settings, NOW)
    second = mail.deliver(database, outbox_id, smtp_settings, NOW)

    assert (first, second) == ("sent", "skipped")
    assert len(smtp_server.messages) == 1


def test_two_senders_racing_for_one_email_send_it_once(
    database: Database, smtp_settings: Settings, smtp_server: SmtpServer
) -> None:
    outbox_id = queued(database, smtp_settings)

    results = race(lambda: mail.deliver(database, outbox_id, smtp_settings, NOW))

    assert sorted(results) == ["sent", "skipped"]
    assert len(smtp_server.messages) == 1


def test_an_smtp_outage_leaves_the_email_for_a_retry_that_sends_it(
    database: Database, smtp_settings: Settings, smtp_server: SmtpServer
) -> None:
    outbox_id = queued(database, smtp_settings)
    smtp_server.stop()

    with pytest.raises(mail.TransientMailError):
        mail.deliver(database, outbox_id, smtp_settings, NOW)

    row = stored(database, outbox_id)
    assert (row.claimed_at, row.sent_at, row.attempts) == (None, None, 1)
    assert "unreachable" in row.last_error
    smtp_server.start()
    assert mail.deliver(database, outbox_id, smtp_settings, NOW) == "sent"
    assert len(smtp_server.wait_for(1)) == 1
    assert stored(database, outbox_id).attempts == 2


def test_a_4xx_reply_is_transient_and_the_email_goes_once_the_server_takes_it(
    database: Database, smtp_settings: Settings, smtp_server: SmtpServer
) -> None:
    outbox_id = queued(database, smtp_settings)
    smtp_server.refuse("451 4.3.0 Try again later", at="DATA")

    with pytest.raises(mail.TransientMailError, match="451"):
        mail.deliver(database, outbox_id, smtp_settings, NOW)

    assert stored(database, outbox_id).claimed_at is None
    smtp_server.accept()
    assert mail.deliver(database, outbox_id, smtp_settings, NOW) == "sent"
    assert len(smtp_server.messages) == 1


def test_a_5xx_reply_is_permanent_and_the_email_is_never_retried(
    database: Database, smtp_settings: Settings, smtp_server: SmtpServer
) -> None:
    outbox_id = queued(database, smtp_settings)
    smtp_server.refuse("550 5.1.1 No such user")

    with pytest.raises(mail.PermanentMailError, match="550"):
        mail.deliver(database, outbox_id, smtp_settings, NOW)

    smtp_server.accept()
    assert mail.deliver(database, outbox_id, smtp_settings, NOW) == "skipped"
    row = stored(database, outbox_id)
    assert row.claimed_at is not None
    assert row.sent_at is None
    assert "550 5.1.1 No such user" in row.last_error
    assert smtp_server.messages == []


def test_send_now_says_it_will_retry_when_the_mail_server_is_down(
    database: Database, smtp_settings: Settings, smtp_server: SmtpServer
) -> None:
    outbox_id = queued(database, smtp_settings)
    smtp_server.stop()

    assert mail.send_now(database, smtp_settings, outbox_id) == "retrying"
    assert stored(database, outbox_id).claimed_at is None


def test_without_smtp_the_email_is_written_to_the_local_outbox(
    database: Database, settings: Settings
) -> None:
    outbox_id = queued(database, settings)

    assert mail.deliver(database, outbox_id, settings, NOW) == "sent"

    message_id = stored(database, outbox_id).message_id
    [path] = settings.outbox_dir.glob("*.eml")
    assert path.name == message_id.strip("<>") + ".eml"
    message = cast(EmailMessage, message_from_bytes(path.read_bytes(), policy=policy.default))
    assert message["To"] == ALICE
    assert message["Subject"] == "Your Touchpoint sign-in link"
    assert message["Message-ID"] == message_id
    assert LINK in parts(message)["text/plain"]
    assert NOW <= stored(database, outbox_id).sent_at < NOW + timedelta(seconds=5)
