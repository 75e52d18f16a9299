"""The transport of one fetch: connections pinned to the checked address, under one deadline."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar
from types import TracebackType
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import ConnectionPool, HTTPConnectionPool, HTTPSConnectionPool

from service.adapters.http.addresses import Network, checked_address


class Deadline:
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

    def __enter__(self) -> Deadline:
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


_DEADLINE: ContextVar[Deadline | None] = ContextVar("touchpoint_fetch_deadline", default=None)


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


@contextlib.contextmanager
def pinned_session(
    allow_networks: Sequence[Network], seconds: float
) -> Iterator[tuple[requests.Session, Deadline]]:
    """Give a session that connects only to checked addresses, every connection cut at seconds."""
    with Deadline(seconds) as clock, requests.Session() as session:
        session.trust_env = False  # an environment proxy would connect for us, unchecked
        adapter = _PinnedAdapter(allow_networks)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        token = _DEADLINE.set(clock)
        try:
            yield session, clock
        finally:
            _DEADLINE.reset(token)
