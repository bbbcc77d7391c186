"""Charity Law (2023) art. 58 and MCA Order 81 (issue 16 point 2): the handling of
leftover property is reported within 3 months of the end of the *project* the money
serves, and only when something is left over (raised − spent at the project's end).
A campaign that raised nothing, or spent everything, owes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime

import time_machine

from charity.compliance.rules.deadlines import CampaignFacts, OrgFacts, derive
from charity.core.clock import today_cst
from charity.services import campaigns as campaign_service
from tests.support.compliance import (
    cst_noon,
    make_campaign,
    make_org,
    short_key,
    spend_from_campaign,
    statuses,
)
from tests.support.funds import gift


def _leftover(campaign: CampaignFacts, today: date) -> dict[str, date]:
    found = derive([OrgFacts(1, date(2025, 1, 10))], [campaign], [], {}, {}, today)
    return {short_key(d.key): d.due_date for d in found if d.rule_code == "leftover_property"}


def _facts(**kwargs) -> CampaignFacts:  # type: ignore[no-untyped-def]
    return CampaignFacts(
        3, 1, None, date(2025, 3, 1), date(2025, 6, 30), False, date(2025, 2, 1), **kwargs
    )


def test_cl58_nothing_left_over_owes_nothing():
    # Raised nothing, or spent it all: no leftover report.
    assert _leftover(_facts(leftover_fen=0), date(2026, 1, 1)) == {}
    assert _leftover(_facts(leftover_fen=-5), date(2026, 1, 1)) == {}
    # The project has not ended: the leftover is not known, nothing owed yet.
    assert _leftover(_facts(), date(2026, 1, 1)) == {}


def test_cl58_counted_from_the_project_end_not_the_fundraising_end():
    facts = _facts(project_end_date=date(2025, 11, 30), leftover_fen=100)
    assert _leftover(facts, date(2026, 1, 1)) == {
        "leftover_property:campaign:3:end": date(2026, 2, 28)
    }
    # Without a project end date the project ends with the fundraising.
    assert _leftover(_facts(leftover_fen=100), date(2026, 1, 1)) == {
        "leftover_property:campaign:3:end": date(2025, 9, 30)
    }


def test_cl58_leftover_walk_with_gifts_spending_and_a_later_project_end(app, db_session):
    """Walked with time travel on the real books: gifts, then spending, the project ends
    two months after the fundraising; only money left at the project's end creates the
    duty, due 3 months after the project's end."""
    org = make_org()
    left = make_campaign(
        org, date(2026, 3, 1), date(2026, 3, 31), project_end_date=date(2026, 5, 31)
    )
    spent_all = make_campaign(org, date(2026, 3, 1), date(2026, 3, 31))
    nothing = make_campaign(org, date(2026, 3, 1), date(2026, 3, 31))
    key = f"leftover_property:campaign:{left.id}:end"
    with time_machine.travel(datetime(2026, 3, 2, 4, tzinfo=UTC), tick=False):
        gift(left, 100_000, datetime(2026, 3, 2, 4, tzinfo=UTC))
        gift(spent_all, 50_000, datetime(2026, 3, 2, 4, tzinfo=UTC))
    with time_machine.travel(cst_noon(date(2026, 3, 20)), tick=False):
        spend_from_campaign(app, org, spent_all, 50_000)
        spend_from_campaign(app, org, left, 60_000)
    with time_machine.travel(cst_noon(date(2026, 4, 15)), tick=False):
        found = statuses(db_session, org.id, today_cst())
        # Fundraising has ended, the project has not: nothing owed yet for `left`.
        assert key not in found
        assert f"leftover_property:campaign:{spent_all.id}:end" not in found
        assert f"leftover_property:campaign:{nothing.id}:end" not in found
    with time_machine.travel(cst_noon(date(2026, 6, 1)), tick=False):
        found = statuses(db_session, org.id, today_cst())
        assert found[key] == "upcoming"  # ¥400 left; due 2026-08-31
        assert f"leftover_property:campaign:{spent_all.id}:end" not in found
        assert f"leftover_property:campaign:{nothing.id}:end" not in found
        # Spending after the project's end does not undo the duty that arose at its end.
        spend_from_campaign(app, org, left, 40_000)
    with time_machine.travel(cst_noon(date(2026, 9, 1)), tick=False):
        found = statuses(db_session, org.id, today_cst())
        assert found[key] == "overdue"


def test_cl58_project_end_before_fundraising_end_is_refused(db_session):
    org = make_org()
    plan = campaign_service.CampaignPlan(
        title="t",
        summary="s",
        cause="other",
        purpose_md="p",
        start_date=date(2030, 3, 1),
        end_date=date(2030, 6, 30),
        region="广州",
        person_in_charge="张三",
        acceptance_methods="网上",
        receiving_account="账户",
        beneficiaries="b",
        use_of_funds="u",
        fundraising_cost="c",
        leftover_plan="l",
        expected_amount_fen=100,
        filing_number="53440100MJ0000000AA2030",
        filing_date=date(2026, 1, 1),
        project_end_date=date(2030, 6, 1),
    )
    errors, _partner = campaign_service._plan_errors(db_session, org, plan, date(2026, 1, 2), None)
    assert [name for name, _message in errors] == ["project_end_date"]
