"""Calendar arithmetic for deadlines, in China Standard Time (charity.core.clock).

Month arithmetic clamps to the end of the month (Nov 30 + 3 months = Feb 28/29), as
dateutil's relativedelta does; a deadline "within 3 months" of Nov 30 is Feb 28.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import chinese_calendar
from dateutil.relativedelta import relativedelta

from charity.core.clock import CST


def end_of_day_utc(day: date) -> datetime:
    """The first instant after ``day`` ends in CST, as aware UTC (an exclusive bound)."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=CST).astimezone(UTC)


def add_months(day: date, months: int) -> date:
    return day + relativedelta(months=months)


def is_rest_day(day: date) -> bool:
    """A statutory rest day (法定休假日): a public holiday of the State Council's yearly
    notice or a weekend day not swapped into a working day (调休), from the
    ``chinese-calendar`` package (keyed by those notices). For a year it has no data for
    yet (the notice comes out in November), weekends only."""
    try:
        return chinese_calendar.is_holiday(day)
    except NotImplementedError:
        return day.weekday() >= 5


def period_end(day: date) -> date:
    """Civil Code art. 203 (issue 16 point 11): when the last day of a period is a
    statutory rest day, the period ends on the first day after the rest ends. ``day`` is
    the last day as computed by arts. 201–202 (days counted from the next day, months
    clamped to the month's end)."""
    while is_rest_day(day):
        day += timedelta(days=1)
    return day


def may_31_following(year: int) -> date:
    """Annual reports for ``year`` are due by May 31 of the next year."""
    return date(year + 1, 5, 31)


def add_working_days(day: date, count: int) -> date:
    """The ``count``-th working day after ``day`` (days counted from the next day, Civil
    Code art. 201): public holidays of the State Council's notice are skipped and the
    weekend days it swaps into working days (调休) count (``chinese-calendar``). Issue 16
    point 15: a complaint's reply is due within 5 working days."""
    while count > 0:
        day += timedelta(days=1)
        if not is_rest_day(day):
            count -= 1
    return day
