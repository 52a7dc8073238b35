"""Working days on the Chinese public-holiday calendar (policies/workdays.py).

Facts below are the State Council's arrangements as carried by ``chinese_calendar`` 1.11
(years 2004-2026); each was checked day by day against the package.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from policies.workdays import add_working_days, covered, is_working_day


@pytest.mark.parametrize(
    ("day", "working"),
    [
        # National Day 2025: 1-8 Oct off (Mid-Autumn on Mon 6 Oct folded in).
        (date(2025, 9, 26), True),  # Friday
        (date(2025, 9, 27), False),  # Saturday, ordinary weekend
        (date(2025, 9, 28), True),  # Sunday, make-up working day
        (date(2025, 10, 1), False),
        (date(2025, 10, 6), False),  # Monday, Mid-Autumn Festival
        (date(2025, 10, 8), False),  # Wednesday, last day off
        (date(2025, 10, 9), True),
        (date(2025, 10, 11), True),  # Saturday, make-up working day
        (date(2025, 10, 12), False),  # Sunday, ordinary weekend
        # National Day 2024: 1-7 Oct off, make-up Sun 29 Sep and Sat 12 Oct.
        (date(2024, 10, 7), False),
        (date(2024, 10, 8), True),
        (date(2024, 10, 12), True),
        # Spring Festival 2024: 10-17 Feb off, make-up Sun 4 Feb and Sun 18 Feb.
        (date(2024, 2, 9), True),  # Friday, New Year's Eve was a working day that year
        (date(2024, 2, 12), False),  # Monday
        (date(2024, 2, 18), True),  # Sunday, make-up working day
        # Spring Festival 2026 (official arrangement: 15-23 Feb off, make-up working days
        # Sat 14 Feb and Sat 28 Feb 2026); chinese_calendar 1.11 says exactly the same.
        (date(2026, 2, 13), True),  # Friday
        (date(2026, 2, 14), True),  # Saturday, make-up working day
        (date(2026, 2, 15), False),  # Sunday, first day off
        (date(2026, 2, 16), False),  # Monday
        (date(2026, 2, 20), False),  # Friday
        (date(2026, 2, 23), False),  # Monday, last day off
        (date(2026, 2, 24), True),  # Tuesday, back to work
        (date(2026, 2, 28), True),  # Saturday, make-up working day
        (date(2026, 3, 1), False),  # Sunday, ordinary weekend
        # Ordinary weeks.
        (date(2025, 3, 12), True),  # Wednesday
        (date(2025, 3, 15), False),  # Saturday
        (date(2025, 3, 16), False),  # Sunday
    ],
)
def test_is_working_day_follows_the_official_calendar(day: date, working: bool) -> None:
    assert covered(day)
    assert is_working_day(day) is working


def test_spring_festival_2026_is_nine_days_off_between_two_working_saturdays() -> None:
    days_off = [
        date(2026, 2, 14) + timedelta(days=n)
        for n in range(16)
        if not is_working_day(date(2026, 2, 14) + timedelta(days=n))
    ]
    assert days_off == [date(2026, 2, d) for d in range(15, 24)] + [date(2026, 3, 1)]


def test_penalty_before_national_day_2025_is_due_on_13_october() -> None:
    # Decided Friday 2025-09-26; the decision day itself does not count:
    #   1 Sun 28 Sep (make-up)   2 Mon 29 Sep   3 Tue 30 Sep
    #   (Wed 1 Oct - Wed 8 Oct: National Day and Mid-Autumn, off)
    #   4 Thu 9 Oct   5 Fri 10 Oct   6 Sat 11 Oct (make-up)
    #   (Sun 12 Oct: weekend)
    #   7 Mon 13 Oct
    decided = date(2025, 9, 26)
    assert add_working_days(decided, 1) == date(2025, 9, 28)
    assert add_working_days(decided, 3) == date(2025, 9, 30)
    assert add_working_days(decided, 4) == date(2025, 10, 9)
    assert add_working_days(decided, 6) == date(2025, 10, 11)
    assert add_working_days(decided, 7) == date(2025, 10, 13)


def test_penalty_before_spring_festival_2026_is_due_on_2_march() -> None:
    # Decided Friday 2026-02-13:
    #   1 Sat 14 Feb (make-up)   (Sun 15 - Mon 23 Feb off)
    #   2 Tue 24   3 Wed 25   4 Thu 26   5 Fri 27   6 Sat 28 Feb (make-up)
    #   (Sun 1 Mar: weekend)   7 Mon 2 Mar
    decided = date(2026, 2, 13)
    assert add_working_days(decided, 1) == date(2026, 2, 14)
    assert add_working_days(decided, 2) == date(2026, 2, 24)
    assert add_working_days(decided, 6) == date(2026, 2, 28)
    assert add_working_days(decided, 7) == date(2026, 3, 2)


def test_ordinary_week_skips_only_the_weekend() -> None:
    # Wednesday 2025-03-12: Thu 13, Fri 14, (weekend), Mon 17 ... Fri 21 is the 7th.
    assert add_working_days(date(2025, 3, 12), 7) == date(2025, 3, 21)


def test_a_decision_on_a_day_off_counts_from_the_next_working_day() -> None:
    # Saturday 2025-03-15: Mon 17 is the first working day after it.
    assert add_working_days(date(2025, 3, 15), 1) == date(2025, 3, 17)
    # Thursday 2025-10-02, in the middle of the holiday: Thu 9 Oct is the first.
    assert add_working_days(date(2025, 10, 2), 1) == date(2025, 10, 9)


@pytest.mark.parametrize(
    "day", [date(2025, 9, 26), date(2025, 10, 1), date(2026, 2, 15), date(2027, 6, 5)]
)
def test_zero_working_days_is_the_start_itself(day: date) -> None:
    assert add_working_days(day, 0) == day


@pytest.mark.parametrize("days", [-1, -7])
def test_negative_days_are_refused(days: int) -> None:
    with pytest.raises(ValueError, match="negative"):
        add_working_days(date(2025, 9, 26), days)


def test_covered_years_are_2004_to_2026() -> None:
    assert covered(date(2004, 1, 1))
    assert covered(date(2026, 12, 31))
    assert not covered(date(2003, 12, 31))
    assert not covered(date(2027, 1, 1))
    assert not covered(date(2027, 10, 1))


def test_2027_falls_back_to_monday_to_friday() -> None:
    # No official arrangement for 2027 yet: weekends are the only days off, so National Day
    # 2027 (Friday 1 Oct) and New Year's Day (Friday 1 Jan) count as working days.
    assert not covered(date(2027, 10, 1))
    assert is_working_day(date(2027, 10, 1))  # Friday
    assert not is_working_day(date(2027, 10, 2))  # Saturday
    assert not is_working_day(date(2027, 10, 3))  # Sunday
    assert is_working_day(date(2027, 10, 4))  # Monday
    assert is_working_day(date(2027, 1, 1))  # Friday
    # Thursday 2027-09-30: Fri 1, (weekend), Mon 4 ... Fri 8 is the 6th, Mon 11 the 7th.
    assert add_working_days(date(2027, 9, 30), 7) == date(2027, 10, 11)


def test_counting_across_the_end_of_the_known_calendar() -> None:
    # Thursday 2026-12-31 is a known working day; Friday 2027-01-01 is past the package's
    # data, so it counts as a working day by the weekday fallback.
    assert covered(date(2026, 12, 31))
    assert add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 1)
    # Then Sat 2, Sun 3 off; Mon 4 is the 2nd.
    assert add_working_days(date(2026, 12, 31), 2) == date(2027, 1, 4)
