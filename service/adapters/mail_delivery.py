"""Delivering one outbox row: claim it, send it (SMTP, or a file in the local outbox), record it.

The claim makes sending at-most-once: a row is sent only by whoever changed its claimed_at from
NULL. A transient failure releases the claim for a later retry; a permanent one keeps it (and
records refused_at), so the row is never retried. Just before the message goes to the mail server
the row is marked handed_over: a sender stopped before that cannot have delivered it, one stopped
after may have (workers.email decides what a stale claim gets).
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import SMTP, default
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from service import clock
from service.adapters.db import Database
from service.adapters.metrics import EMAILS
from service.config import Settings, Smtp
from service.data_dir import write_private
from service.models import OutboxEmail

log = logging.getLogger(__name__)
SMTP_TIMEOUT = 10  # seconds, for connecting and for each reply
_FILE_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9._@-]")
_ITIP_METHOD = re.compile(r"^METHOD:([A-Z-]+)\r?$", re.MULTILINE)


class MailError(Exception):
    """An email could not be sent."""


class TransientMailError(MailError):
    """Sending failed for now (server down or busy, a 4xx reply): try again later."""


class PermanentMailError(MailError):
    """The email cannot be sent as it is (a 5xx reply, a malformed row): never retry it."""


def deliver(db: Database, outbox_id: int, settings: Settings, now: datetime) -> str:
    """Send one queued email unless it is claimed or sent already; return "sent" or "skipped"."""
    engine = _engine(db)
    row = _claim(engine, outbox_id, now)
    if row is None:
        return "skipped"
    started = time.monotonic()
    try:
        message = compose(row, settings, now)
        _transport(message, settings, lambda: _change(engine, outbox_id, handed_over=True))
    except TransientMailError as exc:
        _record_failure(engine, outbox_id, str(exc), release=True)
        EMAILS.labels("retry").inc()
        raise
    except PermanentMailError as exc:
        _record_failure(engine, outbox_id, str(exc), refused_at=now)
        EMAILS.labels("failed").inc()
        raise
    # The time the server accepted it: `now` is when this send began (frozen in tests).
    accepted = now + timedelta(seconds=time.monotonic() - started)
    _record_sent(engine, outbox_id, accepted)
    EMAILS.labels("sent").inc()
    return "sent"


def send_now(db: Database, settings: Settings, outbox_id: int) -> str:
    """Deliver a committed email at once; return "sent", "skipped", "retrying" or "failed".

    "retrying" means the mail server did not take it now: the row is left for the sender job.
    """
    try:
        return deliver(db, outbox_id, settings, clock.now())
    except TransientMailError as exc:
        log.warning("email %s not sent yet, left for a retry: %s", outbox_id, exc)
        return "retrying"
    except PermanentMailError as exc:
        log.error("email %s refused for good: %s", outbox_id, exc)
        return "failed"


def compose(row: OutboxEmail, settings: Settings, now: datetime) -> EmailMessage:
    """Build the message for one outbox row: plain text with an HTML alternative.

    A row with a calendar invite gets it as a third alternative (text/calendar, so mail clients
    show Accept / Decline) and again as an invite.ics attachment.
    """
    # Long List-Unsubscribe URLs must stay plain: RFC 5322 allows 998 characters a line, and a
    # 78-character fold would turn them into encoded words mail clients cannot read.
    message = EmailMessage(policy=SMTP.clone(max_line_length=998))
    try:
        # The SMTP policy refuses any header value with a line break: no header injection.
        message["Subject"] = row.subject
        message["From"] = settings.mail_from
        message["To"] = row.to
        message["Date"] = format_datetime(now.astimezone(UTC))
        message["Message-ID"] = row.message_id
        message["Auto-Submitted"] = "auto-generated"
        for name, value in row.headers.items():
            if not name.lower().startswith("content-"):
                message[name] = value
    except (ValueError, TypeError) as exc:
        raise PermanentMailError(f"malformed email: {exc}") from exc
    message.set_content(row.text)
    if row.html:
        message.add_alternative(row.html, subtype="html")
    if row.calendar:
        _add_invite(message, row.calendar)
    # Content-Language last: set_content drops the Content-* headers and make_mixed moves them
    # into the first part, where a mail client does not look for the message's language.
    try:
        for name, value in row.headers.items():
            if name.lower().startswith("content-"):
                message[name] = value
    except (ValueError, TypeError) as exc:
        raise PermanentMailError(f"malformed email: {exc}") from exc
    return message


def _add_invite(message: EmailMessage, calendar: str) -> None:
    method = _ITIP_METHOD.search(calendar)
    params = {"method": method.group(1) if method else "REQUEST"}
    message.add_alternative(calendar, subtype="calendar", params=params)
    # Its own part with the default policy, so the base64 lines are 76 characters, not 998.
    attachment = EmailMessage(policy=SMTP)
    attachment.set_content(
        calendar.encode(), maintype="application", subtype="ics", filename="invite.ics"
    )
    message.make_mixed()
    message.attach(attachment)


def _engine(db: Database) -> Engine:
    if db.engine is None:
        raise RuntimeError("the database is not connected")
    return db.engine


def _claim(engine: Engine, outbox_id: int, now: datetime) -> OutboxEmail | None:
    """Claim the row for this sender; return it, or None when someone else has it."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        # The UPDATE comes first in its transaction, so SQLite waits for the write lock
        # instead of failing on a stale snapshot, and PostgreSQL re-checks the WHERE.
        claimed = session.connection().execute(
            update(OutboxEmail)
            .where(
                OutboxEmail.id == outbox_id,
                OutboxEmail.claimed_at.is_(None),
                OutboxEmail.sent_at.is_(None),
            )
            .values(claimed_at=now, handed_over=False)
        )
        if claimed.rowcount != 1:
            return None
        return session.get(OutboxEmail, outbox_id)


