"""What can go wrong fetching a calendar, each with one sentence to show the user."""

from __future__ import annotations


class FetchError(Exception):
    """A calendar could not be fetched; str() is one sentence to show the user."""


class RefusedURL(FetchError):
    """The address is not one Touchpoint will fetch (scheme, credentials or network)."""


class TooLarge(FetchError):
    """The server sent more than the size cap."""
