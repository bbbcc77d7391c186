"""Enforcement in the public API (issue 16 points 8 and 15): a campaign's suspension, an
organization's lost qualification (CL art. 22, MCA Order 74) and the counts of complaints
received and handled (CL (2023) art. 108). The complainant, the text, the category, the
evidence and the reply never appear; nor does the person who suspended."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from charity.core.clock import today_cst
from charity.extensions import db
from charity.services import complaints, suspensions
from charity.services.organizations import record_qualification_loss
from tests.support.factories import UserFactory

SECRET_WORDS = ("王小明", "wang.complainant@example.org", "13812345678", "他们挪用了善款")


def _complain(org, **extra):  # type: ignore[no-untyped-def]
    command = complaints.NewComplaint(
        organization_id=org.id, category="misuse_of_funds", body=SECRET_WORDS[3], **extra
    )
    complaint, _code = complaints.submit_complaint(db.session, command, "/nonexistent")
    return complaint


def test_organization_carries_suspensions_qualification_loss_and_complaint_counts(
    client, public_data, app
):
    org, campaign = public_data.qualified, public_data.campaign
    regulator = UserFactory(platform_role="regulator", name="李监管", email="li.reg@example.org")
    suspensions.suspend_campaign(db.session, regulator, campaign, "涉嫌虚构事实，调查期间暂停")
    _complain(org, is_anonymous=True)
    named = _complain(
        org, is_anonymous=False, name=SECRET_WORDS[0], email=SECRET_WORDS[1], phone=SECRET_WORDS[2]
    )
    now = datetime.now(UTC)
    complaints.reply_to_complaint(db.session, regulator, named, "已调查，情况属实", now)
    _complain(public_data.plain, is_anonymous=True)
    db.session.commit()

    body = client.get(f"/api/v1/organizations/{org.id}").get_json()
    assert body["complaints"] == {"received": 2, "handled": 1}
    [suspended] = body["suspended_campaigns"]
    assert suspended == {
        "campaign_id": campaign.id,
        "since": today_cst().isoformat(),
        "reason": "涉嫌虚构事实，调查期间暂停",
        "source": "regulator",
    }
    assert body["qualification_loss"] is None
    text = json.dumps(body, ensure_ascii=False)
    for word in (*SECRET_WORDS, "已调查", "misuse_of_funds", "李监管", "li.reg@"):
        assert word not in text

    campaign_body = client.get(f"/api/v1/campaigns/{campaign.id}").get_json()
    assert campaign_body["suspension"]["source"] == "regulator"
    assert campaign_body["suspension"]["reason"] == "涉嫌虚构事实，调查期间暂停"
    listed = client.get("/api/v1/organizations?limit=100").get_json()["items"]
    plain = next(item for item in listed if item["id"] == public_data.plain.id)
    assert plain["complaints"] == {"received": 1, "handled": 0}
    assert plain["suspended_campaigns"] == []

    # Lifted: no longer shown (the public log keeps the history).
    suspensions.lift_suspension(db.session, regulator, campaign, "已整改")
    db.session.commit()
    assert client.get(f"/api/v1/campaigns/{campaign.id}").get_json()["suspension"] is None
    assert client.get(f"/api/v1/organizations/{org.id}").get_json()["suspended_campaigns"] == []


def test_platform_suspension_and_lost_qualification(client, public_data):
    org, campaign = public_data.qualified, public_data.campaign
    admin = UserFactory(platform_role="admin")
    suspensions.suspend_campaign(db.session, admin, campaign, "平台核查中")
    lost_on = today_cst() - timedelta(days=1)
    record_qualification_loss(
        db.session, admin, org, lost_on, "公开募捐资格被依法撤销", "广东省民政厅 粤民函〔2026〕12号"
    )
    db.session.commit()
    body = client.get(f"/api/v1/organizations/{org.id}").get_json()
    assert body["qualified"] is False
    assert body["qualification_loss"] == {
        "date": lost_on.isoformat(),
        "reason": "公开募捐资格被依法撤销",
        "source": "广东省民政厅 粤民函〔2026〕12号",
    }
    assert body["suspended_campaigns"][0]["source"] == "platform"
    assert client.get(f"/api/v1/campaigns/{campaign.id}").get_json()["suspension"]["source"] == (
        "platform"
    )


def test_openapi_documents_the_enforcement_fields(client):
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    organization = schemas["Organization"]["properties"]
    assert {"qualification_loss", "suspended_campaigns", "complaints"} <= set(organization)
    assert "art. 108" in organization["complaints"]["description"]
    assert "suspension" in schemas["Campaign"]["properties"]


def test_counts_cost_one_query_per_page_whatever_its_length(client, public_data, app):
    from sqlalchemy import event

    for _ in range(3):
        _complain(public_data.qualified, is_anonymous=True)
    db.session.commit()
    statements: list[str] = []

    def count(*args):  # type: ignore[no-untyped-def]
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        client.get("/api/v1/organizations?limit=100")
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert sum("complaints" in s for s in statements) == 1
    assert sum("campaign_suspensions" in s for s in statements) == 1


def test_date_is_the_beijing_day(client, public_data):
    # Suspended at 17:30 UTC = 01:30 the next day in Beijing: "since" is the CST day.
    regulator = UserFactory(platform_role="regulator")
    at = datetime(2026, 5, 3, 17, 30, tzinfo=UTC)
    suspensions.suspend_campaign(db.session, regulator, public_data.campaign, "x", now=at)
    db.session.commit()
    body = client.get(f"/api/v1/campaigns/{public_data.campaign.id}").get_json()
    assert body["suspension"]["since"] == date(2026, 5, 4).isoformat()
