"""Fetch user-supplied calendar URLs through one SSRF-safe chokepoint."""

# The issue suggested requests-hardened. We do not use it: it checks only the first address a host
# name resolves to, and it can only allow loopback as a whole, not an operator's list of networks.
# So this module resolves, checks every address and pins the connection itself (_PinnedAdapter).

from __future__ import annotations

import contextlib
import ipaddress
import re
import socket
import ssl
import threading
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from http import HTTPStatus
from types import TracebackType
from typing import TypeVar
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import ConnectionPool, HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util.connection import allowed_gai_family

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

USER_AGENT = "Touchpoint/0.1 (+https://github.com/touchpoint)"
MiB = 1024 * 1024
_SCHEMES = {"http": "http", "https": "https", "webcal": "https", "webcals": "https"}
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PRIVATE_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
# Never reachable, even inside an allowed network: the cloud metadata services that hand out
# credentials (AWS, AWS ECS, AWS over IPv6, Alibaba, Azure's wireserver).
_METADATA_CIDRS = "169.254.169.254 169.254.170.2 fd00:ec2::254 100.100.100.200 168.63.129.16"
_METADATA = tuple(ipaddress.ip_network(cidr) for cidr in _METADATA_CIDRS.split())
# Ranges Python's ipaddress calls global that lead inside networks (6to4 relay, IPv4 translation).
_SPECIAL_CIDRS = "192.0.0.0/24 192.88.99.0/24 64:ff9b::/96 64:ff9b:1::/48 2002::/16"
_SPECIAL = tuple(ipaddress.ip_network(cidr) for cidr in _SPECIAL_CIDRS.split())
_CGNAT = ipaddress.ip_network("100.64.0.0/10")


class FetchError(Exception):
    """A calendar could not be fetched; str() is one sentence to show the user."""


class RefusedURL(FetchError):
    """The address is not one Touchpoint will fetch (scheme, credentials or network)."""


class TooLarge(FetchError):
    """The server sent more than the size cap."""


@dataclass(frozen=True)
class FetchResult:
    """What the server answered for the final URL after redirects."""

    url: str
    status: int
    content: bytes
    headers: Mapping[str, str]

    @property
    def etag(self) -> str | None:
        """Return the ETag to send back as If-None-Match."""
        return self.headers.get("ETag")

    @property
    def last_modified(self) -> str | None:
        """Return the Last-Modified date to send back as If-Modified-Since."""
        return self.headers.get("Last-Modified")


def parse_networks(text: str) -> tuple[Network, ...]:
    """Parse a comma or space separated list of CIDRs, such as "10.1.0.0/16, fd12::/48"."""
    return tuple(_parse_network(entry) for entry in re.split(r"[\s,]+", text.strip()) if entry)


def _parse_network(entry: str) -> Network:
    try:
        return ipaddress.ip_network(entry)
    except ValueError:
        pass
    try:
        hint = f"; did you mean {ipaddress.ip_network(entry, strict=False)}?"
    except ValueError:
        hint = "."
    raise ValueError(f"{entry!r} is not a network in CIDR form like 10.1.0.0/16{hint}")


def fetchable_url(url: str) -> str:
    """Return the http(s) URL to fetch for a calendar address (webcal is https), or refuse it."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - parsing the port is what rejects a malformed one
    except ValueError:
        raise RefusedURL("The calendar address is not a valid web address.") from None
    scheme = _SCHEMES.get(parts.scheme.lower())
    if scheme is None:
        shown = parts.scheme or "a relative address"
        raise RefusedURL(
            f"Touchpoint fetches calendars over http, https or webcal only, not {shown}."
        )
    if "@" in parts.netloc:
        raise RefusedURL("Calendar addresses must not contain a user name or password.")
    if not parts.hostname:
        raise RefusedURL("The calendar address has no host name.")
    return urlunsplit(parts._replace(scheme=scheme))


def forbidden_reason(address: Address, allow_networks: Sequence[Network] = ()) -> str | None:
    """Say why an address must not be fetched from, or return None when it may be."""
    # An IPv4-mapped IPv6 address (::ffff:127.0.0.1) reaches the IPv4 host, so judge that one.
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    ip: Address = mapped or address
    if any(ip in network for network in _METADATA):
        return "a cloud metadata address, which is never allowed"
    if ip.is_unspecified:  # connecting to 0.0.0.0 or :: reaches this very machine
        return "the unspecified address, which is never allowed"
    if any(ip in network for network in allow_networks):
        return None
    kind = _kind_of_internal(ip)
    return f"{kind}, which is not allowed" if kind else None


def _kind_of_internal(ip: Address) -> str | None:
    """Name the kind of non-public address ip is, or None for a public one."""
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_private:
        return "a private address"
    if ip in _CGNAT:
        return "a shared (CGNAT) address"
    if ip.is_reserved or not ip.is_global or any(ip in network for network in _SPECIAL):
        return "a reserved address"
    return None


def checked_address(host: str, port: int, allow_networks: Sequence[Network] = ()) -> Address:
    """Resolve host, refuse it if any of its addresses is forbidden, and return the first."""
    try:
        found = socket.getaddrinfo(host, port, allowed_gai_family(), socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise FetchError(f"{host} could not be found (DNS lookup failed).") from None
    addresses = [ipaddress.ip_address(sockaddr[0]) for *_, sockaddr in found]
    for address in addresses:
        reason = forbidden_reason(address, allow_networks)
        if reason:
            named = f"{host} is" if str(address) == host else f"{host} resolves to {address},"
            raise RefusedURL(f"{named} {reason}.")
    return addresses[0]


class _Deadline:
    """Cut every connection of one fetch when its overall time is up, however slow the drip."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def watch(self, sock: socket.socket) -> None:
        """Remember a duplicate of sock, which stays valid after TLS wraps the original."""
        with self._lock:
            self._sockets.append(sock.dup())
            if self.expired:
                _shut(self._sockets[-1])

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shut(sock)

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._timer.cancel()
        self._timer.join()
        for sock in self._sockets:
            sock.close()


