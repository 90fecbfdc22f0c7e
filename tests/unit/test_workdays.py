"""Working days on the official Chinese calendar (public holidays and adjusted working days), and
the end of a legal period counted from an event."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from kit_app.workdays import add_days, add_workdays, is_workday, known, next_workday, workdays_between


def test_the_official_calendar_with_its_adjusted_days() -> None:
    assert known(2026) and not known(2099)
    assert not is_workday(date(2026, 10, 1)) and not is_workday(date(2026, 10, 7))  # National Day week
    assert is_workday(date(2026, 10, 10))  # a Saturday made a working day (调休)
    assert not is_workday(date(2026, 9, 25))  # Mid-Autumn Festival, a Friday


def test_working_day_periods_skip_the_holiday_week() -> None:
    assert add_workdays(date(2026, 9, 29), 5).day == date(2026, 10, 12)
    assert add_workdays(date(2026, 9, 30), 1).day == date(2026, 10, 8)
    assert workdays_between(date(2026, 9, 30), date(2026, 10, 12)) == 4
    assert workdays_between(date(2026, 10, 12), date(2026, 9, 30)) == -4


def test_a_calendar_day_period_ending_on_a_rest_day_ends_on_the_next_working_day() -> None:
    assert add_days(date(2026, 9, 10), 15).day == date(2026, 9, 28)  # 25th: Mid-Autumn, then a weekend
    assert add_days(date(2026, 9, 25), 15).day == date(2026, 10, 10)  # the adjusted Saturday counts
    assert add_days(date(2026, 9, 20), 15).day == date(2026, 10, 8)  # 5 October: National Day week


def test_a_year_without_the_official_arrangement_is_an_estimate() -> None:
    due = add_days(date(2026, 12, 20), 15)
    assert due.day == date(2027, 1, 4) and due.estimated  # 3 January 2027 is a Sunday
    assert not add_days(date(2026, 11, 2), 15).estimated
    assert not is_workday(date(2099, 10, 1)) and not is_workday(date(2099, 10, 3)) and is_workday(date(2099, 10, 5))


@given(st.dates(min_value=date(2005, 1, 1), max_value=date(2030, 12, 31)), st.integers(min_value=1, max_value=20))
def test_working_day_periods_end_on_a_working_day_exactly_n_later(start: date, n: int) -> None:
    end = add_workdays(start, n).day
    assert is_workday(end) and workdays_between(start, end) == n
    assert next_workday(end) == end
