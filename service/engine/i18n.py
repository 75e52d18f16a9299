"""Translations for text made outside a web request: notes, emails, reasons, the CLI.

One gettext domain (``messages``) in service/translations/<lang>/LC_MESSAGES/, compiled from the
.po files at install (``make`` runs ``pybabel compile``). The language of the text being made is
a context variable: ``with language("de"): ...`` around the work for one user, so a worker that
writes for many users never mixes them. A missing .mo (installed some other way) falls back to
English, said once in the log.
"""

from __future__ import annotations

import gettext as _gettext
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

__all__ = [
    "DEFAULT",
    "DIRECTORY",
    "LANGUAGES",
    "N_",
    "current",
    "defer",
    "gettext",
    "language",
    "load",
    "ngettext",
    "supported",
    "translations",
]

DIRECTORY = Path(__file__).resolve().parents[1] / "translations"
DOMAIN = "messages"
DEFAULT = "en"
# The languages the catalogs cover, each named in itself (a name is never translated).
LANGUAGES: dict[str, str] = {
    "en": "English",
    "de": "Deutsch",
    "fr": "Français",
    "es": "Español",
    "pt": "Português",
    "it": "Italiano",
    "nl": "Nederlands",
}

_log = logging.getLogger(__name__)
_catalogs: dict[str, _gettext.NullTranslations] = {}  # translations() by the code asked
# The language, or a function that works it out the first time it is asked (a web request).
_current: ContextVar[str | Callable[[], str]] = ContextVar("touchpoint_language", default=DEFAULT)


def supported(code: str | None) -> str:
    """Return code if Touchpoint speaks it (``de``, ``de-AT``, ``de_AT``), English otherwise."""
    if code in LANGUAGES:  # the usual case, asked for every message: no parsing
        return code
    base = (code or "").replace("-", "_").split("_")[0].strip().lower()
    return base if base in LANGUAGES else DEFAULT


def translations(code: str) -> _gettext.NullTranslations:
    """Return the compiled catalog of a language; English (no translation) when it is missing."""
    found = _catalogs.get(code)
    if found is None:
        found = _catalogs[code] = load(DIRECTORY, supported(code))
    return found


@cache
def load(directory: Path, code: str) -> _gettext.NullTranslations:
    """Return the catalog of a language compiled under directory, once per process.

    Without its .mo (installed without `make`), the language falls back to English: said once
    in the log, never an error.
    """
    from babel.support import Translations  # here: the CLI's --help stays instant

    if code == DEFAULT:
        return _gettext.NullTranslations()
    found = Translations.load(str(directory), [code], DOMAIN)
    if not isinstance(found, Translations):
        _log.warning(
            "no compiled catalog for %r under %s: text in that language falls back to English "
            "(run `make translations` or `pybabel compile -d service/translations`)",
            code,
            directory,
        )
    return found


def current() -> str:
    """Return the language text is being made in."""
    found = _current.get()
    if callable(found):
        found = supported(found())
        _current.set(found)
    return found


def defer(resolve: Callable[[], str] | None) -> None:
    """Work the language out with resolve when first asked (None: back to English).

    For a web request, set before it runs and cleared after: asking costs nothing until a page
    or an email needs words.
    """
    _current.set(resolve if resolve is not None else DEFAULT)


@contextmanager
def language(code: str | None) -> Iterator[str]:
    """Make text in this language inside the block (an unknown code means English)."""
    token = _current.set(supported(code))
    try:
        yield supported(code)
    finally:
        _current.reset(token)


def gettext(message: str, **variables: object) -> str:
    """Translate message into the current language, then fill its %(name)s placeholders."""
    text = translations(current()).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, **variables: object) -> str:
    """Translate the form of a message for num; %(num)d is num."""
    text = translations(current()).ngettext(singular, plural, num)
    return text % {"num": num, **variables}


def N_(message: str) -> str:
    """Mark message for the catalog; it is translated later, where it is shown."""
    return message
