"""One language at the money moments (issue 17 point 2): Stripe.js gets the page's locale,
a decline is told in our own words keyed by Stripe's code (never Stripe's English text),
the status page does not say "failed" and "if you just paid" at once, and the receipt mail
body is in the page's language. Real Stripe SDK against localstripe."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest

from charity.payments.declines import GENERIC, MESSAGES, decline_message
from tests.support.payments import give, pay

DECLINED = "4000000000000341"
#: three English words in a row
ENGLISH = re.compile(r"[A-Za-z]+ [a-z]+ [a-z]+")


@pytest.mark.chinese
def test_the_card_form_speaks_the_pages_language(client, campaign):
    donation = give(client, campaign)
    html = client.get(f"/donations/{donation.public_token}/pay").get_data(as_text=True)
    assert 'data-locale="zh"' in html
    raw = re.search(r'data-decline-messages="([^"]*)"', html).group(1)
    messages = json.loads(unescape(raw))
    assert messages["insufficient_funds"] == "卡内余额不足。"
    assert messages["incomplete_number"] == "卡号不完整。"
    assert not any(ENGLISH.search(text) for text in messages.values())


def test_the_card_form_in_english_tells_stripe_js_so(client, campaign):
    donation = give(client, campaign)
    html = client.get(f"/donations/{donation.public_token}/pay").get_data(as_text=True)
    assert 'data-locale="en"' in html


@pytest.mark.chinese
def test_a_decline_is_told_in_chinese_only(client, campaign):
    donation = give(client, campaign)
    declined = pay(client, donation, DECLINED)
    assert declined.status_code == 402
    error = declined.json["error"]
    assert error == "发卡银行拒绝了这张卡的支付。 您可以换一张卡再试。"
    assert not ENGLISH.search(error)
    # Stored as our msgid, so the result page says it in the reader's language.
    assert donation.failure_message in MESSAGES.values()
    page = client.get(f"/donations/{donation.public_token}").get_data(as_text=True)
    main = page.split("<main", 1)[1]
    assert "上次支付失败：发卡银行拒绝了这张卡的支付。" in main
    assert "Your card" not in main and "declined" not in main
    # Not both "it failed" and "if you just paid, reload".
    assert "如果您刚刚完成支付" not in main and "If you just paid" not in main


@pytest.mark.chinese
def test_a_pending_gift_without_a_failure_says_to_reload(client, campaign):
    donation = give(client, campaign)
    page = client.get(f"/donations/{donation.public_token}").get_data(as_text=True)
    assert "上次支付失败" not in page
    assert "请稍后刷新" in page


def test_decline_codes_choose_our_words():
    assert decline_message("insufficient_funds", "card_declined") == MESSAGES["insufficient_funds"]
    assert decline_message(None, "expired_card") == "The card has expired."
    assert decline_message("something_new", None) == GENERIC
    assert decline_message(None, None) == GENERIC


@pytest.mark.chinese
def test_the_receipt_mail_body_is_chinese(client, campaign, mail_outbox):
    donation = give(client, campaign)
    pay(client, donation)
    [mail] = mail_outbox
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert "感谢您向" in body and donation.receipt_number in body
    english = [line for line in body.splitlines() if ENGLISH.search(line)]
    assert english == []
