"""What a donor sees around a wallet payment, outside in: the page they come back to
after closing the cashier says which gift is waiting (amount, campaign), in one language."""

from __future__ import annotations

import pytest

from tests.support.payments import PHONE, give_with


@pytest.mark.chinese
def test_coming_back_without_paying_shows_which_gift_waits(client, wallet_campaign, alipay_sim):
    donation, _ = give_with(client, wallet_campaign, "alipay", agent=PHONE)
    page = client.get(f"/donations/{donation.public_token}").get_data(as_text=True)
    assert "您的捐赠尚未完成" in page
    assert "¥88.00" in page and wallet_campaign.title in page


def test_coming_back_without_paying_in_english(client, wallet_campaign, wechatpay_sim):
    donation, _ = give_with(client, wallet_campaign, "wechatpay", agent=PHONE)
    page = client.get(f"/donations/{donation.public_token}").get_data(as_text=True)
    assert "not complete yet" in page
    assert "¥88.00" in page and wallet_campaign.title in page


@pytest.mark.chinese
def test_the_giving_form_says_monthly_gifts_are_paid_by_card(client, wallet_campaign):
    page = client.get(f"/campaigns/{wallet_campaign.id}/donate").get_data(as_text=True)
    assert "每月捐赠仅支持银行卡支付。" in page


@pytest.mark.chinese
def test_a_donor_who_cancelled_at_the_cashier_is_told_to_pay_again(
    client, wallet_campaign, alipay_sim
):
    """Tapping 放弃付款 in Alipay (or letting the order time out) brings the donor back to
    this page: besides 'if you just paid, reload', it says nothing was charged and points
    to the pay-again buttons (an outside-in review found only the 'reload' advice)."""
    donation, _ = give_with(client, wallet_campaign, "alipay", agent=PHONE)
    page = client.get(f"/donations/{donation.public_token}").get_data(as_text=True)
    assert "如果您放弃了付款或付款已超时，没有扣款：请在下方重新选择支付方式。" in page
    assert "重新支付" in page or "再次支付" in page
