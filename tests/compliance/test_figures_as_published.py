"""Campaign figures in disclosures against the books (issue 16 points 3 and 4).

Charity Law (2023) art. 79 and MCA Order 81 require progress and result reports to state
the money raised *and its use*: drafts and the comparison with the books therefore include
the money actually spent (executed disbursements, posted to the campaign's spending
account), and a report is judged against what the books said when it was published, never
against gifts or refunds that came after it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import time_machine

from charity.compliance.readmodels import dashboard
from charity.extensions import db
from charity.services import disclosures as service
from tests.support.compliance import (
    cst_noon,
    make_campaign,
    make_org,
    owner_of,
    spend_from_campaign,
)
from tests.support.factories import RefundFactory
from tests.support.funds import gift


def _at(day: date, hour: int = 12):  # type: ignore[no-untyped-def]
    return time_machine.travel(datetime(day.year, day.month, day.day, hour, tzinfo=UTC), tick=False)


def _publish(app, org, kind, period, campaign, **fields):  # type: ignore[no-untyped-def]
    owner = owner_of(org)
    command = service.PublishDisclosure(
        org.id, kind, f"campaign:{campaign.id}", period, f"{kind} {period}", "", fields
    )
    return service.publish_disclosure(db.session, owner, command, app.config["UPLOAD_DIR"])


def test_spending_is_in_drafts_and_compared_with_the_books(app, db_session):
    """CL 79 / Order 81: the result draft carries the money spent; a report that says
    nothing was spent differs from the books and the regulator sees it."""
    org = make_org()
    campaign = make_campaign(org, date(2026, 3, 1), date(2026, 3, 20))
    with _at(date(2026, 3, 2)):
        gift(campaign, 100_000, datetime(2026, 3, 2, 4, tzinfo=UTC))
    with _at(date(2026, 3, 10)):
        spend_from_campaign(app, org, campaign, 30_000)
    with _at(date(2026, 4, 1)):
        draft = service.draft_fields(db.session, "campaign_result", campaign.id, "result")
        assert (draft["raised_fen"], draft["spent_fen"], draft["balance_fen"]) == (
            100_000,
            30_000,
            70_000,
        )
        honest = _publish(
            app, org, "campaign_result", "result", campaign, implementation="完成", **draft
        )
        assert service.compare_figures(db.session, honest) == []
    other = make_campaign(org, date(2026, 3, 1), date(2026, 3, 20))
    with _at(date(2026, 3, 3)):
        gift(other, 50_000, datetime(2026, 3, 3, 4, tzinfo=UTC))
    with _at(date(2026, 3, 11)):
        spend_from_campaign(app, org, other, 20_000)
    with _at(date(2026, 4, 2)):
        draft = service.draft_fields(db.session, "campaign_result", other.id, "result")
        silent = _publish(
            app,
            org,
            "campaign_result",
            "result",
            other,
            implementation="完成",
            **{**draft, "spent_fen": 0, "balance_fen": 50_000},
        )
        assert [
            (d.name, d.reported_fen, d.computed_fen)
            for d in service.compare_figures(db.session, silent)
        ] == [("spent_fen", 0, 20_000)]
        rows = dashboard.mismatch_rows(db.session, None, 100)
        assert [(r[0], r[6], r[7], r[8], r[9]) for r in rows] == [
            (silent.disclosure_id, "spent_fen", 0, 20_000, -20_000)
        ]


def test_an_honest_report_published_early_is_not_a_mismatch(app, db_session):
    """A progress report due on June 1 published on May 20 with the figures of May 20:
    gifts of May 25 and a refund after publication make no difference."""
    org = make_org()
    campaign = make_campaign(org, date(2026, 3, 1), date(2026, 12, 31))
    first = gift(campaign, 10_000, cst_noon(date(2026, 4, 1)))
    with _at(date(2026, 5, 20)):
        draft = service.draft_fields(db.session, "campaign_progress", campaign.id, "2026-06-01")
        assert draft["raised_fen"] == 10_000
        report = _publish(app, org, "campaign_progress", "2026-06-01", campaign, **draft)
    gift(campaign, 5_000, cst_noon(date(2026, 5, 25)))
    with _at(date(2026, 6, 10)):
        # A refund recorded after the publication (as the refund service records it).
        RefundFactory(donation=first, amount_fen=2_000, reason="捐赠人要求")
        first.refunded_fen = 2_000
        first.status = "partially_refunded"
        db.session.flush()
        assert service.compare_figures(db.session, report) == []
        assert dashboard.mismatch_rows(db.session, None, 100) == []


def test_a_report_published_after_its_period_is_judged_at_the_period_end(app, db_session):
    org = make_org()
    campaign = make_campaign(org, date(2026, 3, 1), date(2026, 12, 31))
    gift(campaign, 10_000, cst_noon(date(2026, 4, 1)))
    gift(campaign, 5_000, cst_noon(date(2026, 6, 5)))  # after the period
    with _at(date(2026, 6, 10)):
        draft = service.draft_fields(db.session, "campaign_progress", campaign.id, "2026-06-01")
        assert draft["raised_fen"] == 10_000
        report = _publish(
            app, org, "campaign_progress", "2026-06-01", campaign, **{**draft, "raised_fen": 15_000}
        )
        diffs = service.compare_figures(db.session, report)
        assert [(d.name, d.difference_fen) for d in diffs] == [("raised_fen", 5_000)]
        assert [r[6] for r in dashboard.mismatch_rows(db.session, None, 100)] == ["raised_fen"]
