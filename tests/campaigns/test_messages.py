"""Donor messages (留言) on the donor wall: reported by visitors, hidden by the campaign's
organization with a reason that the page and the public log show (issue 17 point 9)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from charity.models import AuditEntry, Donation
from charity.services import gift_messages
from tests.support.campaigns import sign_in
from tests.support.factories import CampaignFactory, GiftFactory, MembershipFactory


@pytest.fixture
def campaign(db_session, today):  # type: ignore[no-untyped-def]
    return CampaignFactory(
        start_date=today - timedelta(days=3), end_date=today + timedelta(days=20)
    )


def _wall(client, campaign) -> str:  # type: ignore[no-untyped-def]
    response = client.get(f"/campaigns/{campaign.id}?lang=zh_Hans_CN")
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.mark.parametrize(
    "text",
    [
        "加油！详情见 www.example.com",
        "看这里 http://spam.example/x",
        "买药请访问 cheap-pills.cn",
        "联系我 13800138000",
        "电话 138 0013 8000",
        "电话 １３８００１３８０００",  # full-width digits
        "邮件 someone@example.org",
        "加我微信：abc12345",
        "x" * 201,
    ],
)
def test_contact_spam_and_long_messages_are_refused(text):
    with pytest.raises(gift_messages.MessageError) as caught:
        gift_messages.clean_message(text)
    assert caught.value.field == "message"


@pytest.mark.parametrize(
    "text", ["加油！", "祝小朋友们 2026 年新年快乐", "捐 100 元，一点心意", ""]
)
def test_ordinary_messages_pass(text):
    assert gift_messages.clean_message(f"  {text}  ") == text


def test_visitor_reports_owner_hides_with_a_reason(client, db_session, campaign, login):
    gift = GiftFactory(campaign=campaign, message="<b>广告</b> 便宜的东西", consent_show_name=True)
    other = GiftFactory(campaign=campaign, message="加油！")
    page = _wall(client, campaign)
    assert "&lt;b&gt;广告&lt;/b&gt;" in page and "<b>广告</b>" not in page  # escaped
    assert f"/gifts/{gift.id}/message/report" in page

    # an anonymous visitor: the report page, then the report (once per session)
    assert "举报这条留言" in client.get(f"/gifts/{gift.id}/message/report?lang=zh_Hans_CN").text
    assert client.post(f"/gifts/{gift.id}/message/report").status_code == 302
    assert client.post(f"/gifts/{gift.id}/message/report").status_code == 302
    db_session.refresh(gift)
    assert gift.message_reports == 1 and gift.message_reported_at is not None

    editor = MembershipFactory(organization=campaign.organization, role="editor").user
    login(editor)
    queue = client.get(f"/orgs/{campaign.organization_id}/messages?lang=zh_Hans_CN").text
    assert queue.index("便宜的东西") < queue.index("加油！")  # the reported one first
    assert "被举报 1 次" in queue

    # no reason: refused, nothing changed
    refused = client.post(
        f"/orgs/{campaign.organization_id}/messages/{gift.id}/hide", data={"reason": " "}
    )
    assert refused.status_code == 303
    db_session.refresh(gift)
    assert gift.message_hidden_at is None

    answer = client.post(
        f"/orgs/{campaign.organization_id}/messages/{gift.id}/hide",
        data={"reason": "商业广告"},
    )
    assert answer.status_code == 303
    db_session.refresh(gift)
    assert gift.message_hidden_at is not None and gift.message_hidden_by_id == editor.id
    entry = db_session.scalars(
        sa.select(AuditEntry).where(AuditEntry.event_type == "donation.message_hidden")
    ).one()
    assert entry.subject_id == gift.id
    assert "便宜" not in str(entry.payload) and "商业广告" in str(entry.payload)
    assert gift.donor_name not in str(entry.payload)

    login(None)
    page = _wall(client, campaign)
    assert "便宜的东西" not in page
    assert "机构隐藏了这条留言。原因：商业广告" in page
    assert "加油！" in page and f"/gifts/{other.id}/message/report" in page
    # a hidden message cannot be reported again, nor hidden twice
    client.post(f"/gifts/{gift.id}/message/report")
    db_session.refresh(gift)
    assert gift.message_reports == 1
    with pytest.raises(gift_messages.MessageError):
        gift_messages.hide_message(db_session, editor, gift.id, "再次")


def test_only_the_gifts_organization_hides(client, db_session, campaign, login):
    gift = GiftFactory(campaign=campaign, message="加油！")
    outsider = MembershipFactory(role="owner").user  # owner of another organization
    finance = MembershipFactory(organization=campaign.organization, role="finance").user
    for user in (outsider, finance):
        with pytest.raises(PermissionError):
            gift_messages.hide_message(db_session, user, gift.id, "理由")
    sign_in(client, outsider)
    answer = client.post(
        f"/orgs/{outsider.active_memberships[0].organization_id}/messages/{gift.id}/hide",
        data={"reason": "理由"},
    )
    assert answer.status_code == 404  # not a gift of the outsider's organization
    assert db_session.get(Donation, gift.id).message_hidden_at is None


def test_unpaid_gifts_messages_are_neither_shown_nor_reportable(client, db_session, campaign):
    pending = GiftFactory(campaign=campaign, message="还没付款", status="pending")
    assert "还没付款" not in client.get(f"/gifts/{pending.id}/message/report").text
    client.post(f"/gifts/{pending.id}/message/report")
    db_session.refresh(pending)
    assert pending.message_reports == 0
