"""The local outbox: emails written as .eml files when no SMTP server is configured.

Those files hold everyone's sign-in links, so the pages exist only on the machine itself: they
answer 404 unless SMTP is off, the app is not in production, and the request comes from a
loopback address without proxy headers (a reverse proxy on the same host also connects from
127.0.0.1) and names this machine in its Host (a page from elsewhere that rebinds its own
domain name to 127.0.0.1 still sends its own name).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from flask import Blueprint, Response, abort, render_template, request
from flask.typing import ResponseReturnValue

from service.config import Settings
from service.web.context import app_settings

bp = Blueprint("outbox", __name__)

LISTED = 200  # newest first; older files stay in the folder
# What the local outbox writes (adapters.mail_delivery): no slash, no leading dot (partial files).
NAME = re.compile(r"[A-Za-z0-9_@-][A-Za-z0-9._@-]{0,250}\.eml")
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "[::1]"})
PROXY_HEADERS = frozenset({"forwarded", "x-forwarded-for", "x-forwarded-host", "x-real-ip"})
# The HTML part is shown on its own, as an opaque origin that can run nothing and fetch nothing.
HTML_POLICY = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"
_URL = re.compile(r"https?://[^\s<>\"']+")


@dataclass(frozen=True, slots=True)
class Letter:
    """One email in the local outbox, as the list shows it."""

    name: str
    subject: str
    to: str
    sent_at: datetime | None


def outbox_open(
    settings: Settings, remote_addr: str | None, host: str, headers: Iterable[str]
) -> bool:
    """Say whether the outbox pages may answer a request from this address, to this Host."""
    if settings.production or settings.smtp.enabled:
        return False
    if PROXY_HEADERS.intersection(name.lower() for name in headers):
        return False
    return is_loopback(remote_addr) and names_this_machine(host)


def names_this_machine(host: str) -> bool:
    """Tell whether a Host header is a loopback name (localhost, 127.0.0.1, [::1]), any port."""
    name = re.sub(r":[0-9]*$", "", host.strip().lower())
    return name in LOOPBACK_NAMES


def is_loopback(address: str | None) -> bool:
    """Tell whether an address is this machine's own (127.0.0.0/8, ::1, or ::ffff:127.x)."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped.is_loopback
    return ip.is_loopback


@bp.before_request
def _only_here() -> None:
    if not outbox_open(app_settings(), request.remote_addr, request.host, request.headers.keys()):
        abort(404)


@bp.get("/outbox")
def index() -> ResponseReturnValue:
    folder = app_settings().outbox_dir
    return render_template("web/outbox.html", letters=letters_in(folder), folder=folder.resolve())


@bp.get("/outbox/<name>")
def show(name: str) -> ResponseReturnValue:
    path = _path_or_404(name)
    message = _read(path)
    text = message.get_body(preferencelist=("plain",))
    return render_template(
        "web/outbox_email.html",
        letter=_letter(path, message),
        lines=linked(text.get_content() if text else "", app_settings().base_url),
        has_html=message.get_body(preferencelist=("html",)) is not None,
        attachments=[part.get_filename() or "unnamed" for part in message.iter_attachments()],
    )


@bp.get("/outbox/<name>/raw")
def raw(name: str) -> ResponseReturnValue:
    # Read whole (emails are small), so no open file outlives the response.
    data = _path_or_404(name).read_bytes()
    disposition = f'attachment; filename="{name}"'  # NAME allows no quote or backslash
    return Response(data, mimetype="message/rfc822", headers={"Content-Disposition": disposition})


@bp.get("/outbox/<name>/html")
def html(name: str) -> ResponseReturnValue:
    part = _read(_path_or_404(name)).get_body(preferencelist=("html",))
    if part is None:
        abort(404)
    response = Response(part.get_content(), mimetype="text/html")
    response.headers["Content-Security-Policy"] = HTML_POLICY
    return response


def letters_in(folder: Path) -> list[Letter]:
    """Return the newest emails in the folder, newest first."""
    if not folder.is_dir():
        return []
    paths = [path for path in folder.iterdir() if _written_here(path)]
    paths.sort(key=lambda p: (p.stat().st_mtime_ns, p.name), reverse=True)
    return [_letter(path, _read(path, headers_only=True)) for path in paths[:LISTED]]


def linked(text: str, base_url: str) -> list[list[tuple[str, bool]]]:
    """Cut text into lines of (piece, is_link); only this site's own addresses become links."""
    own = base_url.rstrip("/") + "/"
    lines = []
    for line in text.splitlines():
        pieces, last = [], 0
        for match in _URL.finditer(line):
            if match.group().startswith(own):
                pieces += [(line[last : match.start()], False), (match.group(), True)]
                last = match.end()
        lines.append([*pieces, (line[last:], False)])
    return lines


def _path_or_404(name: str) -> Path:
    path = app_settings().outbox_dir / name
    if "/" in name or not _written_here(path):
        abort(404)
    return path


def _written_here(path: Path) -> bool:
    """Tell whether path is an email file itself, not a link to some other file."""
    return NAME.fullmatch(path.name) is not None and path.is_file() and not path.is_symlink()


def _read(path: Path, *, headers_only: bool = False) -> EmailMessage:
    with path.open("rb") as handle:
        message = BytesParser(policy=policy.default).parse(handle, headersonly=headers_only)
    assert isinstance(message, EmailMessage)  # what policy.default builds
    return message


def _letter(path: Path, message: EmailMessage) -> Letter:
    return Letter(
        path.name, str(message["Subject"] or ""), str(message["To"] or ""), _date(message)
    )


def _date(message: EmailMessage) -> datetime | None:
    header = message["Date"]
    moment = getattr(header, "datetime", None)
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        return None
    return moment.astimezone(UTC)
