"""Civil Code arts. 201–203 (issue 16 point 11): a period counted forward from an event
whose last day is a statutory rest day (a public holiday of the State Council's notice,
or a weekend not swapped into a working day) ends on the first working day after it.
Fixed dates (annual reports by May 31) and the filing lead counted backwards from a
campaign's start do not move. The calendar is the ``chinese-calendar`` package."""

from __future__ import annotations

from datetime import date

import time_machine

from charity.compliance.rules.dates import is_rest_day, period_end
from charity.compliance.rules.deadlines import CampaignFacts, OrgFacts, derive
from charity.core.clock import today_cst
from tests.support.compliance import cst_noon, make_campaign, make_org, short_key, statuses


def test_cc203_national_day_and_spring_festival_move_the_last_day():
    # 国庆节 2025: October 1–8 off; the period ends on Thursday October 9.
    assert period_end(date(2025, 10, 1)) == date(2025, 10, 9)
    assert period_end(date(2025, 10, 8)) == date(2025, 10, 9)
    # 春节 2026: February 15–23 off; the period ends on Tuesday February 24.
    assert period_end(date(2026, 2, 17)) == date(2026, 2, 24)
    # Swapped working days (调休) are working days: nothing moves.
    assert period_end(date(2025, 9, 28)) == date(2025, 9, 28)  # a Sunday worked
    assert period_end(date(2026, 2, 14)) == date(2026, 2, 14)  # a Saturday worked
    # An ordinary weekend moves to Monday; a working day stays.
    assert period_end(date(2025, 3, 15)) == date(2025, 3, 17)
    assert period_end(date(2025, 3, 14)) == date(2025, 3, 14)
    # A year the State Council has not announced yet: weekends only.
    assert is_rest_day(date(2030, 6, 1)) and not is_rest_day(date(2030, 6, 3))


def _due(campaign: CampaignFacts, today: date) -> dict[str, date]:
    found = derive([OrgFacts(1, date(2024, 1, 10))], [campaign], [], {}, {}, today)
    return {short_key(d.key): d.due_date for d in found}


def test_cc203_a_result_report_due_in_the_spring_festival_is_due_after_it():
    # Fundraising ends 2025-11-17; "within 3 months" ends 2026-02-17 (春节).
    campaign = CampaignFacts(
        4, 1, None, date(2025, 9, 1), date(2025, 11, 17), False, date(2025, 8, 1)
    )
    due = _due(campaign, date(2026, 3, 1))
    assert due["campaign_result:campaign:4:result"] == date(2026, 2, 24)


def test_cc203_fixed_dates_and_the_filing_lead_do_not_move():
    due = {
        short_key(d.key): d.due_date
        for d in derive([OrgFacts(1, date(2024, 1, 10))], [], [], {}, {}, date(2026, 1, 2))
    }
    assert due["annual_work_report:org:2025"] == date(2026, 5, 31)  # a Sunday, not moved
    # The plan is filed at least 10 days before the start, whatever the calendar.
    campaign = CampaignFacts(
        4, 1, None, date(2025, 10, 11), date(2025, 11, 17), False, date(2025, 9, 1)
    )
    assert _due(campaign, date(2026, 3, 1))["campaign_filing:campaign:4:filing"] == date(
        2025, 10, 1
    )


def test_cc203_walk_a_national_day_deadline(db_session):
    """Walked with time travel: the result report of a campaign that ended 2025-07-01 is
    due 2025-10-01 (国庆节); it is still due on October 9 and overdue on October 10."""
    org = make_org(registered=date(2025, 1, 10))
    campaign = make_campaign(org, date(2025, 3, 1), date(2025, 7, 1))
    key = f"campaign_result:campaign:{campaign.id}:result"
    with time_machine.travel(cst_noon(date(2025, 10, 2)), tick=False):
        assert statuses(db_session, org.id, today_cst())[key] == "due_soon"
    with time_machine.travel(cst_noon(date(2025, 10, 9)), tick=False):
        assert statuses(db_session, org.id, today_cst())[key] == "due_soon"
    with time_machine.travel(cst_noon(date(2025, 10, 10)), tick=False):
        assert statuses(db_session, org.id, today_cst())[key] == "overdue"
