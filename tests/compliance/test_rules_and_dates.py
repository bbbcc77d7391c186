"""The rule table, calendar arithmetic in CST, statuses, and pure derivation."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from charity.compliance.rules import law as r
from charity.compliance.rules.dates import add_months, end_of_day_utc, may_31_following
from charity.compliance.rules.deadlines import (
    CampaignFacts,
    OrgFacts,
    TriggerFacts,
    derive,
    status_of,
)
from charity.compliance.rules.fields import FIELDS
from charity.core.clock import cst_date
from tests.support.compliance import short_key


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2025, 11, 30), 3, date(2026, 2, 28)),
        (date(2023, 11, 30), 3, date(2024, 2, 29)),  # leap year
        (date(2025, 8, 31), 6, date(2026, 2, 28)),
        (date(2025, 10, 15), 3, date(2026, 1, 15)),  # across the year end
        (date(2025, 3, 31), -1, date(2025, 2, 28)),
    ],
)
def test_month_arithmetic_clamps_to_month_end(start, months, expected):
    assert add_months(start, months) == expected


def test_dates_are_china_standard_time():
    # 16:30 UTC on Dec 31 is already New Year's Day in Beijing.
    assert cst_date(datetime(2025, 12, 31, 16, 30, tzinfo=UTC)) == date(2026, 1, 1)
    assert cst_date(datetime(2025, 12, 31, 15, 59, tzinfo=UTC)) == date(2025, 12, 31)
    assert end_of_day_utc(date(2025, 3, 1)) == datetime(2025, 3, 1, 16, 0, tzinfo=UTC)
    assert may_31_following(2025) == date(2026, 5, 31)


def test_every_rule_has_a_source_a_type_and_fields():
    assert len({rule.code for rule in r.RULES}) == len(r.RULES)
    for rule in r.RULES:
        assert rule.source and rule.due and rule.trigger
        assert rule.disclosure_type in r.OBLIGATION_TYPES
    for kind in r.DISCLOSURE_TYPES:
        assert FIELDS[kind], kind
        assert kind in r.TYPE_LABELS


@pytest.mark.parametrize(
    ("today", "fulfilled", "expected"),
    [
        (date(2025, 1, 1), None, "upcoming"),
        (date(2025, 5, 16), None, "upcoming"),  # 15 days before
        (date(2025, 5, 17), None, "due_soon"),  # 14 days before
        (date(2025, 5, 31), None, "due_soon"),  # the last day
        (date(2025, 6, 1), None, "overdue"),
        (date(2025, 6, 1), date(2025, 5, 31), "on_time"),
        (date(2025, 6, 9), date(2025, 6, 1), "late"),
    ],
)
def test_status_of(today, fulfilled, expected):
    assert status_of(date(2025, 5, 31), fulfilled, today) == expected


def _derive(campaigns=(), triggers=(), today=date(2026, 3, 1)):  # type: ignore[no-untyped-def]
    org = OrgFacts(1, date(2025, 1, 10))
    found = derive([org], campaigns, triggers, {}, {c.id: c.filing_date for c in campaigns}, today)
    return {short_key(item.key): item.due_date for item in found}


def test_organization_obligations_registration_and_annual_reports():
    keys = _derive(today=date(2027, 1, 1))
    # 2025-02-09 is a Sunday: the period ends on Monday (Civil Code art. 203).
    assert keys["basic_info_registration:org:registration"] == date(2025, 2, 10)
    assert keys["annual_work_report:org:2025"] == date(2026, 5, 31)
    assert keys["annual_financial_report:org:2026"] == date(2027, 5, 31)
    assert "annual_work_report:org:2027" not in keys  # the year has not ended


def test_long_cooperation_campaign():
    campaign = CampaignFacts(
        7, 1, 9, date(2025, 3, 1), date(2025, 10, 15), False, date(2025, 2, 1), leftover_fen=1
    )
    keys = _derive([campaign])
    assert keys["campaign_filing:campaign:7:filing"] == date(2025, 2, 19)
    progress = sorted(k for k in keys if k.startswith("campaign_progress"))
    assert progress == [
        "campaign_progress:campaign:7:2025-06-01",
        "campaign_progress:campaign:7:2025-09-01",
    ]
    assert keys["campaign_result:campaign:7:result"] == date(2026, 1, 15)
    assert keys["partner_evaluation:campaign:7:end"] == date(2026, 1, 15)
    assert keys["leftover_property:campaign:7:end"] == date(2026, 1, 15)


def test_six_month_campaign_needs_no_progress_and_no_partner_evaluation():
    campaign = CampaignFacts(
        8, 1, None, date(2025, 3, 1), date(2025, 9, 1), False, date(2025, 2, 1)
    )
    keys = _derive([campaign])
    assert not [k for k in keys if k.startswith(("campaign_progress", "partner_evaluation"))]


def test_emergency_campaign_updates_every_five_days_and_filing_after_start():
    campaign = CampaignFacts(
        5, 1, None, date(2025, 5, 1), date(2025, 5, 12), True, date(2025, 5, 8)
    )
    keys = _derive([campaign])
    # 2025-05-11 is a Sunday: those periods end on Monday 05-12 (Civil Code art. 203).
    assert keys["emergency_filing:campaign:5:filing"] == date(2025, 5, 12)
    updates = sorted(v for k, v in keys.items() if k.startswith("emergency_update"))
    assert updates == [date(2025, 5, 6), date(2025, 5, 12)]


def test_triggers_start_thirty_day_obligations():
    triggers = [
        TriggerFacts(3, 1, "basic_info_change", date(2025, 12, 20)),
        TriggerFacts(4, 1, "major_transaction", date(2025, 4, 1)),
    ]
    keys = _derive(triggers=triggers)
    assert keys["basic_info_change:org:basic_info_change-3"] == date(2026, 1, 19)
    # 2025-05-01 is Labour Day (holiday to May 5): due on May 6 (Civil Code art. 203).
    assert keys["major_transactions:org:major_transaction-4"] == date(2025, 5, 6)
