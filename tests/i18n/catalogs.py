"""The message catalogs as tests read them: the template, each language's translations, and a
finder of English left in what a user of another language reads."""

from __future__ import annotations

import re
from functools import cache
from html import unescape

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from service.engine.i18n import DIRECTORY, LANGUAGES

TRANSLATED = tuple(code for code in LANGUAGES if code != "en")
# What splits a message into the words a reader sees: placeholders and HTML tags.
_SEAMS = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[sdf]|%%|<[^>]+>")
_TAGS = re.compile(r"<[^>]+>")
_WORD = re.compile(r"[A-Za-z]+")
FRAGMENT_WORDS = 3  # shorter pieces ("Save", "Google Calendar") are left to the catalog test


@cache
def template() -> Catalog:
    with (DIRECTORY / "messages.pot").open("rb") as file:
        return read_po(file)


@cache
def catalog(code: str) -> Catalog:
    with (DIRECTORY / code / "LC_MESSAGES" / "messages.po").open("rb") as file:
        return read_po(file, locale=code)


def msgids() -> list[str | tuple[str, ...]]:
    """Return every message of the template (a plural one as its tuple of forms)."""
    return [message.id for message in template() if message.id]


def entries() -> list[tuple[str | tuple[str, ...], str | None]]:
    """Return every message of the template with its context ("Open" of a folded card)."""
    return [(message.id, message.context) for message in template() if message.id]


def translation(
    code: str, msgid: str | tuple[str, ...], context: str | None = None
) -> tuple[str, ...]:
    """Return the language's translation of a message (every form), empty if it has none."""
    message: Message | None = catalog(code).get(msgid, context=context)
    if message is None or message.fuzzy:
        return ()
    forms = message.string if isinstance(message.string, tuple | list) else (message.string,)
    return tuple(forms) if all(forms) else ()


def english_left(shown: str, code: str) -> list[str]:
    """Return the pieces of English messages in shown that the language did not translate.

    shown: a page, or an email's subject, text and HTML. A piece of three words or more that
    the translation itself does not keep (a name, "iCal") and that the page shows is English a
    reader of that language meets.
    """
    text = " ".join(unescape(shown).split())
    words = " ".join(_TAGS.sub(" ", text).split())
    found = []
    for msgid, context in entries():
        forms = msgid if isinstance(msgid, tuple) else (msgid,)
        kept = " ".join(translation(code, msgid, context))
        for form in forms:
            for piece in _SEAMS.split(form):
                piece = " ".join(piece.split()).strip(" .,:;")
                if len(_WORD.findall(piece)) < FRAGMENT_WORDS or piece in kept:
                    continue
                if piece in text or piece in words:
                    found.append(piece)
    return sorted(set(found))
