"""The fetch chokepoint against real HTTP servers on loopback; no request leaves the machine."""

from __future__ import annotations

import contextlib
import gzip
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from service.adapters.http import (
    USER_AGENT,
    FetchError,
    RefusedURL,
    TooLarge,
    fetch,
    fetchable_url,
)
from service.config import parse_networks
from tests.feed_server import tls_handshake_once

CALENDAR = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
LOOPBACK = parse_networks("127.0.0.1/32")
# Where "localhost" resolves first on this machine; the pinned connection goes there.
LOCALHOST = str(socket.getaddrinfo("localhost", 0, type=socket.SOCK_STREAM)[0][4][0])
ANY_LOOPBACK = parse_networks("127.0.0.0/8 ::1/128")

Route = Callable[[BaseHTTPRequestHandler], None]


class CalendarServer(ThreadingHTTPServer):
    """A local HTTP server that answers each path with a route and records what arrived."""

    daemon_threads = True

    def __init__(self, host: str) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.address_family = family
        super().__init__((host, 0), Handler)
        self.host, self.port = host, int(self.server_address[1])
        self.routes: dict[str, Route] = {}
        self.seen: list[tuple[str, dict[str, str]]] = []

    def url(self, path: str = "/calendar.ics", host: str | None = None) -> str:
        name = host or (f"[{self.host}]" if ":" in self.host else self.host)
        return f"http://{name}:{self.port}{path}"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: CalendarServer

    def do_GET(self) -> None:
        self.server.seen.append((self.path, dict(self.headers)))
        self.server.routes.get(self.path.split("?")[0], not_found)(self)

    def handle(self) -> None:
        with contextlib.suppress(ConnectionError):  # tests make the client hang up early
            super().handle()

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output free of access logs."""


def answer(status: int, body: bytes = b"", **headers: str) -> Route:
    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        for name, value in {"Content-Length": str(len(body)), **headers}.items():
            handler.send_header(name.replace("_", "-"), value)
        handler.end_headers()
        handler.wfile.write(body)

    return route


not_found = answer(404, b"no such calendar")
calendar = answer(200, CALENDAR, Content_Type="text/calendar", ETag='"v1"')


def redirect(location: str) -> Route:
    return answer(302, Location=location)


def endless_chunks(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()
    for _ in range(200):
        handler.wfile.write(b"400\r\n" + b"x" * 1024 + b"\r\n")


def slow_drip(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Length", "100")
    handler.end_headers()
    for _ in range(100):
        handler.wfile.write(b"x")
        handler.wfile.flush()
        time.sleep(0.05)


def silent_for(seconds: float) -> Route:
    def route(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(seconds)
        calendar(handler)

    return route


@pytest.fixture
def serve() -> Iterator[Callable[[str], CalendarServer]]:
    servers: list[CalendarServer] = []

    def start(host: str) -> CalendarServer:
        server = CalendarServer(host)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def server(serve: Callable[[str], CalendarServer]) -> CalendarServer:
    server = serve("127.0.0.1")
    server.routes["/calendar.ics"] = calendar
    return server


def test_it_refuses_loopback_by_default(server: CalendarServer) -> None:
    with pytest.raises(
        RefusedURL, match=r"127\.0\.0\.1 is a loopback address, which is not allowed"
    ):
        fetch(server.url())
    assert server.seen == []


def test_it_fetches_from_a_network_the_operator_allowed(server: CalendarServer) -> None:
    result = fetch(server.url(), allow_networks=LOOPBACK)
    assert (result.status, result.content, result.url) == (200, CALENDAR, server.url())
    assert result.etag == '"v1"'
    assert result.headers["content-type"] == "text/calendar"


def test_it_sends_its_user_agent(server: CalendarServer) -> None:
    fetch(server.url(), allow_networks=LOOPBACK)
    assert server.seen[0][1]["User-Agent"] == USER_AGENT


def test_it_connects_to_the_checked_address_but_names_the_host(
    serve: Callable[[str], CalendarServer],
) -> None:
    server = serve(LOCALHOST)
    server.routes["/calendar.ics"] = calendar
    result = fetch(server.url(host="localhost"), allow_networks=ANY_LOOPBACK)
    assert result.content == CALENDAR
    assert server.seen[0][1]["Host"] == f"localhost:{server.port}"


def test_it_refuses_localhost_because_it_resolves_to_loopback() -> None:
    with pytest.raises(RefusedURL, match=r"localhost resolves to .*loopback.*not allowed"):
        fetch("http://localhost:9/calendar.ics")


def test_it_refuses_a_redirect_to_loopback_outside_the_allowed_network(
    server: CalendarServer, serve: Callable[[str], CalendarServer]
) -> None:
    elsewhere = serve("127.0.0.2")
    elsewhere.routes["/calendar.ics"] = calendar
    server.routes["/moved.ics"] = redirect(elsewhere.url())
    with pytest.raises(RefusedURL, match=r"127\.0\.0\.2 is a loopback address"):
        fetch(server.url("/moved.ics"), allow_networks=LOOPBACK)
    assert elsewhere.seen == []


def test_it_follows_a_relative_redirect(server: CalendarServer) -> None:
    server.routes["/old.ics"] = redirect("/calendar.ics")
    result = fetch(server.url("/old.ics"), allow_networks=LOOPBACK)
    assert (result.url, result.content) == (server.url(), CALENDAR)


def test_it_stops_following_redirects_after_the_cap(server: CalendarServer) -> None:
    server.routes["/loop.ics"] = redirect("/loop.ics")
    with pytest.raises(FetchError, match="redirected more than 2 times"):
        fetch(server.url("/loop.ics"), allow_networks=LOOPBACK, max_redirects=2)
    assert len(server.seen) == 3


@pytest.mark.parametrize("target", ["file:///etc/passwd", "http://user:secret@127.0.0.1/x"])
def test_it_refuses_a_redirect_it_would_refuse_as_an_address(
    server: CalendarServer, target: str
) -> None:
    server.routes["/moved.ics"] = redirect(target)
    with pytest.raises(RefusedURL, match=r"127.0.0.1 redirected to an address that was refused"):
        fetch(server.url("/moved.ics"), allow_networks=LOOPBACK)
    assert len(server.seen) == 1


@pytest.mark.parametrize(
    ("given", "fetched"),
    [
        ("webcal://calendar.example.com/a.ics", "https://calendar.example.com/a.ics"),
        ("WEBCAL://calendar.example.com/a.ics?k=1", "https://calendar.example.com/a.ics?k=1"),
        ("webcals://calendar.example.com/a.ics", "https://calendar.example.com/a.ics"),
        ("http://calendar.example.com/a.ics", "http://calendar.example.com/a.ics"),
    ],
)
def test_it_fetches_webcal_addresses_over_https(given: str, fetched: str) -> None:
    assert fetchable_url(given) == fetched


def test_it_refuses_credentials_in_the_url_without_repeating_them() -> None:
    with pytest.raises(RefusedURL, match="user name or password") as refusal:
        fetch("https://alice:hunter2@calendar.example.com/a.ics")
    assert "hunter2" not in str(refusal.value)


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://calendar.example.com/a.ics", "gopher://example.com/"]
)
def test_it_refuses_schemes_other_than_http_and_webcal(url: str) -> None:
    with pytest.raises(RefusedURL, match="http, https or webcal only"):
        fetch(url)


@pytest.mark.parametrize(
    ("host", "kind"),
    [
        ("169.254.169.254", "a cloud metadata address"),
        ("[fd00:ec2::254]", "a cloud metadata address"),
        ("[::ffff:169.254.169.254]", "a cloud metadata address"),
        ("[::ffff:10.0.0.1]", "a private address"),
        ("10.0.0.1", "a private address"),
        ("100.64.0.1", "a shared (CGNAT) address"),
        ("224.0.0.1", "a multicast address"),
        ("[fe80::1]", "a link-local address"),
        ("[::1]", "a loopback address"),
    ],
)
def test_it_refuses_internal_addresses_before_connecting(host: str, kind: str) -> None:
    # Refused before any packet: a bug here would reach out, so keep the port harmless.
    with pytest.raises(RefusedURL, match=f"{re.escape(kind)}.*(not|never) allowed"):
        fetch(f"http://{host}:9/calendar.ics", timeout=(0.1, 0.1))


@pytest.mark.parametrize("host", ["127.0.0.1", "[::ffff:127.0.0.1]", "0.0.0.0", "2130706433"])
def test_it_refuses_disguised_loopback_without_a_request_arriving(
    server: CalendarServer, host: str
) -> None:
    with pytest.raises(RefusedURL, match=r"(not|never) allowed"):
        fetch(server.url(host=host))
    assert server.seen == []


def test_it_never_allows_metadata_even_inside_an_allowed_network() -> None:
    with pytest.raises(RefusedURL, match="never allowed"):
        fetch("http://169.254.169.254/latest/", allow_networks=parse_networks("169.254.0.0/16"))


def test_it_refuses_a_body_announced_bigger_than_the_cap(server: CalendarServer) -> None:
    server.routes["/big.ics"] = answer(200, b"x" * 2000)
    with pytest.raises(TooLarge, match="offers 2000 bytes; the limit is 1000 bytes"):
        fetch(server.url("/big.ics"), allow_networks=LOOPBACK, max_bytes=1000)


def test_it_stops_reading_a_stream_that_passes_the_cap(server: CalendarServer) -> None:
    server.routes["/endless.ics"] = endless_chunks
    with pytest.raises(TooLarge, match="more than the limit of 4096 bytes"):
        fetch(server.url("/endless.ics"), allow_networks=LOOPBACK, max_bytes=4096)


def test_it_caps_the_unpacked_size_of_a_compressed_body(server: CalendarServer) -> None:
    server.routes["/bomb.ics"] = answer(200, gzip.compress(bytes(200_000)), Content_Encoding="gzip")
    with pytest.raises(TooLarge, match="more than the limit of 100000 bytes"):
        fetch(server.url("/bomb.ics"), allow_networks=LOOPBACK, max_bytes=100_000)


def test_it_gives_up_on_a_slow_drip_at_the_deadline(server: CalendarServer) -> None:
    server.routes["/drip.ics"] = slow_drip
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"took longer than 0.5 seconds"):
        fetch(server.url("/drip.ics"), allow_networks=LOOPBACK, deadline=0.5)
    assert time.monotonic() - started < 2


def test_it_gives_up_on_a_server_that_stops_answering(server: CalendarServer) -> None:
    server.routes["/silent.ics"] = silent_for(0.5)
    with pytest.raises(FetchError, match=r"127.0.0.1 stopped answering for more than 0.2 seconds"):
        fetch(server.url("/silent.ics"), allow_networks=LOOPBACK, timeout=(1.0, 0.2))


def test_it_names_the_status_and_the_host_but_not_the_secret(server: CalendarServer) -> None:
    with pytest.raises(FetchError, match=r"127\.0\.0\.1 answered HTTP 404 \(Not Found\)") as err:
        fetch(server.url("/private/s3cret.ics?token=t0ken"), allow_networks=LOOPBACK)
    assert "s3cret" not in str(err.value)
    assert "t0ken" not in str(err.value)


def test_it_returns_not_modified_for_a_conditional_get(server: CalendarServer) -> None:
    server.routes["/calendar.ics"] = answer(304, ETag='"v1"')
    result = fetch(server.url(), allow_networks=LOOPBACK, headers={"If-None-Match": '"v1"'})
    assert (result.status, result.content, result.etag) == (304, b"", '"v1"')
    assert server.seen[0][1]["If-None-Match"] == '"v1"'


def test_it_says_when_the_server_refused_the_connection() -> None:
    with socket.create_server(("127.0.0.1", 0)) as closed:
        port = closed.getsockname()[1]
    with pytest.raises(FetchError, match=r"127.0.0.1 refused the connection"):
        fetch(f"http://127.0.0.1:{port}/calendar.ics", allow_networks=LOOPBACK)


@pytest.fixture
def tls_listener(tmp_path: Path) -> Iterator[tuple[int, list[str | None]]]:
    """Accept one TLS handshake with a self-signed certificate for localhost; record its SNI."""
    with tls_handshake_once(tmp_path, LOCALHOST, "localhost") as handshakes:
        yield handshakes.port, handshakes.names


def test_it_checks_the_certificate_against_the_host_name_not_the_address(
    tls_listener: tuple[int, list[str | None]],
) -> None:
    port, names = tls_listener
    with pytest.raises(FetchError, match="localhost has no trusted TLS certificate"):
        fetch(f"https://localhost:{port}/calendar.ics", allow_networks=ANY_LOOPBACK)
    assert names == ["localhost"]


def test_it_reads_allowed_networks_from_a_comma_or_space_separated_list() -> None:
    networks = parse_networks(" 10.1.0.0/16, fd12:3456::/48  192.168.7.7 ")
    assert [str(network) for network in networks] == [
        "10.1.0.0/16",
        "fd12:3456::/48",
        "192.168.7.7/32",
    ]
    assert parse_networks("") == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("10.1.0.0/16, intranet", "'intranet' is not a network in CIDR form"),
        ("10.1.2.3/16", "'10.1.2.3/16' is not a network .* did you mean 10.1.0.0/16?"),
    ],
)
def test_it_names_the_bad_entry_in_the_allowed_networks(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_networks(text)
