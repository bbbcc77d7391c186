"""Phones and belief (issue 17 points 7 and 1): the share of the goal with one decimal below
1%, the other amount shown only when chosen, one choice for how the donor's name is shown."""

from __future__ import annotations

import re

import pytest

from charity.blueprints.campaigns import percent_text
from tests.support.factories import CampaignFactory


@pytest.mark.parametrize(
    ("raised", "goal", "text"),
    [
        (0, 50_000_000, "0%"),
        (64_000, 50_000_000, "0.1%"),  # ¥640 of ¥500,000: not "0%"
        (450_000, 50_000_000, "0.9%"),
        (1_000, 50_000_000, "<0.1%"),
        (500_000, 50_000_000, "1%"),
        (37_550_000, 50_000_000, "75%"),
        (60_000_000, 50_000_000, "120%"),
        (100, 0, "0%"),
    ],
)
def test_percent_text(raised, goal, text):
    assert percent_text(raised, goal) == text


def test_the_form_offers_one_name_choice_and_hides_the_other_amount(client, db_session):
    campaign = CampaignFactory()
    html = client.get(f"/campaigns/{campaign.id}/donate").get_data(as_text=True)
    assert 'name="is_anonymous"' not in html and 'name="consent_show_name"' not in html
    assert (
        len(
            re.findall(
                r'type="radio"[^>]*name="name_display"|name="name_display"[^>]*type="radio"', html
            )
        )
        == 3
    )
    assert '<div class="custom-amount">' in html  # hidden until 其他 is chosen (CSS)


def test_a_custom_amount_with_an_error_stays_visible(client, db_session):
    campaign = CampaignFactory()
    response = client.post(
        f"/campaigns/{campaign.id}/donate",
        data={"amount": "custom", "custom_amount": "", "donor_name": "王", "donor_email": "a@b.cn"},
    )
    assert '<div class="custom-amount is-shown">' in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("choice", "anonymous", "on_wall"),
    [("anonymous", True, False), ("wall", False, True), ("private", False, False)],
)
def test_the_name_choice_sets_both_flags(client, db_session, choice, anonymous, on_wall):
    from charity.extensions import db
    from charity.models import Donation

    campaign = CampaignFactory()
    response = client.post(
        f"/campaigns/{campaign.id}/donate",
        data={
            "amount": "8800",
            "donor_name": "王小明",
            "donor_email": "wang@example.org",
            "name_display": choice,
            "method": "stripe",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    donation = db.session.query(Donation).order_by(Donation.id.desc()).first()
    assert (donation.is_anonymous, donation.consent_show_name) == (anonymous, on_wall)


def test_the_demo_fund_is_set_up_before_its_first_gift_and_no_update_overclaims(db_session):
    import sqlalchemy as sa

    from charity.demo import load_demo_data
    from charity.models import CampaignUpdate, Donation, Fund

    list(load_demo_data())
    for fund in db_session.scalars(sa.select(Fund)):
        first = db_session.scalar(
            sa.select(sa.func.min(Donation.succeeded_at)).where(Donation.fund_id == fund.id)
        )
        created = fund.created_at
        if created.tzinfo is None or first.tzinfo is None:  # SQLite drops the zone
            created, first = created.replace(tzinfo=None), first.replace(tzinfo=None)
        assert first is None or created < first, (fund.name, created, first)
    for update in db_session.scalars(sa.select(CampaignUpdate)):
        assert "已送达" not in update.body_md and "已送达" not in update.title


def test_the_campaign_page_has_a_donate_bar_for_phones(client, db_session):
    campaign = CampaignFactory()
    html = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    bar = re.search(r'<div class="donate-bar">(.*?)</div>', html, re.S)
    assert 'class="button campaign-donate"' in html  # the campaign takes gifts: so does the bar
    assert bar and f'href="/campaigns/{campaign.id}/donate"' in bar.group(1)
    campaign.status = "closed"
    db_session.flush()
    closed = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert 'class="donate-bar"' not in closed


def test_no_demo_charity_is_barred_from_filing_campaigns(db_session):
    """The demo's verified charities owe nothing so old that filing is barred (issue 16
    point 15): the trustee has published the demo trust's past yearly reports."""
    import sqlalchemy as sa

    from charity.demo import load_demo_data
    from charity.models import Organization
    from charity.services.campaigns import long_overdue_refusal

    list(load_demo_data())
    verified = db_session.scalars(sa.select(Organization).where(Organization.status == "verified"))
    barred = {
        org.name: str(long_overdue_refusal(org)) for org in verified if long_overdue_refusal(org)
    }
    assert barred == {}
