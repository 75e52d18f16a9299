"""Fetch user-supplied calendar URLs through one SSRF-safe chokepoint.

- addresses: which schemes, hosts and networks may be fetched from (every resolved address);
- pinned: the transport, connecting only to the address checked, under one overall deadline;
- fetching: fetch() itself, following each redirect as a new checked hop, capped in size.
"""

# The issue suggested requests-hardened. We do not use it: it checks only the first address a host
# name resolves to, and it can only allow loopback as a whole, not an operator's list of networks.
# So this package resolves, checks every address and pins the connection itself (pinned.py).

from __future__ import annotations

from service.adapters.http.addresses import (
    Address,
    checked_address,
    fetchable_url,
    forbidden_reason,
)
from service.adapters.http.errors import FetchError, RefusedURL, TooLarge
from service.adapters.http.fetching import USER_AGENT, FetchResult, MiB, fetch

__all__ = [
    "USER_AGENT",
    "Address",
    "FetchError",
    "FetchResult",
    "MiB",
    "RefusedURL",
    "TooLarge",
    "checked_address",
    "fetch",
    "fetchable_url",
    "forbidden_reason",
]
