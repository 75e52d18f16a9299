"""The outbox every email goes through: render a kind's three templates into a row, send it later.

Queueing only inserts a row (the caller commits); delivery (adapters.mail_delivery) claims the row
first, so a sender running twice, or two senders racing, send it once.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
from sqlalchemy.orm import Session

from service.adapters.mail_delivery import PermanentMailError, TransientMailError, deliver, send_now
from service.config import Settings
from service.engine import i18n
from service.models import OutboxEmail, User

__all__ = [
    "PermanentMailError",
    "TransientMailError",
    "clean_subject",
    "deliver",
    "domain",
    "is_plain_address",
    "queue",
    "queue_magic_link",
    "queue_to",
    "send_now",
    "unsubscribe_headers",
]

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
SUBJECT_LIMIT = 300  # the outbox column's size
# Line breaks, C0/C1 controls and the invisible characters that can reorder or hide text.
_UNSAFE = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200b\u200e\u200f\u202a-\u202e\u2060-\u2069\ufeff]"
)
_HEADER_NAME = re.compile(r"[A-Za-z0-9-]{1,76}")
# A plain ASCII address: what every SMTP server accepts, and nothing that can split a header.
_ADDRESS = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+"
)


def queue_magic_link(
    session: Session,
    settings: Settings,
    email: str,
    link: str,
    minutes: int = 15,
    language: str | None = None,
) -> OutboxEmail:
    """Queue the email with a sign-in link that works for the given minutes."""
    context = {"link": link, "minutes": minutes}
    return queue(session, settings, kind="magic_link", to=email, context=context, language=language)


def queue(
    session: Session,
    settings: Settings,
    *,
    kind: str,
    to: str,
    context: Mapping[str, Any],
    user_id: int | None = None,
    headers: Mapping[str, str] | None = None,
    message_id: str | None = None,
    calendar: str = "",
    unsubscribe: str | None = None,
    language: str | None = None,
) -> OutboxEmail:
    """Render templates/email/<kind>.* and add the email to the outbox (the caller commits).

    Args:
        kind: the template name, also the first part of the Message-ID.
        to: one plain address (no display name).
        context: what the templates show; base_url is always there.
        headers: extra headers, e.g. unsubscribe_headers(url) on recurring emails.
        message_id: a stable id for an email that must exist once (the unique column refuses
            a second row); a random one otherwise.
        calendar: an iCalendar object sent as text/calendar and invite.ics (invites).
        unsubscribe: the one-click unsubscribe link of a recurring email: in its text as
            unsubscribe_url and in its List-Unsubscribe headers.
        language: the recipient's language (service.engine.i18n.LANGUAGES); the current one
            when absent.
    """
    extra = dict(headers or {})
    if unsubscribe is not None:
        extra |= unsubscribe_headers(unsubscribe)
        context = {**context, "unsubscribe_url": unsubscribe}
    _check_address(to)
    _check_headers(extra)
    with i18n.language(language or i18n.current()) as code:
        values = {"base_url": settings.base_url, "lang": code, **context}
        subject = clean_subject(_render(f"email/{kind}.subject.txt", values))
        text = _render(f"email/{kind}.txt", values).strip() + "\n"
        html = _render(f"email/{kind}.html", values)
    extra.setdefault("Content-Language", code)  # RFC 3282: what a mail client reads it as
    row = OutboxEmail(
        kind=kind,
        to=to,
        user_id=user_id,
        subject=subject,
        text=text,
        html=html,
        message_id=message_id or f"<{kind}.{uuid.uuid4().hex}@{domain(settings)}>",
        headers=extra,
        calendar=calendar,
    )
    session.add(row)
    session.flush()  # the id, for send_now after the commit
    return row


def queue_to(
    session: Session,
    settings: Settings,
    user: User,
    kind: str,
    context: Mapping[str, Any],
    **options: Any,
) -> OutboxEmail:
    """Queue an email to one of Touchpoint's users (their address, kept with their data), in
    their language."""
    options.setdefault("language", user.language)
    return queue(
        session, settings, kind=kind, to=user.email, context=context, user_id=user.id, **options
    )


def unsubscribe_headers(url: str) -> dict[str, str]:
    """Return the headers that let a mail client unsubscribe with one click (RFC 8058)."""
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def clean_subject(value: str) -> str:
    """Return value as one line without control characters, short enough for the outbox."""
    # A subject often carries an event title from someone else's calendar: nothing in it may
    # end the header or hide text.
    line = " ".join(_UNSAFE.sub(" ", value[: SUBJECT_LIMIT * 4]).split())
    return line if len(line) <= SUBJECT_LIMIT else line[: SUBJECT_LIMIT - 1].rstrip() + "…"


def is_plain_address(value: str) -> bool:
    """Tell whether value is one plain email address the outbox accepts."""
    return len(value) <= 254 and _ADDRESS.fullmatch(value) is not None


def _check_address(to: str) -> None:
    if not is_plain_address(to):
        raise ValueError(f"not one plain email address: {to!r}")


def _check_headers(headers: Mapping[str, str]) -> None:
    for name, value in headers.items():
        if not _HEADER_NAME.fullmatch(name) or _UNSAFE.search(value):
            raise ValueError(f"unsafe email header {name!r}")


def domain(settings: Settings) -> str:
    """Return the host name Message-IDs and invite UIDs end with."""
    return urlsplit(settings.base_url).hostname or "localhost"


def _render(name: str, values: Mapping[str, Any]) -> str:
    return _environment().get_template(name).render(values)


@cache
def _environment() -> jinja2.Environment:
    # Only the HTML part is escaped: text parts and subjects are plain text, not markup.
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
        extensions=["jinja2.ext.i18n"],
    )
    # One environment for every language: the callables read the language queue() set.
    environment.policies["ext.i18n.trimmed"] = True
    environment.install_gettext_callables(  # type: ignore[attr-defined]
        _gettext, _ngettext, newstyle=True
    )
    return environment


def _gettext(message: str) -> str:
    return i18n.translations(i18n.current()).gettext(message)


def _ngettext(singular: str, plural: str, num: int) -> str:
    return i18n.translations(i18n.current()).ngettext(singular, plural, num)
