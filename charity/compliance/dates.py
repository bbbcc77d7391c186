"""Calendar arithmetic for deadlines, in China Standard Time (Asia/Shanghai).

Month arithmetic clamps to the end of the month (Nov 30 + 3 months = Feb 28/29), as
dateutil's relativedelta does; a deadline "within 3 months" of Nov 30 is Feb 28.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

CST = ZoneInfo("Asia/Shanghai")


def today_cst() -> date:
    """Today's date in China Standard Time (the legal calendar of every deadline)."""
    return datetime.now(UTC).astimezone(CST).date()


def cst_date(moment: datetime) -> date:
    """The CST calendar date of an aware moment (23:30 UTC on Dec 31 is Jan 1 in CST)."""
    return moment.astimezone(CST).date()


def end_of_day_utc(day: date) -> datetime:
    """The first instant after ``day`` ends in CST, as aware UTC (an exclusive bound)."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=CST).astimezone(UTC)


def add_months(day: date, months: int) -> date:
    return day + relativedelta(months=months)


def may_31_following(year: int) -> date:
    """Annual reports for ``year`` are due by May 31 of the next year."""
    return date(year + 1, 5, 31)
