"""Free slots for a 15-minute career chat: hours, buffers, DST, preferred moments, spread."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from service.engine.model import Slot, WorkingHours
from service.engine.slots import find_slots
from tests.factories import BERLIN, NOW, at

HOURS = WorkingHours()
WEEK = NOW + timedelta(days=7)


def starts(slots: list[Slot]) -> list[datetime]:
    return [s.start for s in slots]


def local(slots: list[Slot]) -> list[str]:
    """Return slot starts as Berlin wall-clock text, the way the user reads them."""
    return [s.start.astimezone(BERLIN).strftime("%a %d %H:%M") for s in slots]


def whole_days(first: date, last: date) -> list[tuple[datetime, datetime]]:
    """Return busy intervals covering 08:00-18:00 local on every day from first to last."""
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return [
        (datetime.combine(d, time(8), tzinfo=BERLIN), datetime.combine(d, time(18), tzinfo=BERLIN))
        for d in days
    ]


def test_it_spreads_three_slots_over_the_first_three_working_days() -> None:
    slots = find_slots([], NOW, WEEK, HOURS, BERLIN)
    assert local(slots) == ["Mon 02 09:15", "Tue 03 09:15", "Wed 04 09:15"]
    assert all(s.end - s.start == timedelta(minutes=15) for s in slots)


def test_it_avoids_the_first_quarter_hour_of_the_day_only_when_nothing_else_is_free() -> None:
    rest_of_monday = [(at(2, 9, 20), at(2, 17, 30))]
    slots = find_slots(rest_of_monday, NOW, at(2, 23), HOURS, BERLIN)
    assert local(slots) == ["Mon 02 09:00"]


def test_it_falls_back_to_more_slots_on_one_day_when_the_window_has_only_one() -> None:
    slots = find_slots([], NOW, at(2, 23), HOURS, BERLIN)
    assert local(slots) == ["Mon 02 09:15", "Mon 02 09:30", "Mon 02 09:45"]


def test_it_never_proposes_a_slot_in_the_past() -> None:
    late_morning = at(2, 11, 3)
    slots = find_slots([], late_morning, WEEK, HOURS, BERLIN)
    assert slots[0].start == at(2, 11, 15)
    assert all(s.start >= late_morning for s in slots)


def test_it_keeps_every_slot_inside_the_window() -> None:
    slots = find_slots([], NOW, at(2, 9, 25), HOURS, BERLIN)
    assert starts(slots) == [at(2, 9)]


def test_it_keeps_a_buffer_before_and_after_busy_meetings() -> None:
    monday = [(at(2, 9), at(2, 10)), (at(2, 10, 25), at(2, 17, 30))]
    with_buffer = find_slots(monday, NOW, at(2, 23), HOURS, BERLIN)
    without = find_slots(monday, NOW, at(2, 23), HOURS, BERLIN, buffer=0)
    assert with_buffer == []
    assert starts(without) == [at(2, 10)]


def test_it_never_overlaps_a_busy_meeting() -> None:
    busy = [(at(2, 9), at(2, 12)), (at(2, 12, 20), at(2, 17))]
    slots = find_slots(busy, NOW, at(2, 23), HOURS, BERLIN, buffer=0)
    assert starts(slots) == [at(2, 12), at(2, 17), at(2, 17, 15)]


def test_it_never_proposes_weekends_by_default() -> None:
    friday_evening = at(6, 17, 20)
    slots = find_slots([], friday_evening, at(10, 0), HOURS, BERLIN)
    assert local(slots) == ["Mon 09 09:15", "Mon 09 09:30", "Mon 09 09:45"]


def test_it_follows_custom_working_hours_and_days() -> None:
    saturday_afternoons = WorkingHours(start=time(13), end=time(15), days=frozenset({5}))
    slots = find_slots([], NOW, at(16, 0), saturday_afternoons, BERLIN)
    assert local(slots) == ["Sat 07 13:15", "Sat 07 13:30", "Sat 14 13:15"]


def test_it_starts_on_the_quarter_hour_grid_when_hours_start_off_grid() -> None:
    hours = WorkingHours(start=time(8, 50), end=time(17))
    slots = find_slots([], NOW, at(2, 23), hours, BERLIN, limit=1)
    assert starts(slots) == [at(2, 9, 15)]


def test_it_takes_the_slot_right_after_lunch_with_carol_first() -> None:
    lunch = (at(4, 12), at(4, 13))
    slots = find_slots([lunch], NOW, WEEK, HOURS, BERLIN, prefer=[lunch[1]])
    # The slot right after comes first, so a reason naming the lunch describes the first slot.
    assert local(slots) == ["Wed 04 13:05", "Mon 02 09:15", "Tue 03 09:15"]
    only_one = find_slots([lunch], NOW, WEEK, HOURS, BERLIN, limit=1, prefer=[lunch[1]])
    assert local(only_one) == ["Wed 04 13:05"]


def test_it_rounds_a_preferred_start_up_to_five_minutes() -> None:
    lunch = (at(4, 12), at(4, 12, 58))
    slots = find_slots([lunch], NOW, WEEK, HOURS, BERLIN, limit=1, prefer=[lunch[1]])
    assert starts(slots) == [at(4, 13, 5)]


def test_it_skips_a_preferred_start_when_the_next_meeting_follows_the_lunch() -> None:
    lunch, review = (at(4, 12), at(4, 13)), (at(4, 13, 15), at(4, 14))
    slots = find_slots([lunch, review], NOW, WEEK, HOURS, BERLIN, prefer=[lunch[1]])
    assert local(slots) == ["Mon 02 09:15", "Tue 03 09:15", "Wed 04 09:15"]


def test_it_skips_a_preferred_start_outside_working_hours() -> None:
    dinner = (at(4, 19), at(4, 21))
    slots = find_slots([dinner], NOW, WEEK, HOURS, BERLIN, limit=1, prefer=[dinner[1]])
    assert local(slots) == ["Mon 02 09:15"]


def test_it_offers_no_slot_when_the_week_is_full() -> None:
    full_week = whole_days(date(2026, 3, 2), date(2026, 3, 6))
    assert find_slots(full_week, NOW, at(7, 0), HOURS, BERLIN) == []


def test_it_lands_on_nine_local_on_both_sides_of_the_spring_change() -> None:
    # Berlin springs forward on Sunday 2026-03-29: 09:00 is 08:00Z before and 07:00Z after.
    slots = find_slots([], at(27, 8), at(31, 0), HOURS, BERLIN, limit=2)
    assert local(slots) == ["Fri 27 09:15", "Mon 30 09:15"]
    assert [s.start.astimezone(UTC).hour for s in slots] == [8, 7]


def test_it_lands_on_nine_local_on_both_sides_of_the_autumn_change() -> None:
    # Berlin falls back on Sunday 2026-10-25: 09:00 is 07:00Z before and 08:00Z after.
    friday = at(23, 8, month=10)
    slots = find_slots([], friday, friday + timedelta(days=4), HOURS, BERLIN, limit=2)
    assert local(slots) == ["Fri 23 09:15", "Mon 26 09:15"]
    assert [s.start.astimezone(UTC).hour for s in slots] == [7, 8]


def test_it_reads_busy_times_given_in_another_zone_after_the_change() -> None:
    # 07:00Z-07:30Z on Monday 30 March is 09:00-09:30 in Berlin summer time.
    busy = [(datetime(2026, 3, 30, 7, tzinfo=UTC), datetime(2026, 3, 30, 7, 30, tzinfo=UTC))]
    slots = find_slots(busy, at(30, 8), at(31, 0), HOURS, BERLIN, limit=1)
    assert local(slots) == ["Mon 30 09:45"]


def test_it_finds_the_one_free_gap_in_a_year_of_overlapping_unsorted_meetings() -> None:
    year = whole_days(date(2026, 3, 2), date(2027, 3, 1))
    halves = [(s, s + (e - s) / 2 + timedelta(hours=1)) for s, e in year]
    busy = [*year, *halves]
    random.Random(7).shuffle(busy)
    gap_day = date(2026, 11, 18)
    busy = [(s, e) for s, e in busy if s.date() != gap_day]
    busy.append(
        (datetime(2026, 11, 18, 8, tzinfo=BERLIN), datetime(2026, 11, 18, 15, tzinfo=BERLIN))
    )
    slots = find_slots(busy, NOW, NOW + timedelta(days=365), HOURS, BERLIN, limit=1)
    assert starts(slots) == [datetime(2026, 11, 18, 15, 15, tzinfo=BERLIN)]
