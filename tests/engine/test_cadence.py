"""Cadence: days since the last career conversation, booked ones ahead, and when one is due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from service.engine.cadence import cadence_of, describe
from service.engine.model import Cadence
from tests.factories import NOW, at


def cadence(*starts: datetime, lookback_days: int | None = None) -> Cadence:
    """Return alice's cadence with her defaults: ideally every 45 days, at most 60."""
    return cadence_of(starts, NOW, ideal_days=45, max_days=60, lookback_days=lookback_days)


def test_it_is_due_when_the_last_career_conversation_is_older_than_the_maximum() -> None:
    long_ago = NOW - timedelta(days=70)
    c = cadence(long_ago)
    assert (c.due, c.last, c.days_since, c.booked_ahead) == (True, long_ago, 70, None)
    assert describe(c) == "Your last career conversation was 70 days ago: one is due."


def test_it_is_due_when_there_was_never_a_career_conversation() -> None:
    c = cadence()
    assert (c.due, c.last, c.days_since) == (True, None, None)
    assert describe(c, max_days=60) == "No career conversation in the last 60 days: one is due."


def test_it_is_not_due_after_a_recent_career_conversation() -> None:
    c = cadence(NOW - timedelta(days=90), NOW - timedelta(days=12, hours=3))
    assert (c.due, c.days_since) == (False, 12)
    assert describe(c) == "Your last career conversation was 12 days ago."


def test_a_conversation_exactly_at_the_maximum_still_counts() -> None:
    assert cadence(NOW - timedelta(days=60)).due is False
    assert cadence(NOW - timedelta(days=60, minutes=1)).due is True


def test_it_is_not_due_when_one_is_already_booked_ahead() -> None:
    c = cadence(NOW - timedelta(days=70), at(17, 10), at(10, 10))
    assert (c.due, c.days_since, c.booked_ahead) == (False, 70, at(10, 10))
    assert describe(c) == (
        "Your last career conversation was 70 days ago. One is booked for Tue 10 Mar."
    )


def test_it_describes_a_booked_conversation_when_there_was_none_before() -> None:
    c = cadence(at(10, 10))
    assert (c.due, c.last) == (False, None)
    assert describe(c) == "One is booked for Tue 10 Mar."


def test_a_conversation_starting_now_is_booked_ahead_not_past() -> None:
    c = cadence(NOW)
    assert (c.last, c.booked_ahead, c.due) == (None, NOW, False)


def test_it_picks_the_latest_past_conversation_whatever_the_order_or_zone() -> None:
    in_utc = datetime(2026, 2, 20, 9, tzinfo=UTC)
    c = cadence(in_utc, NOW - timedelta(days=40), NOW - timedelta(days=20))
    assert c.last == in_utc
    assert c.days_since == 9


def test_it_ignores_conversations_older_than_the_lookback() -> None:
    c = cadence(NOW - timedelta(days=50), lookback_days=30)
    assert (c.last, c.due) == (None, True)


def test_it_says_less_than_a_day_for_a_conversation_earlier_the_same_morning() -> None:
    c = cadence(NOW - timedelta(hours=2))
    assert describe(c) == "Your last career conversation was less than a day ago."
