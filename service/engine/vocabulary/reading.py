"""Read the phrase syntax (see language.py) into compiled patterns, and titles into folded text."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Final

from service.engine.vocabulary.language import Language

APOSTROPHES: Final = "'`\u2018\u2019\u00b4"
# Letters NFKD leaves whole, written as their plain form so "Łódź" reads like "lodz".
PLAIN: Final = {"ł": "l", "ø": "o", "đ": "d", "æ": "ae", "œ": "oe", "\u0131": "i", "þ": "th"}
# Scripts written without spaces between words (Chinese, Japanese, Korean): folding puts a space
# around each of their characters, so their phrases match anywhere and a Latin word beside them
# ("確認MTG") still starts a word. (A character class of these ranges in every pattern instead
# costs re seconds of compiling at import.)
_UNSPACED: Final = re.compile("[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff]")
START: Final = r"(?<!\w)"
END: Final = r"(?!\w)"
GAP: Final = r"[\s\-_.]*"


@lru_cache(maxsize=2048)
def _fold_char(char: str) -> str:
    if char in APOSTROPHES:  # so "d'embauche" reads as two words
        return " "
    # Mn drops accents and emoji variation selectors, Cf drops zero-width joiners.
    parts = unicodedata.normalize("NFKD", char.casefold())
    text = "".join(c for c in parts if unicodedata.category(c) not in ("Mn", "Cf"))
    text = PLAIN.get(text, text)
    return "".join(f" {c} " if _UNSPACED.match(c) else c for c in text)


@lru_cache(maxsize=8192)
def fold(text: str) -> tuple[str, Sequence[int]]:
    """Return text without case or accents, and where each folded character came from."""
    if text.isascii():  # the common case, and one character stays one character
        return text.casefold().replace("'", " ").replace("`", " "), range(len(text))
    pieces = [_fold_char(char) for char in text]
    origin = [index for index, piece in enumerate(pieces) for _ in piece]
    return "".join(pieces), origin


def compile_phrases(phrases: Iterable[str]) -> re.Pattern[str]:
    """Compile phrases of no particular language (places, misleading words) into one pattern."""
    return re.compile(language_source(Language("any"), phrases) or "(?!)")


def language_source(language: Language, phrases: Iterable[str]) -> str:
    """Return the regular expression source matching a language's phrases, with its endings."""
    # Longest first, so "petit dejeuner" wins over "dejeuner" and the reason quotes all of it.
    folded = sorted({fold(p)[0].strip() for p in phrases} - {""}, key=len, reverse=True)
    ending = _any(language.endings)
    groups: dict[tuple[bool, bool], list[str]] = {}
    for phrase in folded:
        core = phrase.strip("*")
        unspaced = bool(_UNSPACED.search(core))
        bound_start = not unspaced and not phrase.startswith("*") and _wordy(core[0])
        bound_end = not unspaced and not phrase.endswith("*") and _wordy(core[-1])
        words = [re.escape(w) for w in core.split()]
        inner = (ending + "?") if ending and not unspaced else ""
        body = (inner + GAP).join(words)
        if phrase.endswith("*"):
            body += r"\w*"
        groups.setdefault((bound_start, bound_end), []).append(body)
    return "|".join(
        _group(language, starts, ends, bodies) for (starts, ends), bodies in groups.items()
    )


def _group(language: Language, starts: bool, ends: bool, bodies: list[str]) -> str:
    """One alternation of phrases sharing their edges, with the language's compound parts."""
    source = "(?:" + "|".join(bodies) + ")"
    if starts:
        parts = _any(language.parts)
        source = START + (f"(?:{parts}s?{GAP})*" if parts else "") + source
    if ends:
        heads, ending = _any(language.heads), _any(language.endings)
        source += (f"(?:s?{heads})*" if heads else "") + (f"{ending}?" if ending else "") + END
    return source


def _any(words: Sequence[str]) -> str:
    folded = sorted({fold(w)[0] for w in words}, key=len, reverse=True)
    return "(?:" + "|".join(re.escape(w) for w in folded) + ")" if folded else ""


def _wordy(char: str) -> bool:
    return char.isalnum() or char == "_"


def words_behind(text: str, span: tuple[int, int]) -> str:
    """Return the words of text behind a span of its folded form, whole words in compounds."""
    folded, origin = fold(text)
    start, end = span
    while start > 0 and _wordy(folded[start]) and _wordy(folded[start - 1]):
        start -= 1
    while end < len(folded) and _wordy(folded[end - 1]) and _wordy(folded[end]):
        end += 1
    return text[origin[start] : origin[end - 1] + 1].strip()
