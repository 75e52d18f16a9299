"""People and the text about them: one address form, one display name, one line cleaner.

Names and titles come from other people's calendars: whatever shows them (a page, an email header,
an invite, a note) gets them through clean(), so nothing in them can start a new line, hide text
or run on. Everyone's name is display_name(): the same person reads the same everywhere.
"""

from __future__ import annotations

import re

NAME_CHARS = 80

# Control characters and line separators could start a new header line in an email.
_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Zero-width and bidi-override characters could make a title display as something it is not.
_INVISIBLE = re.compile(r"[\u200b\u200e\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
_NAME_PARTS = re.compile(r"[._\-]+")


def clean(value: str, limit: int) -> str:
    """Return value as one plain line of at most about limit characters."""
    # Slicing first bounds the work on a huge title.
    line = _INVISIBLE.sub("", _BREAKS.sub(" ", value[: limit * 8]))
    return shorten(" ".join(line.split()), limit)


def shorten(line: str, limit: int) -> str:
    """Cut line to limit characters at a word boundary, marking the cut with an ellipsis."""
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]
    head = cut.rsplit(" ", 1)[0] if " " in cut else cut
    return head.rstrip(" ,;:.-") + "…"


def address(value: str) -> str:
    """Return an address as Touchpoint compares it: lower case, without "mailto:"."""
    value = value.strip().lower()
    return value[len("mailto:") :] if value.startswith("mailto:") else value


def domain_of(email: str) -> str:
    """Return the part of an address after the "@" ("" when there is none)."""
    return email.rpartition("@")[2].lower() if "@" in email else ""


def display_name(email: str | None, given: str = "") -> str:
    """Return the name to show for someone: the one their calendar gives, else one read from
    the address ("mary-jane.o-neil+cal@x" -> "Mary Jane O Neil"); "" for nobody."""
    name = clean(given, NAME_CHARS)
    if name and "@" not in name:
        return name
    if not email:
        return ""
    local = email.partition("@")[0].partition("+")[0]
    readable = " ".join(part.capitalize() for part in _NAME_PARTS.split(local) if part)
    return clean(readable or email, NAME_CHARS)
