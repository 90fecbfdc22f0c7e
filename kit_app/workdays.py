"""Working days in mainland China, and the end of a legal period.

The State Council's holiday arrangements — public holidays and the weekend days made working days
to bridge them (调休) — come from ``chinesecalendar``, a maintained library updated each year when
the arrangement is published. For a year it does not cover yet, weekends and the fixed-date public
holidays are used and the result is marked an estimate, so an officer is never shown a date as
certain that the calendar cannot vouch for.

Periods (《行政处罚法》第八十五条: "二日""三日""五日""七日" are working days, not counting public
holidays; 《行政强制法》第六十九条: periods of ten days or less are working days): a period counts
from the day after the event. A period in calendar days whose last day is not a working day ends
on the next working day (the general rule of Chinese procedure law, e.g. 《民事诉讼法》第八十五条).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar

# public holidays on fixed solar dates (元旦, 劳动节, 国庆节), used only for years the library lacks
_FIXED_HOLIDAYS = {(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)}


@dataclass(frozen=True)
class Due:
    """The last day of a period, and whether it rests on the official calendar."""

    day: date
    estimated: bool = False  # a year the holiday calendar does not cover yet


# chinesecalendar raises NotImplementedError for a year it has no arrangement for: that is its
# "not published yet", answered below by the estimate, not a missing piece of this module.


@functools.lru_cache(maxsize=64)
def known(year: int) -> bool:
    """The official arrangement for ``year`` is in the calendar."""
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


@functools.lru_cache(maxsize=8192)  # a pure function of the date; the calendar checks its range on every call
def is_workday(day: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5 and (day.month, day.day) not in _FIXED_HOLIDAYS


def next_workday(day: date) -> date:
    """``day`` itself if it is a working day, else the first working day after it."""
    while not is_workday(day):
        day += timedelta(days=1)
    return day


def add_workdays(start: date, n: int) -> Due:
    """The ``n``-th working day after ``start`` (``start`` itself not counted)."""
    day, left = start, n
    while left > 0:
        day += timedelta(days=1)
        if is_workday(day):
            left -= 1
    return Due(day, estimated=not all(known(y) for y in range(start.year, day.year + 1)))


def add_days(start: date, n: int) -> Due:
    """The end of a period of ``n`` calendar days after ``start``: moved to the next working day
    when it falls on a rest day or holiday."""
    end = next_workday(start + timedelta(days=n))
    return Due(end, estimated=not all(known(y) for y in range(start.year, end.year + 1)))


def period_end(start: date, n: int, working: bool) -> Due:
    return add_workdays(start, n) if working else add_days(start, n)


def workdays_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (negative when ``end`` is earlier)."""
    if end < start:
        return -workdays_between(end, start)
    return sum(1 for k in range(1, (end - start).days + 1) if is_workday(start + timedelta(days=k)))


__all__ = ["Due", "add_days", "add_workdays", "is_workday", "known", "next_workday", "period_end",
           "workdays_between"]
