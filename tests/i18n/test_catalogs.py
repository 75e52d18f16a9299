"""The catalogs: every marked string is in the template, and every language translates it all.

The completeness test fails until the translators' catalogs are merged: a language that misses
a message shows that message in English.
"""

from __future__ import annotations

import logging
from configparser import ConfigParser
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir

from service.engine import i18n
from tests.i18n.catalogs import TRANSLATED, catalog, entries, msgids, template, translation

ROOT = Path(__file__).resolve().parents[2]


def _method_map() -> tuple[list[tuple[str, str]], dict[str, dict[str, str]]]:
    """Read babel.cfg as pybabel does: [method: pattern] sections with their options."""
    parser = ConfigParser()
    parser.read(ROOT / "babel.cfg")
    methods, options = [], {}
    for section in parser.sections():
        method, _colon, pattern = section.partition(":")
        methods.append((pattern.strip(), method.strip()))
        options[pattern.strip()] = dict(parser.items(section))
    return methods, options


def test_the_template_holds_every_string_marked_in_the_code_and_templates() -> None:
    methods, options = _method_map()
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
    marked = {
        message
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT, methods, options, keywords
        )
    }
    marked = {m if isinstance(m, str) else tuple(m) for m in marked}
    left_out = sorted(map(str, marked - set(msgids())))
    assert not left_out, f"run `make messages`: not in messages.pot: {left_out[:10]}"


def test_the_template_uses_named_placeholders_translators_can_reorder() -> None:
    positional = [
        message.id
        for message in template()
        if message.id and "python-format" in message.flags and "%s" in str(message.id)
    ]
    assert positional == []


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_language_translates_every_message_with_the_same_placeholders(code: str) -> None:
    missing = [msgid for msgid, context in entries() if not translation(code, msgid, context)]
    wrong = [
        f"{message.id!r}: {'; '.join(map(str, errors))}"
        for message, errors in catalog(code).check()
        if errors and message.id in set(msgids())
    ]
    assert not missing, f"{code}: {len(missing)} messages untranslated, e.g. {missing[:5]}"
    assert not wrong, f"{code}: placeholders or plural forms differ: {wrong[:5]}"


def test_a_language_whose_catalog_was_not_compiled_falls_back_to_english_said_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "de" / "LC_MESSAGES").mkdir(parents=True)  # a .po may be there, no .mo
    with caplog.at_level(logging.WARNING, logger="service.engine.i18n"):
        first = i18n.load(tmp_path, "de")
        again = i18n.load(tmp_path, "de")

    assert first.gettext("Settings") == "Settings"
    assert again is first
    said = [r for r in caplog.records if "no compiled catalog for 'de'" in r.getMessage()]
    assert len(said) == 1
