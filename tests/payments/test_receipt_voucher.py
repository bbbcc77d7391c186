"""Honest receipts (issue 17 point 5): called 捐赠电子凭证 everywhere, the amount in 大写,
the organization's address and USCC, a QR code and a short address that check it on the
site (without the donor's name), and a plain statement that it is not the finance bureau's
公益事业捐赠统一票据. Real Stripe SDK against localstripe."""

from __future__ import annotations

import re

import pytest

from charity.services import receipts
from tests.support.payments import give, pay


@pytest.mark.parametrize(
    ("fen", "words"),
    [
        (8800, "捌拾捌元整"),
        (5_000_000, "伍万元整"),
        (123_456, "壹仟贰佰叁拾肆元伍角陆分"),
        (5, "伍分"),
    ],
)
def test_amount_in_capitals(fen, words):
    assert receipts.amount_in_capitals(fen) == words


def test_check_codes_are_tied_to_the_number_and_the_secret():
    code = receipts.check_code("MJ0000002-2026-000002", "secret-a")
    assert len(code) == 10 and code == receipts.check_code("MJ0000002-2026-000002", "secret-a")
    assert code != receipts.check_code("MJ0000002-2026-000003", "secret-a")
    assert code != receipts.check_code("MJ0000002-2026-000002", "secret-b")


@pytest.mark.chinese
def test_the_receipt_page_is_an_honest_voucher(client, campaign):
    donation = give(client, campaign)
    pay(client, donation)
    html = client.get(f"/donations/{donation.public_token}").get_data(as_text=True)
    main = html.split("<main", 1)[1]
    assert "捐赠电子凭证" in main and "票据编号" not in main and "收据" not in main
    assert "捌拾捌元整" in main
    assert campaign.organization.uscc in main
    assert "不是通过财政部门系统开具的公益事业捐赠统一票据" in main
    check = re.search(r'class="check-url">([^<]+)<', main).group(1)
    assert f"/v/{donation.receipt_number}." in check
    qr = client.get(f"/donations/{donation.public_token}/receipt-qr.png")
    assert qr.status_code == 200 and qr.mimetype == "image/png"
    assert qr.data.startswith(b"\x89PNG")
    # Hashes and salt sit under 技术细节 (issue 17.6).
    technical = main.split('<details class="technical">', 1)[1].split("</details>", 1)[0]
    assert donation.commitment_salt in technical and "技术细节" in technical


@pytest.mark.chinese
def test_the_short_address_checks_the_voucher_without_the_donors_name(client, campaign):
    donation = give(client, campaign, donor_name="实名捐赠人")
    pay(client, donation)
    path = (
        "/v/"
        + donation.receipt_number
        + "."
        + receipts.check_code(donation.receipt_number, client.application.config["SECRET_KEY"])
    )
    page = client.get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "对应的捐赠已到账" in html and donation.receipt_number in html
    assert campaign.organization.name in html and "捌拾捌元整" in html
    assert "实名捐赠人" not in html


def test_a_wrong_or_guessed_code_checks_nothing(client, campaign):
    donation = give(client, campaign)
    pay(client, donation)
    for path in (
        f"/v/{donation.receipt_number}.aaaaaaaaaa",
        f"/v/{donation.receipt_number}",
        "/v/" + "x" * 300,
    ):
        response = client.get(path)
        assert response.status_code == 404
        main = response.get_data(as_text=True).split("<main", 1)[1]
        assert donation.receipt_number not in main and "¥88.00" not in main


def test_the_address_names_each_part_once():
    from charity.models import Organization

    org = Organization(
        province="广东省", city="广州市", district="天河区", address="广州市天河区体育西路 100 号"
    )
    assert receipts.organization_address(org) == "广东省广州市天河区体育西路 100 号"
    org.address = "体育西路 100 号"
    assert receipts.organization_address(org) == "广东省广州市天河区体育西路 100 号"
