"""Calendar feeds from a real HTTP server on loopback, for the tests that fetch an ICS address.

The `feeds` fixture runs one for a test; `serving()` runs one for a block. Each path answers its
`Feed` (a body, a status, an ETag for conditional requests), and every request is recorded.
`tls_handshake_once()` is an https server that stops at the handshake (a self-signed certificate).
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from service.adapters.http import MiB

FIXTURES = Path(__file__).parent / "fixtures"
GOOGLE = (FIXTURES / "google.ics").read_bytes()
SECRET_PATH = "/calendar/ical/alice%40example.com/private-8f3a9c2e71/basic.ics"


@dataclass
class Feed:
    """What the server answers on one path; an etag makes it answer 304 to a matching request."""

    body: bytes = GOOGLE
    status: int = 200
    etag: str = ""
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "text/calendar; charset=utf-8"),)


class FeedServer(ThreadingHTTPServer):
    """Calendar feeds on 127.0.0.1: each path answers its Feed, and every request is recorded."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _FeedHandler)
        self.feeds: dict[str, Feed] = {}
        self.seen: list[dict[str, str]] = []

    def url(self, path: str = SECRET_PATH, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.server_address[1]}{path}"


class _FeedHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FeedServer

    def do_GET(self) -> None:
        self.server.seen.append(dict(self.headers))
        feed = self.server.feeds.get(self.path, Feed(b"no such calendar", status=404))
        if feed.etag and self.headers.get("If-None-Match") == feed.etag:
            self._send(304, b"", [("ETag", feed.etag)])
        else:
            etag = [("ETag", feed.etag)] if feed.etag else []
            self._send(feed.status, feed.body, [*feed.headers, *etag])

    def _send(self, status: int, body: bytes, headers: list[tuple[str, str]]) -> None:
        self.send_response(status)
        if not any(name == "Content-Length" for name, _ in headers):
            headers = [*headers, ("Content-Length", str(len(body)))]
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def handle(self) -> None:
        with contextlib.suppress(ConnectionError):  # the client hangs up on a refused body
            super().handle()

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output free of access logs."""


@contextlib.contextmanager
def serving() -> Iterator[FeedServer]:
    """Run a FeedServer in a thread for the length of the block."""
    server = FeedServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def huge_feed() -> Feed:
    """A feed announcing 20 MiB: refused before the body is read."""
    return Feed(body=b"BEGIN:VCALENDAR\r\n", headers=(("Content-Length", str(20 * MiB)),))


@dataclass
class Handshakes:
    """Where a TLS listener listens, and what reached it."""

    port: int
    accepted: list[bool] = field(default_factory=list)  # True for each connection accepted
    names: list[str | None] = field(default_factory=list)  # the server name each one asked for


@contextlib.contextmanager
def tls_handshake_once(directory: Path, host: str, name: str) -> Iterator[Handshakes]:
    """For the block, accept one TLS handshake on host with a self-signed certificate for name.

    The certificate and its key are written to directory.
    """
    cert, key = directory / "cert.pem", directory / "key.pem"
    _self_signed(name, cert, key)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.create_server((host, 0), family=family)
    listener.settimeout(5)
    handshakes = Handshakes(port=listener.getsockname()[1])
    context.sni_callback = lambda _sock, asked, _context: handshakes.names.append(asked)

    def accept_once() -> None:
        conn, _ = listener.accept()
        handshakes.accepted.append(True)
        with contextlib.suppress(OSError), context.wrap_socket(conn, server_side=True):
            pass

    thread = threading.Thread(target=accept_once)
    thread.start()
    try:
        yield handshakes
    finally:
        thread.join()
        listener.close()


def _self_signed(name: str, cert: Path, key: Path) -> None:
    """Write a self-signed certificate for the DNS name, valid for two days, and its key."""
    secret = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(secret.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(secret, hashes.SHA256())
    )
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        secret.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    """A feed server of this test's own, serving nothing until the test says what."""
    with serving() as server:
        yield server
