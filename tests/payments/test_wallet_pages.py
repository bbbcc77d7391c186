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
