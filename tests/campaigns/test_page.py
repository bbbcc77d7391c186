"""The campaign page: credentials, statistics from real Donation rows, donor wall, chart."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from charity.core.clock import CST
from tests.support.campaigns import DraftCampaignFactory, sign_in
from tests.support.factories import (
    CampaignFactory,
    GiftFactory,
    MembershipFactory,
    OrganizationFactory,
)


def _at(day, hour=12):  # type: ignore[no-untyped-def]
    return datetime.combine(day, datetime.min.time(), CST).replace(hour=hour).astimezone(UTC)


@pytest.fixture
def campaign(db_session, today):  # type: ignore[no-untyped-def]
    return CampaignFactory(
        expected_amount_fen=1_000_000,
        start_date=today - timedelta(days=10),
        end_date=today + timedelta(days=20),
    )


def _page(client, campaign, lang="en") -> str:  # type: ignore[no-untyped-def]
    response = client.get(f"/campaigns/{campaign.id}?lang={lang}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_page_shows_the_credentials_the_law_requires(client, campaign):
    page = _page(client, campaign)
    org = campaign.organization
    for text in (
        org.name,
        org.uscc,
        org.qualification_number,
        campaign.filing_number,
        campaign.filing_date.isoformat(),
        org.contact_phone,
        org.contact_email,
        campaign.person_in_charge,
        campaign.receiving_account,
        campaign.leftover_plan,
        "¥500,000.00" if campaign.expected_amount_fen == 50_000_000 else "¥10,000.00",
    ):
        assert text in page, text


def test_statistics_count_only_money_that_stayed(client, db_session, campaign, today):
    GiftFactory(campaign=campaign, amount_fen=30_000, succeeded_at=_at(today - timedelta(days=3)))
    GiftFactory(
        campaign=campaign,
        amount_fen=20_000,
        refunded_fen=5_000,
        status="partially_refunded",
        succeeded_at=_at(today - timedelta(days=1)),
    )
    GiftFactory(campaign=campaign, amount_fen=99_900, status="pending", succeeded_at=None)
    GiftFactory(campaign=campaign, amount_fen=77_700, refunded_fen=77_700, status="refunded")
    GiftFactory(campaign=campaign, amount_fen=66_600, status="failed", succeeded_at=None)
    GiftFactory(amount_fen=55_500)  # another campaign
    page = _page(client, campaign)
    assert "¥450.00" in page  # 300 + 200 - 50
    assert "<dd>2</dd>" in page  # two gifts
    assert "¥999.00" not in page and "¥777.00" not in page and "¥555.00" not in page
    assert 'value="4"' in page  # 45,000 of 1,000,000 fen is 4 %


def test_the_chart_is_an_accessible_svg_with_a_table(client, db_session, campaign, today):
    GiftFactory(campaign=campaign, amount_fen=30_000, succeeded_at=_at(today - timedelta(days=3)))
    GiftFactory(campaign=campaign, amount_fen=10_000, succeeded_at=_at(today - timedelta(days=3)))
    GiftFactory(campaign=campaign, amount_fen=25_000, succeeded_at=_at(today - timedelta(days=1)))
    page = _page(client, campaign)
    svg = _chart(page)
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    assert svg.count("<circle") == 2  # two days with gifts
    assert (today - timedelta(days=3)).isoformat() in svg
    table = page.split("<table>", 1)[1].split("</table>", 1)[0]
    assert "¥400.00" in table and "¥250.00" in table and "¥650.00" in table


def _chart(page: str) -> str:
    """The page's chart, up to its own closing tag (it holds a nested <svg>, the plot)."""
    start, depth = page.index('<svg class="chart'), 0
    for tag in re.finditer(r"<svg\b|</svg>", page[start:]):
        depth += 1 if tag.group() == "<svg" else -1
        if depth == 0:
            return page[start : start + tag.end()]
    raise AssertionError("the chart's <svg> is not closed")


