"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for tests.

Use the `smtp_server` fixture (import smtp_server_fixture into a test module, or list this module
in conftest's pytest_plugins); `smtp_server.settings` is the Smtp block pointing at it. It can be
stopped and started again on the same port (an outage), and told to refuse mail with a reply.
`addressed_to`, `text_of` and `invite_of` read what it received.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, cast

import icalendar
import pytest
from aiosmtpd.controller import Controller

from service.config import Smtp


class SmtpServer:
    """An SMTP server on 127.0.0.1 that collects messages, parsed, in the order they arrive."""

    host = "127.0.0.1"

    def __init__(self) -> None:
        self.port = _free_port()
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []  # the envelope's RCPT TO, one list per message
        self.refusal: tuple[str, str] | None = None  # (SMTP command, reply)
        self._arrived = threading.Condition()
        self._controller: Controller | None = None

    @property
    def settings(self) -> Smtp:
        return Smtp(host=self.host, port=self.port, starttls=False)

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> None:
        """Listen (again) on this server's port."""
        # A stopped controller's event loop is closed, so each start builds a new one.
        self._controller = Controller(self, hostname=self.host, port=self.port, ready_timeout=5)
        self._controller.start()

    def stop(self) -> None:
        """Stop listening: connections are refused until start()."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def refuse(self, reply: str, at: str = "RCPT") -> None:
        """Answer the given command (RCPT or DATA) with reply, e.g. "550 5.1.1 No such user"."""
        self.refusal = (at, reply)

    def accept(self) -> None:
        """Take mail normally again."""
        self.refusal = None

    def wait_for(self, count: int, timeout: float = 5.0) -> list[EmailMessage]:
        """Return the messages once at least count arrived; fail after timeout seconds."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.messages) >= count, timeout):
                raise AssertionError(f"expected {count} emails, {len(self.messages)} arrived")
            return list(self.messages)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self.refusal and self.refusal[0] == "RCPT":
            return self.refusal[1]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refusal and self.refusal[0] == "DATA":
            return self.refusal[1]
        message = cast(EmailMessage, message_from_bytes(envelope.content, policy=policy.default))
        with self._arrived:
            self.messages.append(message)
            self.recipients.append(list(envelope.rcpt_tos))
            self._arrived.notify_all()
        return "250 Message accepted for delivery"


def addressed_to(messages: list[EmailMessage], address: str) -> EmailMessage:
    """The one message sent to this address."""
    found = [message for message in messages if message["To"] == address]
    assert len(found) == 1, f"{len(found)} emails to {address}"
    return found[0]


def text_of(message: Any) -> str:
    """The plain-text body of a message."""
    return str(message.get_body(("plain",)).get_content())


def invite_of(message: EmailMessage) -> tuple[icalendar.Calendar, EmailMessage, bytes]:
    """Return the text/calendar alternative parsed, that part, and the invite.ics attachment."""
    assert message.get_content_type() == "multipart/mixed"
    alternative = next(message.iter_parts())
    assert alternative.get_content_type() == "multipart/alternative"
    kinds = [part.get_content_type() for part in alternative.iter_parts()]
    assert kinds == ["text/plain", "text/html", "text/calendar"]
    part = list(alternative.iter_parts())[2]
    attachment = next(p for p in message.iter_attachments() if p.get_filename() == "invite.ics")
    return icalendar.Calendar.from_ical(part.get_content()), part, attachment.get_content()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(name="smtp_server")
def smtp_server_fixture() -> Iterator[SmtpServer]:
    """A running SMTP server on loopback, stopped at the end of the test."""
    server = SmtpServer()
    server.start()
    yield server
    server.stop()
