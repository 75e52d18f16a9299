"""The calendar a connection last read, kept so it can be expanded again without a download.

A feed's bytes (or Google's events as iCalendar) are kept zlib-compressed, about a tenth of
their size; an upload is kept as it was sent (older rows hold it that way).
"""

from __future__ import annotations

import zlib

from service.models import Connection

_COMPRESSED = frozenset({"ics_url", "google"})


def keep(connection: Connection, data: bytes) -> None:
    """Keep what this connection read last."""
    compressed = connection.kind in _COMPRESSED
    connection.content = zlib.compress(data, 6) if compressed else data


def kept(connection: Connection) -> bytes | None:
    """Return what this connection read last, or None when nothing was kept."""
    if not connection.content:
        return None
    if connection.kind not in _COMPRESSED:
        return connection.content
    try:
        return zlib.decompress(connection.content)
    except zlib.error:  # unreadable: read the source again
        return None
