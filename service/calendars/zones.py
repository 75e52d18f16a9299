"""Turn the time zone names found in real calendars into IANA zones."""

from __future__ import annotations

from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON


@cache
def resolve_zone(name: str) -> ZoneInfo | None:
    """Return the IANA zone a TZID means (IANA, Windows or vendor-prefixed name), or None."""
    cleaned = name.strip().strip('"').strip()
    candidates = [cleaned, WINDOWS_TO_OLSON.get(cleaned, "")]
    parts = cleaned.strip("/").split("/")
    # "/mozilla.org/20070129_1/America/New_York": try the longest trailing IANA name.
    candidates += ["/".join(parts[i:]) for i in range(1, len(parts))]
    for candidate in candidates:
        if zone := _zone(candidate):
            return zone
    return None


def _zone(name: str) -> ZoneInfo | None:
    if not name or name.startswith("/") or ".." in name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
