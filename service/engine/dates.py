"""Dates, times and lists as the current language writes them (CLDR data, through Babel).

Every function takes the language from service.engine.i18n's context (or ``language=``), so a
note, an email and a page made for a German user all say "Mi., 4. März". English is written as
in the United Kingdom: "Wed 4 Mar", 24-hour times, "Alice, Bob and Carol", as Touchpoint always
wrote it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from functools import cache, lru_cache

from babel import Locale
from babel.dates import format_date, format_interval, format_skeleton
from babel.lists import format_list

from service.engine.i18n import DEFAULT, current, supported

__all__ = [
    "day_month",
    "full_date",
    "full_moment",
    "listing",
    "locale_of",
    "long_date",
    "long_day",
    "moment",
    "month",
    "month_short",
    "short_date",
    "time_span",
    "weekday",
    "weekday_time",
]


def locale_of(code: str | None = None) -> Locale:
    """Return the CLDR locale a language is written with (English: the British forms)."""
    return _locale(supported(code or current()))


@cache
def _locale(code: str) -> Locale:
    return Locale.parse("en_GB" if code == DEFAULT else code)


def weekday(moment: date, language: str | None = None) -> str:
    """Return the short weekday on its own: "Wed", "Mi", "mer."."""
    return format_date(moment, "ccc", locale=locale_of(language))


def weekday_time(moment: datetime, language: str | None = None) -> str:
    """Return "Wed 13:05": the weekday and the time."""
    return f"{_weekday(moment.weekday(), supported(language or current()))} {moment:%H:%M}"


@lru_cache(maxsize=64)
def _weekday(number: int, code: str) -> str:
    """Return a weekday's short name in a sentence ("Wed", "Mi."): 0 is Monday."""
    return format_date(date(2024, 1, 1 + number), "EEE", locale=_locale(code))


def short_date(moment: date, language: str | None = None) -> str:
    """Return "Wed 4 Mar", "Mi., 4. März"."""
    day = moment.date() if isinstance(moment, datetime) else moment
    return _short_date(day, supported(language or current()))


@lru_cache(maxsize=4096)  # a plan writes the same few hundred days thousands of times
def _short_date(day: date, code: str) -> str:
    return format_skeleton("MMMEd", day, locale=_locale(code))


def day_month(moment: date, language: str | None = None) -> str:
    """Return "4 Mar", "4. März"."""
    return format_skeleton("MMMd", moment, locale=locale_of(language))


def long_date(moment: date, language: str | None = None) -> str:
    """Return "4 March", "4. März", "4 de marzo"."""
    return format_skeleton("MMMMd", moment, locale=locale_of(language))


def long_day(moment: date, language: str | None = None) -> str:
    """Return "Wednesday 4 March" (or the nearest form the language has)."""
    return format_skeleton("MMMMEEEEd", moment, locale=locale_of(language))


def month(moment: date, language: str | None = None) -> str:
    """Return the month's name on its own: "March", "März"."""
    return format_date(moment, "LLLL", locale=locale_of(language))


def month_short(moment: date, language: str | None = None) -> str:
    """Return the month's short name on its own: "Mar", "Mär"."""
    return format_date(moment, "LLL", locale=locale_of(language))


def full_date(moment: date, language: str | None = None) -> str:
    """Return "4 Mar 2026", "4. März 2026": a date with its year."""
    return format_skeleton("yMMMd", moment, locale=locale_of(language))


def full_moment(at: datetime, language: str | None = None) -> str:
    """Return "4 Mar 2026 13:05": a date with its year, and a time."""
    return f"{full_date(at, language)} {_clock(at, language)}"


def moment(at: datetime, language: str | None = None) -> str:
    """Return "Wed 4 Mar 13:05": a day and a time."""
    return f"{short_date(at, language)} {_clock(at, language)}"


def time_span(start: datetime, end: datetime, language: str | None = None) -> str:
    """Return "Wed 4 Mar 13:05-13:20" (with an en dash): a slot on one day."""
    hours = format_interval(start, end, "Hm", locale=locale_of(language))
    return f"{short_date(start, language)} {hours}"


def listing(items: Sequence[str], language: str | None = None) -> str:
    """Return "Alice, Bob and Carol", "Alice, Bob und Carol"."""
    return _listing(tuple(items), supported(language or current())) if items else ""


@lru_cache(maxsize=4096)  # a weekly series names the same people every week
def _listing(items: tuple[str, ...], code: str) -> str:
    return format_list(list(items), locale=_locale(code))


def _clock(moment: datetime, language: str | None) -> str:
    # Every language here writes 24-hour times with two-digit hours: 09:30, 13:05.
    return f"{moment:%H:%M}"
