"""Confirm before the irreversible (issue 17 point 4): publishing a campaign and cancelling
a monthly gift ask once more on a page that says what happens; publishing a disclosure whose
figures disagree with the books shows the comparison first and needs an explicit tick."""

from __future__ import annotations

from datetime import date

import pytest

from charity.extensions import db
from charity.models.disclosure import Disclosure
from charity.services import ledger
from tests.support.campaigns import DraftCampaignFactory, sign_in
from tests.support.compliance import cst_noon, make_campaign, make_org, member
from tests.support.factories import (
    GiftFactory,
    MembershipFactory,
    QualifiedOrganizationFactory,
    UserFactory,
)


@pytest.fixture
def owner_and_draft(db_session):  # type: ignore[no-untyped-def]
    org = QualifiedOrganizationFactory()
    owner = MembershipFactory(organization=org, role="owner", user=UserFactory()).user
    return owner, DraftCampaignFactory(organization=org, title="待发布的活动")


def test_the_publish_button_leads_to_a_confirmation(client, owner_and_draft):
    owner, draft = owner_and_draft
    sign_in(client, owner)
    page = client.get(f"/campaigns/{draft.id}/publish")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Publishing cannot be undone" in html
    assert 'name="confirmed" value="yes"' in html and draft.filing_number in html
    db_session = db.session
    db_session.refresh(draft)
    assert draft.status == "draft"


def test_publishing_without_the_confirmation_changes_nothing(client, owner_and_draft):
    owner, draft = owner_and_draft
    sign_in(client, owner)
    response = client.post(f"/campaigns/{draft.id}/publish")
    assert response.status_code == 200 and "Publishing cannot be undone" in response.text
    db.session.refresh(draft)
    assert draft.status == "draft"
    confirmed = client.post(f"/campaigns/{draft.id}/publish", data={"confirmed": "yes"})
    assert confirmed.status_code == 303
    db.session.refresh(draft)
    assert draft.status == "published"


def test_an_editor_does_not_see_the_confirmation(client, owner_and_draft):
    _owner, draft = owner_and_draft
    editor = MembershipFactory(organization=draft.organization, role="editor").user
    sign_in(client, editor)
    assert client.get(f"/campaigns/{draft.id}/publish").status_code == 403


@pytest.mark.chinese
def test_the_monthly_cancel_asks_first_with_a_secondary_button(client, db_session):
    from tests.support.factories import RecurringGiftFactory

    gift = RecurringGiftFactory()
    show = client.get(f"/monthly/{gift.public_token}").get_data(as_text=True)
    assert "button-secondary" not in show  # the style that never existed
    assert f'class="button secondary" href="/monthly/{gift.public_token}/cancel"' in show
    page = client.get(f"/monthly/{gift.public_token}/cancel").get_data(as_text=True)
    assert "确认取消月捐？" in page and "保留月捐" in page
    assert '<button type="submit" class="button secondary">确认取消</button>' in page
    unconfirmed = client.post(f"/monthly/{gift.public_token}/cancel")
    assert unconfirmed.status_code == 200
    db_session.refresh(gift)
    assert gift.status == "active"


def _campaign_with_a_gift(owner_role: str = "owner"):  # type: ignore[no-untyped-def]
    org = make_org()
    owner = member(org, owner_role)
    campaign = make_campaign(org, date(2025, 1, 1), date(2025, 3, 31))
    gift = GiftFactory(
        campaign=campaign,
        amount_fen=64_000,
        status="succeeded",
        succeeded_at=cst_noon(date(2025, 2, 1)),
    )
    ledger.post_donation(db.session, gift)
    return org, owner, campaign


def _result_form(campaign, raised: str, **extra: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {
        "type": "campaign_result",
        "subject": f"campaign:{campaign.id}",
        "period": "result",
        "title": "募捐结果",
        "raised_fen": raised,
        "refunded_fen": "0",
        "gift_count": "1",
        "in_kind_fen": "0",
        "spent_fen": "0",
        "balance_fen": raised,
        "implementation": "已完成",
        **extra,
    }


def _post(client, org, data):  # type: ignore[no-untyped-def]
    return client.post(
        f"/orgs/{org.id}/disclosures/new", data=data, content_type="multipart/form-data"
    )


@pytest.mark.chinese
def test_a_disagreeing_disclosure_is_shown_and_not_published(client, db_session):
    org, owner, campaign = _campaign_with_a_gift()
    sign_in(client, owner)
    response = _post(client, org, _result_form(campaign, "50000"))
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "这些数字与平台记录不一致" in html
    assert "¥50,000.00" in html and "¥640.00" in html  # reported against recorded
    assert 'name="confirm_differences"' in html
    assert db_session.query(Disclosure).count() == 0


def test_publishing_despite_differences_needs_the_tick_for_these_differences(client, db_session):
    org, owner, campaign = _campaign_with_a_gift()
    sign_in(client, owner)
    first = _post(client, org, _result_form(campaign, "50000"))
    key = first.text.split('name="confirm_differences" value="', 1)[1].split('"', 1)[0]
    # A tick given for other figures does not count: the new differences are shown again.
    changed = _post(client, org, _result_form(campaign, "40000", confirm_differences=key))
    assert changed.status_code == 409 and db_session.query(Disclosure).count() == 0
    published = _post(client, org, _result_form(campaign, "50000", confirm_differences=key))
    assert published.status_code == 302
    assert db_session.query(Disclosure).count() == 1


def test_figures_that_agree_publish_at_once(client, db_session):
    org, owner, campaign = _campaign_with_a_gift()
    sign_in(client, owner)
    assert _post(client, org, _result_form(campaign, "640")).status_code == 302
    assert db_session.query(Disclosure).count() == 1
