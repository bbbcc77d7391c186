"""China Standard Time, defined once (issue 19 point 5).

Every legal calendar day here (a campaign's dates, a disclosure deadline, a receipt's date,
a bill's day at a payment provider) is a day in Asia/Shanghai (UTC+8, no daylight saving
since 1991). Times are stored as aware UTC; this module turns them into CST days.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

#: China Standard Time: the one zone definition.
CST = ZoneInfo("Asia/Shanghai")


def now_cst() -> datetime:
    """The current moment as an aware datetime in CST."""
    return datetime.now(UTC).astimezone(CST)


def today_cst(now: datetime | None = None) -> date:
    """Today's date in CST (or the CST date of the aware moment ``now``)."""
    return (now or datetime.now(UTC)).astimezone(CST).date()


def cst_date(moment: datetime) -> date:
    """The CST calendar date of an aware moment (23:30 UTC on Dec 31 is Jan 1 in CST)."""
    return moment.astimezone(CST).date()
