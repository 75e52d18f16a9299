"""One fetch: follow the hops from the user's URL to the calendar, capped in size and time."""

from __future__ import annotations

import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import TypeVar
from urllib.parse import urljoin, urlsplit

import requests

from service.adapters.http.addresses import Network, fetchable_url
from service.adapters.http.errors import FetchError, RefusedURL, TooLarge
from service.adapters.http.pinned import Deadline, pinned_session

USER_AGENT = "Touchpoint/0.1 (+https://github.com/touchpoint)"
MiB = 1024 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PRIVATE_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})


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
    with pinned_session(allow_networks, deadline) as (session, clock):
        return _Trip(session, clock, sent, timeout, max_bytes).follow(start, max_redirects)


@dataclass
class _Trip:
    """One fetch: the hops from the user's URL to the calendar."""

    session: requests.Session
    clock: Deadline
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
    error: requests.RequestException, host: str, clock: Deadline, timeout: tuple[float, float]
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


def _too_slow(host: str, clock: Deadline) -> FetchError:
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