def test_gifts_are_grouped_by_day_in_china_standard_time(db_session, campaign, today):
    from charity.services.campaign_stats import campaign_stats

    day = today - timedelta(days=2)
    # 23:30 and 00:30 Beijing time fall on two different days (15:30 and 16:30 UTC).
    GiftFactory(
        campaign=campaign, amount_fen=100, succeeded_at=_at(day, 23) + timedelta(minutes=30)
    )
    GiftFactory(
        campaign=campaign, amount_fen=200, succeeded_at=_at(day, 23) + timedelta(minutes=90)
    )
    stats = campaign_stats(db_session, [campaign.id])[campaign.id]
    assert stats.daily_series == [(day, 100, 100), (day + timedelta(days=1), 200, 300)]


def test_donor_wall_names_only_with_consent(client, db_session, campaign):
    GiftFactory(campaign=campaign, donor_name="张同意", consent_show_name=True, message="加油！")
    GiftFactory(campaign=campaign, donor_name="李不同意", consent_show_name=False)
    GiftFactory(campaign=campaign, donor_name="王匿名", consent_show_name=True, is_anonymous=True)
    GiftFactory(campaign=campaign, donor_name="赵待付", consent_show_name=True, status="pending")
    GiftFactory(campaign=campaign, message="<script>alert(1)</script>", consent_show_name=True)
    page = _page(client, campaign)
    assert "张同意" in page and "加油！" in page
    assert "李不同意" not in page and "王匿名" not in page and "赵待付" not in page
    assert page.count("Anonymous donor") == 2
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page
    chinese = _page(client, campaign, lang="zh_Hans_CN")
    assert "李不同意" not in chinese


def test_donor_wall_shows_what_stayed_after_a_partial_refund(client, db_session, campaign):
    GiftFactory(
        campaign=campaign,
        donor_name="钱部分退",
        consent_show_name=True,
        amount_fen=88_800,
        refunded_fen=8_800,
        status="partially_refunded",
    )
    page = _page(client, campaign)
    wall = page.split('class="donor-wall"', 1)[1].split("</ul>", 1)[0]
    assert "钱部分退" in wall and "¥800.00" in wall and "¥888.00" not in wall


def test_donor_emails_never_appear(client, db_session, campaign):
    gift = GiftFactory(campaign=campaign, consent_show_name=True)
    assert gift.donor_email not in _page(client, campaign)


def test_days_left_and_donate_button(app, client, campaign, today):
    page = _page(client, campaign)
    assert "Days left" in page and "<dd>20</dd>" in page
    assert f"/campaigns/{campaign.id}/donate" in page


def test_no_donate_button_when_not_running(client, db_session, today):
    upcoming = CampaignFactory(start_date=today + timedelta(days=3), end_date=today + timedelta(9))
    closed = CampaignFactory()
    closed.status = "closed"
    closed.closed_at = datetime.now(UTC)
    db_session.flush()
    assert "Giving opens on" in _page(client, upcoming) and "/donate" not in _page(client, upcoming)
    page = _page(client, closed)
    assert "no longer accepts gifts" in page and "/donate" not in page


def test_a_cooperation_campaign_names_the_partner(client, db_session, today):
    partner = OrganizationFactory(name="长沙社区互助会")
    campaign = CampaignFactory(partner=partner)
    page = _page(client, campaign)
    assert "长沙社区互助会" in page and partner.uscc in page
    assert "receives all the money" in page


class TestDrafts:
    def test_hidden_from_the_public(self, client, db_session, donor):
        draft = DraftCampaignFactory()
        assert client.get(f"/campaigns/{draft.id}").status_code == 404
        sign_in(client, donor)
        assert client.get(f"/campaigns/{draft.id}").status_code == 404

    def test_visible_to_any_member(self, client, db_session):
        draft = DraftCampaignFactory()
        member = MembershipFactory(organization=draft.organization, role="finance").user
        sign_in(client, member)
        page = client.get(f"/campaigns/{draft.id}?lang=en")
        assert page.status_code == 200 and "This is a draft" in page.get_data(as_text=True)

    def test_unknown_campaign_is_404(self, client, db_session):
        assert client.get("/campaigns/987654").status_code == 404
