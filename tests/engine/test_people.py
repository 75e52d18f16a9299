"""One name for one person, wherever it is shown."""

from __future__ import annotations

import pytest

from service.engine.people import address, clean, display_name, domain_of


@pytest.mark.parametrize(
    "email",
    [
        "mary-jane.o-neil+cal@example.com",
        "Mary-Jane.O-Neil@example.com",
        "mary_jane.o_neil@example.com",
        "mary.jane.o.neil+lunch@example.com",
    ],
)
def test_every_spelling_of_an_address_reads_as_the_same_name(email: str) -> None:
    assert display_name(email) == "Mary Jane O Neil"


def test_the_name_a_calendar_gives_wins_over_the_address() -> None:
    assert display_name("cs@example.com", "Carol  Smith") == "Carol Smith"
    assert display_name("carol.smith@example.com", "carol.smith@example.com") == "Carol Smith"


def test_nobody_has_no_name() -> None:
    assert display_name(None) == ""
    assert display_name("") == ""


def test_a_name_cannot_start_a_new_header_line_or_hide_text() -> None:
    name = display_name("x@example.com", "Eve\r\nBcc: everyone\u202e")
    assert "\n" not in name
    assert "\r" not in name
    assert "\u202e" not in name
    assert name == "Eve Bcc: everyone"


def test_addresses_compare_in_one_form() -> None:
    assert address(" MAILTO:Carol@Example.com ") == "carol@example.com"
    assert domain_of("carol@Example.com") == "example.com"
    assert domain_of("nobody") == ""


def test_a_long_line_is_cut_at_a_word_with_an_ellipsis() -> None:
    assert clean("Quarterly planning for the platform team", 20) == "Quarterly planning…"