def _shut(sock: socket.socket) -> None:
    """Shut sock down so that a read blocked on it returns at once."""
    with contextlib.suppress(OSError):  # already closed by the other side or by us
        sock.shutdown(socket.SHUT_RDWR)


_DEADLINE: ContextVar[_Deadline | None] = ContextVar("touchpoint_fetch_deadline", default=None)


def _watched(sock: socket.socket) -> socket.socket:
    deadline = _DEADLINE.get()
    if deadline is not None:
        deadline.watch(sock)
    return sock


class _WatchedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        return _watched(super()._new_conn())


class _WatchedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        return _watched(super()._new_conn())


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class _PinnedAdapter(HTTPAdapter):
    """Connect to the address that was checked, never to a second DNS answer."""

    def __init__(self, allow_networks: Sequence[Network]) -> None:
        self._allow_networks = tuple(allow_networks)
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: object, **kwargs: object) -> None:
        super().init_poolmanager(*args, **kwargs)  # type: ignore[arg-type]
        self.poolmanager.pool_classes_by_scheme = {
            "http": _WatchedHTTPPool,
            "https": _WatchedHTTPSPool,
        }

    def get_connection_with_tls_context(
        self,
        request: requests.PreparedRequest,
        verify: bool | str | None,
        proxies: Mapping[str, str] | None = None,
        cert: tuple[str, str] | str | None = None,
    ) -> ConnectionPool:
        """Return a pool for the checked address; TLS still checks the name the user gave."""
        # proxies are ignored on purpose: trust_env is off and fetch() sets none.
        url = urlsplit(request.url or "")
        host, port = url.hostname or "", url.port or (443 if url.scheme == "https" else 80)
        address = checked_address(host, port, self._allow_networks)
        request.headers["Host"] = url.netloc
        _, pool_kwargs = self.build_connection_pool_key_attributes(request, True, cert)
        if url.scheme == "https":
            pool_kwargs["server_hostname"] = host  # type: ignore[typeddict-unknown-key]
        return self.poolmanager.connection_from_host(  # type: ignore[no-any-return]
            host=str(address), port=port, scheme=url.scheme, pool_kwargs=pool_kwargs
        )


def fetch(
    url: str,
    *,
    allow_networks: Sequence[Network] = (),
    max_bytes: int = 10 * MiB,
    timeout: tuple[float, float] = (5.0, 15.0),
    deadline: float = 30.0,
    max_redirects: int = 5,
    headers: Mapping[str, str] | None = None,
) -> FetchResult:
    """Fetch a user-supplied calendar URL, checking the address of every hop before connecting."""
    start = fetchable_url(url)
    sent = {"User-Agent": USER_AGENT, "Accept": "text/calendar, */*;q=0.5", **(headers or {})}
    with _Deadline(deadline) as clock, requests.Session() as session:
        session.trust_env = False  # an environment proxy would connect for us, unchecked
        adapter = _PinnedAdapter(allow_networks)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        token = _DEADLINE.set(clock)
        try:
            return _Trip(session, clock, sent, timeout, max_bytes).follow(start, max_redirects)
        finally:
            _DEADLINE.reset(token)


