"""When an overdue case duty is reminded (催办): the day after its due day, then every 5 working
days on the Chinese holiday calendar, counting the Saturdays worked in lieu; and how late it is,
in working days."""

from __future__ import annotations

from datetime import date

from policies.cases import default_cases
from policies.workdays import working_days_after

RULES = default_cases()


def test_a_duty_due_before_the_national_day_weekend_is_reminded_on_the_right_days() -> None:
    due = date(2026, 10, 8)  # a transfer approved Wed Sep 30, due Thu Oct 8
    first = RULES.reminder_on(due, None)
    assert first == date(2026, 10, 9)
    # Oct 10 is a Saturday worked in lieu of the holiday: 10, 12, 13, 14, 15.
    second = RULES.reminder_on(due, first)
    assert second == date(2026, 10, 15)
    assert RULES.reminder_on(due, second) == date(2026, 10, 22)
    # A day missed is caught up once, and the count goes on from the day it was sent.
    assert RULES.reminder_on(due, date(2026, 10, 19)) == date(2026, 10, 26)


def test_a_reminder_before_the_due_day_belongs_to_an_earlier_duty_and_starts_nothing() -> None:
    assert RULES.reminder_on(date(2026, 10, 8), date(2026, 10, 8)) == date(2026, 10, 9)
    assert RULES.reminder_on(date(2026, 10, 8), date(2026, 9, 1)) == date(2026, 10, 9)


def test_lateness_counts_working_days_only() -> None:
    due = date(2026, 10, 8)
    assert working_days_after(due, due) == 0
    assert working_days_after(due, date(2026, 10, 1)) == 0
    assert working_days_after(due, date(2026, 10, 9)) == 1
    assert working_days_after(due, date(2026, 10, 11)) == 2  # Sat 10 worked, Sun 11 not
    assert working_days_after(due, date(2026, 10, 15)) == 6
    # Spring Festival: due Wed Feb 11, the days off from Feb 15 to 23 do not count.
    assert working_days_after(date(2026, 2, 11), date(2026, 2, 24)) == 4  # 12, 13, 14, 24
