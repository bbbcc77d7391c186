"""Issue 16 point 15 (enforcement): an organization whose obligations have been overdue
longer than a configurable time (OVERDUE_FILING_BLOCK_DAYS, default 180 days, as 广益联募
stops projects after 180 days without an update) cannot file new campaigns until it
catches up. Walked with time travel."""

from __future__ import annotations

from datetime import date

import time_machine

from charity.core.clock import today_cst
from charity.extensions import db
from charity.services import campaigns as campaign_service
from charity.services import disclosures as service
from tests.support.compliance import cst_noon, login, make_org, member, statuses


def test_long_overdue_obligations_block_new_campaigns_until_published(app, en_client, db_session):
    org = make_org(registered=date(2025, 1, 10))  # basic information due 2025-02-10
    owner = member(org, "owner")
    with time_machine.travel(cst_noon(date(2025, 8, 9)), tick=False):  # 180 days overdue
        statuses(db_session, org.id, today_cst())
        assert campaign_service.filing_refusal(org) is None
    with time_machine.travel(cst_noon(date(2025, 8, 10)), tick=False):  # 181 days
        statuses(db_session, org.id, today_cst())
        refusal = campaign_service.filing_refusal(org)
        assert refusal is not None and "2025-02-10" in str(refusal)
        login(en_client, owner)
        page = en_client.get(f"/orgs/{org.id}/campaigns/new")
        assert "2025-02-10" in page.get_data(as_text=True)
        assert en_client.post(f"/orgs/{org.id}/campaigns/new", data={}).status_code == 403
        # Catching up (a late publication) lifts the block.
        fields = {
            "charter_summary": "章程",
            "board": "理事会",
            "supervisors": "监事",
            "contacts": "020-83331234",
        }
        command = service.PublishDisclosure(
            org.id, "basic_info", "org", "registration", "基本信息", "", fields
        )
        service.publish_disclosure(db.session, owner, command, app.config["UPLOAD_DIR"])
        assert campaign_service.filing_refusal(org) is None


def test_the_block_is_configurable(app, db_session):
    org = make_org(registered=date(2025, 1, 10))
    with time_machine.travel(cst_noon(date(2025, 3, 15)), tick=False):
        statuses(db_session, org.id, today_cst())
        assert campaign_service.filing_refusal(org) is None
        app.config["OVERDUE_FILING_BLOCK_DAYS"] = 30
        try:
            assert campaign_service.filing_refusal(org) is not None
            app.config["OVERDUE_FILING_BLOCK_DAYS"] = 0  # off
            assert campaign_service.filing_refusal(org) is None
        finally:
            app.config["OVERDUE_FILING_BLOCK_DAYS"] = 180