def _record_sent(engine: Engine, outbox_id: int, now: datetime) -> None:
    _change(engine, outbox_id, sent_at=now, attempts=OutboxEmail.attempts + 1, last_error="")


def _record_failure(
    engine: Engine,
    outbox_id: int,
    error: str,
    *,
    release: bool = False,
    refused_at: datetime | None = None,
) -> None:
    changes: dict[str, Any] = {"attempts": OutboxEmail.attempts + 1, "last_error": error[:500]}
    if release:
        changes["claimed_at"] = None
    if refused_at is not None:
        changes["refused_at"] = refused_at
    _change(engine, outbox_id, **changes)


def _change(engine: Engine, outbox_id: int, **values: Any) -> None:
    with engine.begin() as connection:
        connection.execute(update(OutboxEmail).where(OutboxEmail.id == outbox_id).values(values))


def _transport(message: EmailMessage, settings: Settings, handing: Callable[[], None]) -> None:
    """Send the message; call handing() just before it goes out (after connecting)."""
    if settings.smtp.enabled:
        _send_smtp(message, settings.smtp, handing)
    else:
        handing()
        _write_to_local_outbox(message, settings.outbox_dir)


def _send_smtp(message: EmailMessage, smtp: Smtp, handing: Callable[[], None]) -> None:
    try:
        server = smtplib.SMTP(smtp.host, smtp.port, timeout=SMTP_TIMEOUT)
        try:
            if smtp.starttls:
                server.starttls(context=ssl.create_default_context())
            if smtp.username:
                server.login(smtp.username, smtp.password)
            handing()
            server.send_message(message)
        finally:
            _quit_quietly(server)
    except smtplib.SMTPRecipientsRefused as exc:
        refusals = exc.recipients.items()
        error = "; ".join(f"{to} refused: {code} {_text(reply)}" for to, (code, reply) in refusals)
        raise _by_code(min(code for code, _reply in exc.recipients.values()), error) from exc
    except smtplib.SMTPAuthenticationError as exc:
        # Our credentials, not this email, are wrong: it can go once the operator fixes them.
        raise TransientMailError(f"SMTP login refused: {_reply(exc)}") from exc
    except smtplib.SMTPResponseException as exc:
        raise _by_code(exc.smtp_code, _reply(exc)) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise TransientMailError(f"SMTP server unreachable: {exc!r}") from exc


def _quit_quietly(server: smtplib.SMTP) -> None:
    """Say goodbye; once the message was accepted, a failed QUIT must not count as a failure."""
    try:
        server.quit()
    except (smtplib.SMTPException, OSError):
        server.close()


def _by_code(code: int, error: str) -> MailError:
    if 500 <= code < 600:
        return PermanentMailError(error)
    return TransientMailError(error)


def _reply(exc: smtplib.SMTPResponseException) -> str:
    return f"{exc.smtp_code} {_text(exc.smtp_error)}"


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)


def _write_to_local_outbox(message: EmailMessage, directory: Path) -> None:
    """Write the message as an .eml file (a laptop without SMTP reads its mail there)."""
    name = _file_name(str(message["Message-ID"]))
    try:
        # Owner-only: the emails carry live sign-in links.
        write_private(directory / name, message.as_bytes())
    except OSError as exc:
        raise TransientMailError(f"cannot write to the local outbox: {exc}") from exc


def local_copies(directory: Path, message_ids: Iterable[str], address: str) -> list[Path]:
    """Return the local outbox files of these emails, and of any other email to this address."""
    if not directory.is_dir():
        return []
    named = {directory / _file_name(message_id) for message_id in message_ids}
    address = address.lower()
    for path in directory.glob("*.eml"):
        if path not in named and not path.is_symlink():
            with path.open("rb") as handle:
                headers = BytesHeaderParser(policy=default).parse(handle)
            if str(headers.get("To", "")).strip().lower() == address:
                named.add(path)
    return sorted(path for path in named if path.is_file())


def _file_name(message_id: str) -> str:
    return _FILE_NAME_UNSAFE.sub("_", message_id.strip("<>")) + ".eml"
