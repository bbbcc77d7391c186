"""Charity Law (2023) art. 79: fundraising that lasts over 6 months publishes its progress
at least every 3 months, and closing the campaign early never erases a report that had
already fallen due (issue 16, point 1)."""

from __future__ import annotations

from datetime import date

import time_machine

from charity.compliance.rules.deadlines import CampaignFacts, OrgFacts, derive
from charity.core.clock import today_cst
from tests.support.compliance import cst_noon, make_campaign, member, short_key, statuses
from tests.support.factories import log_in


def _progress(campaign: CampaignFacts) -> dict[str, date]:
    found = derive([OrgFacts(1, date(2025, 1, 10))], [campaign], [], {}, {}, date(2026, 6, 1))
    return {
        short_key(d.key).rsplit(":", 1)[1]: d.due_date
        for d in found
        if d.rule_code == "campaign_progress"
    }


def test_cl79_a_year_long_campaign_owes_progress_every_three_months():
    year = CampaignFacts(1, 1, None, date(2025, 3, 1), date(2026, 2, 28), False, date(2025, 2, 1))
    assert list(_progress(year).values()) == [
        date(2025, 6, 3),  # June 1 is a Sunday, June 2 the Dragon Boat holiday (CC art. 203)
        date(2025, 9, 1),
        date(2025, 12, 1),
    ]


def test_cl79_closing_early_keeps_the_reports_that_had_fallen_due():
    # Filed for a year, closed after four months: the June report had fallen due (and
    # stays owed), the September and December ones never arise.
    closed = CampaignFacts(
        1, 1, None, date(2025, 3, 1), date(2026, 2, 28), False, date(2025, 2, 1), date(2025, 7, 5)
    )
    assert _progress(closed) == {"2025-06-01": date(2025, 6, 3)}
    # Closed on the very day a report falls due: that report is owed too.
    on_the_day = CampaignFacts(
        1, 1, None, date(2025, 3, 1), date(2026, 2, 28), False, date(2025, 2, 1), date(2025, 9, 1)
    )
    assert list(_progress(on_the_day)) == ["2025-06-01", "2025-09-01"]
    # Closed before the first report fell due: nothing owed.
    early = CampaignFacts(
        1, 1, None, date(2025, 3, 1), date(2026, 2, 28), False, date(2025, 2, 1), date(2025, 5, 31)
    )
    assert _progress(early) == {}


def test_cl79_a_progress_report_overdue_when_the_owner_closes_stays_overdue(
    client, db_session, org
):
    """Walked with time travel: the owner closes a year-long campaign through the page
    after its first progress report was due; the report stays on the overdue list."""
    owner = member(org, "owner")
    with time_machine.travel(cst_noon(date(2025, 2, 1)), tick=False):
        campaign = make_campaign(org, date(2025, 3, 1), date(2026, 2, 28))
    key = f"campaign_progress:campaign:{campaign.id}:2025-06-01"
    with time_machine.travel(cst_noon(date(2025, 6, 20)), tick=False):
        assert statuses(db_session, org.id, today_cst())[key] == "overdue"
        log_in(client, owner)
        assert client.post(f"/campaigns/{campaign.id}/close").status_code == 303
        db_session.refresh(campaign)
        assert campaign.status == "closed"
    with time_machine.travel(cst_noon(date(2025, 7, 1)), tick=False):
        found = statuses(db_session, org.id, today_cst())
        assert found[key] == "overdue"
        assert f"campaign_progress:campaign:{campaign.id}:2025-09-01" not in found
        assert found[f"campaign_result:campaign:{campaign.id}:result"] == "upcoming"
