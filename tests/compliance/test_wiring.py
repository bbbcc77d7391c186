"""Obligations follow events recorded by other services; triggers; demo; CLI refresh."""

from __future__ import annotations

from datetime import date

import time_machine

from charity.core.events import record_event
from charity.demo.compliance import load_compliance_demo
from charity.extensions import db
from charity.models.disclosure import Disclosure, Obligation
from charity.services import disclosures as service
from charity.services.compliance_triggers import record_compliance_trigger
from tests.support.compliance import (
    ANNUAL_FINANCE,
    cst_noon,
    login,
    make_org,
    make_pdf,
    member,
    statuses,
)


def test_an_organization_event_refreshes_its_obligations(db_session):
    org = make_org()
    assert db.session.query(Obligation).count() == 0
    record_event(db.session, "organization.verified", subject_id=org.id)
    keys = {ob.key for ob in db.session.query(Obligation)}
    assert f"basic_info_registration:{org.id}:org:registration" in keys


def test_a_trigger_starts_a_thirty_day_obligation(app, db_session):
    org = make_org()
    owner = member(org, "owner")
    with time_machine.travel(cst_noon(date(2025, 4, 1)), tick=True):
        trigger = record_compliance_trigger(
            db.session, org.id, "major_transaction", date(2025, 4, 1), "购置办公楼"
        )
        key = f"major_transactions:org:major_transaction-{trigger.id}"
        assert statuses(db.session, org.id, date(2025, 4, 1))[key] == "upcoming"
        fields = {
            "transaction_date": "2025-04-01",
            "counterparty": "某公司",
            "amount_fen": 1,
            "related_party": True,
            "description": "购置",
        }
        service.publish_disclosure(
            db.session,
            owner,
            service.PublishDisclosure(
                org.id,
                "major_transactions",
                "org",
                f"major_transaction-{trigger.id}",
                "重大交易",
                "",
                fields,
            ),
            app.config["UPLOAD_DIR"],
        )
        assert statuses(db.session, org.id, date(2025, 4, 1))[key] == "on_time"


def test_ratio_failure_is_explained_on_the_public_page(en_client, app, db_session):
    org = make_org()
    finance = member(org, "finance")
    version = service.publish_disclosure(
        db.session,
        finance,
        service.PublishDisclosure(
            org.id,
            "annual_financial_report",
            "org",
            "2025",
            "2025年度财务报告",
            "",
            ANNUAL_FINANCE,
            (service.Upload("audit.pdf", make_pdf("audit")),),
        ),
        app.config["UPLOAD_DIR"],
    )
    assert version.ratio_ok is False
    page = en_client.get(f"/disclosures/{version.disclosure_id}").get_data(as_text=True)
    assert "Spending ratios: not met</h2>" in page
    assert "against a required minimum of ¥70,000.00" in page
    assert "limit of 10% of this year" in page


def test_demo_loader_is_idempotent(app, db_session):
    org = make_org()
    member(org, "owner")
    assert load_compliance_demo()
    assert load_compliance_demo() == []
    assert db.session.query(Disclosure).count() == 1


def test_bad_subject_in_the_publish_link_is_a_404_not_a_500(client, db_session):
    org = make_org()
    login(client, member(org, "owner"))
    url = f"/orgs/{org.id}/disclosures/new?type=campaign_result&period=result&subject="
    assert client.get(url + "campaign:abc").status_code == 404
    assert client.get(url + "campaign:" + "9" * 30).status_code == 404
    assert client.get(url + "campaign:999999").status_code == 200  # refused on submit


def test_owner_sees_publish_links_on_the_obligations_page(en_client, db_session):
    org = make_org(registered=date(2025, 1, 10))
    owner = member(org, "owner")
    statuses(db.session, org.id, date(2025, 1, 20))
    assert "Publish</a>" not in en_client.get(f"/orgs/{org.id}/obligations").get_data(as_text=True)
    login(en_client, owner)
    page = en_client.get(f"/orgs/{org.id}/obligations").get_data(as_text=True)
    assert "type=basic_info" in page and "period=registration" in page


def test_the_obligations_partial_can_be_included_with_only_org(app, db_session):
    from flask import render_template_string

    org = make_org(registered=date(2025, 1, 10))
    statuses(db.session, org.id, date(2025, 3, 1))
    with app.test_request_context("/?lang=en"):
        html = render_template_string('{% include "disclosures/_obligations.html" %}', org=org)
    assert "badge-overdue" in html and "Basic information" in html


def test_a_published_campaign_gets_its_obligations(db_session):
    from tests.support.compliance import make_campaign

    org = make_org()
    campaign = make_campaign(org, date(2025, 3, 1), date(2025, 10, 15))
    record_event(db.session, "campaign.published", subject_id=campaign.id)
    keys = {ob.key for ob in db.session.query(Obligation).filter_by(campaign_id=campaign.id)}
    subject = f"{org.id}:campaign:{campaign.id}"
    assert f"campaign_result:{subject}:result" in keys
    assert f"campaign_progress:{subject}:2025-06-01" in keys
