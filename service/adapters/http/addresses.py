"""Which addresses a user-supplied URL may be fetched from: schemes, host names, networks.

Checked on the resolved address of every hop (service.adapters.http.pinned connects to the
address checked here, never to a second DNS answer).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from urllib.parse import urlsplit, urlunsplit

from urllib3.util.connection import allowed_gai_family

from service.adapters.http.errors import FetchError, RefusedURL
from service.config import Network

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

_SCHEMES = {"http": "http", "https": "https", "webcal": "https", "webcals": "https"}
# Never reachable, even inside an allowed network: the cloud metadata services that hand out
# credentials (AWS, AWS ECS, AWS over IPv6, Alibaba, Azure's wireserver).
_METADATA_CIDRS = "169.254.169.254 169.254.170.2 fd00:ec2::254 100.100.100.200 168.63.129.16"
_METADATA = tuple(ipaddress.ip_network(cidr) for cidr in _METADATA_CIDRS.split())
# Ranges Python's ipaddress calls global that lead inside networks (6to4 relay, IPv4 translation).
_SPECIAL_CIDRS = "192.0.0.0/24 192.88.99.0/24 64:ff9b::/96 64:ff9b:1::/48 2002::/16"
_SPECIAL = tuple(ipaddress.ip_network(cidr) for cidr in _SPECIAL_CIDRS.split())
_CGNAT = ipaddress.ip_network("100.64.0.0/10")


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