@dataclass
class _Trip:
    """One fetch: the hops from the user's URL to the calendar."""

    session: requests.Session
    clock: _Deadline
    headers: Mapping[str, str]
    timeout: tuple[float, float]
    max_bytes: int

    def follow(self, url: str, max_redirects: int) -> FetchResult:
        """Get url, following at most max_redirects redirects, each checked like the first."""
        start = url
        for _ in range(max_redirects + 1):
            try:
                result, location = self._hop(url, start)
            except requests.RequestException as error:
                raise _explain(error, _host(url), self.clock, self.timeout) from None
            if result:
                return result
            url = _redirect_target(url, location)
        raise FetchError(f"{_host(start)} redirected more than {max_redirects} times.")

    def _hop(self, url: str, start: str) -> tuple[FetchResult | None, str]:
        headers = self.headers if _host(url) == _host(start) else _public(self.headers)
        request = requests.Request("GET", url, headers=headers).prepare()
        with self.session.send(
            request, stream=True, timeout=self.timeout, allow_redirects=False
        ) as response:
            location = response.headers.get("Location", "")
            if response.status_code in _REDIRECTS and location:
                return None, location
            return self._result(url, response), ""

    def _result(self, url: str, response: requests.Response) -> FetchResult:
        status = response.status_code
        if not (200 <= status < 300 or status == 304):
            raise FetchError(f"{_host(url)} answered HTTP {_status_text(status)}.")
        content = _read_capped(response, _host(url), self.max_bytes)
        if self.clock.expired:  # a cut connection without Content-Length looks like a short body
            raise _too_slow(_host(url), self.clock)
        return FetchResult(url=url, status=status, content=content, headers=response.headers)


def _read_capped(response: requests.Response, host: str, max_bytes: int) -> bytes:
    """Read the body, refusing it as soon as it is known to pass max_bytes."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise TooLarge(f"{host} offers {_size(int(declared))}; the limit is {_size(max_bytes)}.")
    body = bytearray()
    for chunk in response.iter_content(64 * 1024):
        body += chunk
        if len(body) > max_bytes:
            raise TooLarge(f"{host} sent more than the limit of {_size(max_bytes)}.")
    return bytes(body)


def _redirect_target(url: str, location: str) -> str:
    """Return the absolute URL a redirect points to, refusing what fetch() would refuse."""
    try:
        return fetchable_url(urljoin(url, location))
    except RefusedURL as refusal:
        raise RefusedURL(
            f"{_host(url)} redirected to an address that was refused: {refusal}"
        ) from None


def _public(headers: Mapping[str, str]) -> dict[str, str]:
    """Drop the headers that must not follow a redirect to another host."""
    return {name: value for name, value in headers.items() if name.lower() not in _PRIVATE_HEADERS}


_E = TypeVar("_E", bound=BaseException)


def _explain(
    error: requests.RequestException, host: str, clock: _Deadline, timeout: tuple[float, float]
) -> FetchError:
    """Turn a requests error into one sentence that names the host and never the full URL."""
    if clock.expired:
        return _too_slow(host, clock)
    if isinstance(error, requests.ConnectTimeout):
        return FetchError(f"{host} did not accept a connection within {timeout[0]:g} seconds.")
    if isinstance(error, requests.ReadTimeout):
        return FetchError(f"{host} stopped answering for more than {timeout[1]:g} seconds.")
    if untrusted := _cause(error, ssl.SSLCertVerificationError):
        return FetchError(f"{host} has no trusted TLS certificate ({untrusted.verify_message}).")
    if isinstance(error, requests.exceptions.SSLError):
        return FetchError(f"The secure (TLS) connection to {host} failed.")
    if _cause(error, ConnectionRefusedError):
        return FetchError(f"{host} refused the connection.")
    return FetchError(f"The connection to {host} failed before the calendar arrived.")


def _cause(error: BaseException, kind: type[_E]) -> _E | None:
    """Find the error of the given kind that requests and urllib3 wrapped inside error."""
    pending, seen = [error], set()
    while pending:
        current = pending.pop()
        if isinstance(current, kind):
            return current
        if id(current) not in seen:
            seen.add(id(current))
            links = (getattr(current, "reason", None), current.__cause__, current.__context__)
            pending.extend(e for e in (*current.args, *links) if isinstance(e, BaseException))
    return None


def _too_slow(host: str, clock: _Deadline) -> FetchError:
    return FetchError(f"{host} took longer than {clock.seconds:g} seconds to send the calendar.")


def _status_text(status: int) -> str:
    try:
        return f"{status} ({HTTPStatus(status).phrase})"
    except ValueError:
        return str(status)


def _host(url: str) -> str:
    return urlsplit(url).hostname or "the calendar server"


def _size(count: int) -> str:
    return f"{count // MiB} MiB" if count % MiB == 0 else f"{count} bytes"
