"""charity.core.clock: China Standard Time defined once (issue 19 point 5)."""

from __future__ import annotations

import pathlib
import re
from datetime import UTC, date, datetime

from charity.core.clock import CST, cst_date, today_cst

ROOT = pathlib.Path(__file__).resolve().parents[2] / "charity"


def test_a_utc_evening_is_the_next_day_in_china():
    moment = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)  # 00:30 on Jan 1 in Beijing
    assert cst_date(moment) == today_cst(moment) == date(2027, 1, 1)
    assert today_cst(datetime(2026, 12, 31, 15, 59, tzinfo=UTC)) == date(2026, 12, 31)
    assert CST.utcoffset(moment).total_seconds() == 8 * 3600


def test_the_zone_and_today_cst_are_defined_once():
    """In charity/ and in the tests. bench/wallet_events.py and bench/webhook_floor.py keep
    their own: the floor they measure runs without the application's code."""
    zone = re.compile(r"ZoneInfo\(\"Asia/Shanghai\"\)|timezone\(timedelta\(hours=8\)\)")
    today = re.compile(r"^def (today_cst|cst_date)\(", re.M)
    paths = sorted([*ROOT.rglob("*.py"), *(ROOT.parent / "tests").rglob("*.py")])
    found = [
        str(path.relative_to(ROOT.parent))
        for path in paths
        if path.name != "clock.py"
        and (zone.search(text := path.read_text(encoding="utf-8")) or today.search(text))
    ]
    assert found == []
