"""The words the classifier reads titles and locations with: one module per language.

English, German, French, Spanish, Portuguese, Italian, Dutch, Polish, Swedish, Japanese and
Chinese, and emoji. Each language module is plain data (see language.py for the phrase syntax);
this module compiles them once, at import, into one pattern per category.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from service.engine.vocabulary.de import GERMAN
from service.engine.vocabulary.emoji import EMOJI
from service.engine.vocabulary.en import ENGLISH
from service.engine.vocabulary.es import SPANISH
from service.engine.vocabulary.fr import FRENCH
from service.engine.vocabulary.it import ITALIAN
from service.engine.vocabulary.ja import JAPANESE
from service.engine.vocabulary.language import CATEGORIES, Language
from service.engine.vocabulary.nl import DUTCH
from service.engine.vocabulary.pl import POLISH
from service.engine.vocabulary.places import (
    GROUP_EMAIL_HINTS,
    GROUP_LOCAL_PARTS,
    GROUP_LOCAL_PREFIXES,
    MISLEADING,
    NOT_A_NAME,
    PLACE_CAFE,
    PLACE_CANTEEN,
    PLACE_FOOD,
    PLACE_ROOM,
    ROOM_EMAIL_HINTS,
    ROOM_NAME_PREFIXES,
)
from service.engine.vocabulary.pt import PORTUGUESE
from service.engine.vocabulary.reading import (
    compile_phrases,
    fold,
    language_source,
    words_behind,
)
from service.engine.vocabulary.sv import SWEDISH
from service.engine.vocabulary.zh import CHINESE

__all__ = [
    "GROUP_EMAIL_HINTS", "GROUP_LOCAL_PARTS", "GROUP_LOCAL_PREFIXES", "LANGUAGES", "NOT_A_NAME",
    "PLACE_PATTERNS", "ROOM_EMAIL_HINTS", "ROOM_NAME_PREFIXES", "TITLE_PATTERNS", "WITH_WORDS",
    "compile_phrases", "fold", "scan", "title_status", "words_behind",
]  # fmt: skip

LANGUAGES: Final[tuple[Language, ...]] = (
    ENGLISH, GERMAN, FRENCH, SPANISH, PORTUGUESE, ITALIAN, DUTCH, POLISH, SWEDISH, JAPANESE,
    CHINESE, EMOJI,
)  # fmt: skip


def _category(name: str) -> re.Pattern[str]:
    sources = [language_source(lang, lang.phrases(name)) for lang in LANGUAGES]
    return re.compile("|".join(s for s in sources if s))


TITLE_PATTERNS: Final = {name: _category(name) for name in CATEGORIES}
PLACE_PATTERNS: Final = {
    "food": compile_phrases(PLACE_FOOD),
    "cafe": compile_phrases(PLACE_CAFE),
    "canteen": compile_phrases(PLACE_CANTEEN),
    "room": compile_phrases(PLACE_ROOM),
}
_MISLEADING: Final = compile_phrases(MISLEADING)
WITH_WORDS: Final = tuple(dict.fromkeys(w for lang in LANGUAGES for w in lang.with_words))


def _status_pattern(field: str) -> re.Pattern[str]:
    """A title that starts with the word ("Canceled: ...", "【中止】...") or ends in it."""
    words = "|".join(
        f"(?:{source})"
        for lang in LANGUAGES
        if (source := language_source(Language(lang.code), getattr(lang, field)))
    )
    opening, closing = r"[\[(【<{]", r"[\])】>}]"
    return re.compile(
        rf"^[\W_]*?({words})\s*(?::|{closing}|[-\u2013\u2014|]|$)"  # "Canceled: Lunch"
        rf"|{opening}\s*({words})\s*{closing}"  # "Lunch [cancelled]"
        rf"|[-\u2013\u2014:]\s*({words})[\W_]*$"  # "Lunch - cancelled"
    )


STATUS_PATTERNS: Final = {"cancelled": _status_pattern("cancelled"),
                          "declined": _status_pattern("declined")}  # fmt: skip


def scan(text: str, patterns: Mapping[str, re.Pattern[str]]) -> dict[str, str]:
    """Return, per category that matches, the words of the original text that matched."""
    folded = _MISLEADING.sub(lambda m: " " * len(m.group()), fold(text)[0])
    found: dict[str, str] = {}
    for name, pattern in patterns.items():
        if match := pattern.search(folded):
            found[name] = words_behind(text, match.span())
    return found


def title_status(title: str) -> tuple[str, str] | None:
    """Return ("cancelled" or "declined", the words that say so) when a title carries the mark."""
    folded = fold(title)[0]
    for status, pattern in STATUS_PATTERNS.items():
        if match := pattern.search(folded):
            group = next(g for g in range(1, 4) if match.group(g) is not None)
            return status, title[slice(*_original(title, match.span(group)))].strip()
    return None


def _original(text: str, span: tuple[int, int]) -> tuple[int, int]:
    origin = fold(text)[1]
    return origin[span[0]], origin[span[1] - 1] + 1
