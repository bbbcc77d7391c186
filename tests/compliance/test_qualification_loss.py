"""Charity Law (2023) art. 22 and MCA Order 74 (issue 16 point 8): the loss of the
public fundraising qualification is recorded with its date, reason and source; from that
day running campaigns take no gifts, online or offline, and their pages say why; the
ratio rules (CL art. 61, 民发〔2016〕189号) judge each year by the qualification held
during that year."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from charity.core.clock import today_cst
from charity.extensions import db
from charity.models import Organization
from charity.services import disclosures as disclosure_service
from charity.services import donations, offline
from charity.services import organizations as org_service
from tests.support.compliance import cst_noon, login, make_campaign, make_org, make_pdf, member
from tests.support.factories import UserFactory

LOSS = {
    "lost_on": "2026-07-01",
    "reason": "连续两年未按规定公开信息",
    "source": "广东省民政厅 粤民函〔2026〕88号",
}


def _gift(campaign) -> donations.NewDonation:  # type: ignore[no-untyped-def]
    return donations.NewDonation(
        campaign_id=campaign.id, amount_fen=10_000, donor_name="王", donor_email="w@example.org",
        is_anonymous=False, consent_show_name=False, message="", receipt_wanted=False,
        max_amount_fen=10_000_000,
    )  # fmt: skip


def _offline(campaign, day: date) -> offline.NewOfflineGift:  # type: ignore[no-untyped-def]
    return offline.NewOfflineGift(
        organization_id=campaign.organization_id, campaign_id=campaign.id,
        kind="bank_transfer", amount_fen=5_000, received_on=day, evidence=make_pdf("slip"),
        payer_name="李", bank_reference=f"REF-{day.isoformat()}",
    )  # fmt: skip


def test_cl22_qualified_during_a_year_judges_that_year():
    o = Organization(
        qualification_number="粤民募字〔2024〕001号", qualification_date=date(2024, 3, 1)
    )
    o.qualification_lost_on = date(2026, 7, 1)
    assert o.qualified_during(2024) and o.qualified_during(2026)
    assert not o.qualified_during(2023)  # not yet certified
    assert not o.qualified_during(2027)  # lost during 2026
    assert o.qualified_on(date(2026, 6, 30)) and not o.qualified_on(date(2026, 7, 1))


def test_cl22_regulator_records_the_loss_and_gifts_stop_online_and_offline(
    app, en_client, db_session, recorded_events
):
    org = make_org(province="广东省")
    finance = member(org, "finance")
    org.stripe_account_id = "acct_qualloss"
    campaign = make_campaign(org, date(2026, 3, 1), date(2026, 12, 31))
    regulator = UserFactory(platform_role="regulator")
    with time_machine.travel(cst_noon(date(2026, 6, 30)), tick=False):
        donations.create_donation(db.session, None, _gift(campaign))  # still qualified
    with time_machine.travel(cst_noon(date(2026, 7, 2)), tick=False):
        login(en_client, regulator)
        page = en_client.get(f"/regulator/orgs/{org.id}").get_data(as_text=True)
        assert 'name="lost_on"' in page
        response = en_client.post(f"/regulator/orgs/{org.id}/qualification-loss", data=LOSS)
        assert response.status_code == 302
        db_session.refresh(org)
        assert org.qualification_lost_on == date(2026, 7, 1)
        assert not org.has_qualification
        [event] = [e for e in recorded_events if e.type == "organization.qualification_lost"]
        assert event.data["lost_on"] == "2026-07-01"
        assert event.data["source"] == LOSS["source"]
        # Online: refused, the reason names the law.
        with pytest.raises(donations.DonationError, match="2026-07-01"):
            donations.create_donation(db.session, None, _gift(campaign))
        # Offline: a gift received before the loss can still be recorded, not one after.
        offline.record_offline_gift(
            db.session, finance, _offline(campaign, date(2026, 6, 29)), app.config["UPLOAD_DIR"]
        )
        with pytest.raises(offline.OfflineGiftError) as caught:
            offline.record_offline_gift(
                db.session, finance, _offline(campaign, date(2026, 7, 1)), app.config["UPLOAD_DIR"]
            )
        assert caught.value.field == "campaign_id"
        # The page says why and offers no Donate button.
        page = en_client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
        assert "campaign-gifts-stopped" in page and "2026-07-01" in page
        assert "campaign-donate" not in page
        # The organization can file no new campaign.
        assert not org.has_qualification


def test_cl22_bad_loss_records_are_refused_and_only_regulators_record(en_client, db_session):
    org = make_org(province="广东省")
    with time_machine.travel(cst_noon(date(2026, 7, 2)), tick=False):
        login(en_client, UserFactory(platform_role="regulator"))
        for data, field in (
            ({**LOSS, "lost_on": "2026-07-03"}, "lost_on"),
            ({**LOSS, "lost_on": "2020-01-01"}, "lost_on"),
            ({**LOSS, "reason": ""}, "reason"),
            ({**LOSS, "source": "x" * 301}, "source"),
        ):
            response = en_client.post(f"/regulator/orgs/{org.id}/qualification-loss", data=data)
            assert response.status_code == 400, data
            assert f'id="{field}-error"' in response.get_data(as_text=True)
        db_session.refresh(org)
        assert org.qualification_lost_on is None
        # Another province's regulator does not see the organization.
        login(en_client, UserFactory(platform_role="regulator", regulator_province="湖南省"))
        response = en_client.post(f"/regulator/orgs/{org.id}/qualification-loss", data=LOSS)
        assert response.status_code == 404
        # An organization's owner cannot record it.
        login(en_client, member(org, "owner"))
        response = en_client.post(f"/regulator/orgs/{org.id}/qualification-loss", data=LOSS)
        assert response.status_code == 403
        db_session.refresh(org)
        assert org.qualification_lost_on is None


FINANCIAL = {
    "total_income_fen": 100_000_00, "last_year_income_fen": 100_000_00,
    "charitable_spending_fen": 60_000_00, "management_costs_fen": 5_000_00,
    "fundraising_costs_fen": 0, "total_spending_fen": 65_000_00,
    "net_assets_fen": 10_000_00, "prior_net_assets_fen": 10_000_00, "auditor": "某会计师事务所",
}  # fmt: skip


def test_cl61_ratios_judge_each_year_by_the_qualification_held_during_it(app, db_session):
    """60% charitable spending: a shortfall for a qualified foundation (≥ 70% of last
    year's income), fine for one without the qualification. Lost on 2026-07-01: the
    2026 report is judged as qualified, the 2027 one as not."""
    org = make_org(registered=date(2024, 1, 10))
    owner = member(org, "owner")
    with time_machine.travel(cst_noon(date(2026, 7, 2)), tick=False):
        org_service.record_qualification_loss(
            db_session, UserFactory(platform_role="admin"), org, date(2026, 7, 1), "撤销", "决定书"
        )
    assert org.org_type == "foundation"
    with time_machine.travel(cst_noon(date(2028, 3, 1)), tick=False):
        for year in ("2026", "2027"):
            command = disclosure_service.PublishDisclosure(
                org.id, "annual_financial_report", "org", year, f"财务 {year}", "", FINANCIAL,
                (disclosure_service.Upload("audit.pdf", make_pdf("audit")),),
            )  # fmt: skip
            version = disclosure_service.publish_disclosure(
                db_session, owner, command, app.config["UPLOAD_DIR"]
            )
            fields = disclosure_service.version_fields(version)
            assert fields["_qualified"] is (year == "2026"), year
        assert today_cst() == date(2028, 3, 1)
