"""Giving ¥88 with 微信支付 and 支付宝 in a real browser through the local simulators:
a phone (390×844) pays with WeChat Pay H5 and Alipay WAP; a desktop (1280×900) pays
Alipay page pay, and a WeChat Pay Native QR code scanned on the simulator while our page
waits and moves on by itself. Each ends on the receipt, and the campaign total, the
ledger, the public log entry and the receipt agree. Also a declined WeChat payment and
paying again with Alipay on the same donation."""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa

from tests.browser.helpers import screenshot
from tests.support.browser import axe_violations, describe

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)


@pytest.fixture
def wallets(live_server):  # type: ignore[no-untyped-def]
    if not live_server.wallets:
        pytest.skip("the wallet simulators have not landed on this branch yet")
    return live_server


def _context(new_context, phone: bool):  # type: ignore[no-untyped-def]
    if phone:
        return new_context(viewport=PHONE, is_mobile=True, has_touch=True, user_agent=IPHONE)
    return new_context(viewport=DESKTOP)


def _give(page, method: str, name: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/campaigns/1/donate")
    page.check("input[name=amount][value='8800']")
    page.fill("#donor_name", name)
    page.fill("#donor_email", email)
    page.check(f"input[name=method][value='{method}']")
    page.click("main form button[type=submit]")


def _raised(live) -> int:  # type: ignore[no-untyped-def]
    from charity.services.ledger import campaign_raised_fen

    with live.db() as session:
        return campaign_raised_fen(session, 1)


def _agrees(live, page, email: str, before: int, channel: str) -> None:  # type: ignore[no-untyped-def]
    """The receipt on the page, the donation, the ledger and the log entry agree."""
    from charity.models import AuditEntry, Donation

    page.wait_for_selector("section.receipt", timeout=20_000)
    with live.db() as session:
        donation = session.scalars(sa.select(Donation).where(Donation.donor_email == email)).one()
        assert (donation.status, donation.amount_fen, donation.channel) == (
            "succeeded",
            8800,
            channel,
        )
        assert donation.receipt_number and donation.receipt_number in page.content()
        entry = session.scalars(
            sa.select(AuditEntry).where(
                AuditEntry.payload.contains(f'"donation_id":{donation.id},'),
                # a giving day's match of the same gift is an entry of its own
                AuditEntry.event_type == "donation.succeeded",
            )
        ).first()
        payload = json.loads(entry.payload)
    assert payload["type"] == "donation.succeeded" and payload["amount_fen"] == 8800
    assert payload["receipt_number"] == donation.receipt_number
    assert payload["channel"] == channel
    assert _raised(live) == before + 8800
    assert "¥88.00" in page.locator("section.receipt").inner_text()


def test_phone_gives_88_yuan_with_wechat_pay_h5(wallets, new_context, axe_js):  # type: ignore[no-untyped-def]
    before = _raised(wallets)
    page = _context(new_context, phone=True).new_page()
    page.goto("/campaigns/1/donate")
    methods = page.locator("input[name=method]")
    assert [methods.nth(i).get_attribute("value") for i in range(methods.count())] == [
        "wechatpay",
        "alipay",
        "stripe",
    ]  # wallets first
    assert "微信支付" in page.locator(".donate-methods").inner_text()
    screenshot(page, "wallet-donate-phone")
    _give(page, "wechatpay", "王小明", "h5@example.org")
    page.wait_for_url(re.compile(r"/_sim/h5\?"))
    screenshot(page, "wallet-wechat-h5-cashier")
    page.click("button[value=success]")
    page.wait_for_url(re.compile(r"/donations/[^/?]+$"))
    _agrees(wallets, page, "h5@example.org", before, "online_wechatpay")
    violations = axe_violations(page, axe_js)
    assert not violations, describe(violations)
    screenshot(page, "wallet-receipt-phone")


def test_phone_gives_88_yuan_with_alipay_wap(wallets, new_context):  # type: ignore[no-untyped-def]
    before = _raised(wallets)
    page = _context(new_context, phone=True).new_page()
    _give(page, "alipay", "李华", "wap@example.org")
    page.wait_for_url(re.compile(r"/gateway\.do\?"))
    assert "手机网站支付" in page.content()
    page.click("button[value=pay]")
    page.wait_for_url(re.compile(r"/donations/[^/?]+\?"))
    _agrees(wallets, page, "wap@example.org", before, "online_alipay")


def test_desktop_gives_88_yuan_with_alipay_page_pay_and_returns(wallets, new_context):  # type: ignore[no-untyped-def]
    before = _raised(wallets)
    page = _context(new_context, phone=False).new_page()
    _give(page, "alipay", "张伟", "page@example.org")
    page.wait_for_url(re.compile(r"/gateway\.do\?"))
    assert "电脑网站支付" in page.content()
    screenshot(page, "wallet-alipay-cashier")
    page.click("button[value=pay]")
    page.wait_for_url(re.compile(r"/donations/[^/?]+\?.*method=alipay\.trade\.page\.pay\.return"))
    _agrees(wallets, page, "page@example.org", before, "online_alipay")
    screenshot(page, "wallet-receipt-desktop")


def test_desktop_qr_code_paid_on_the_simulator_while_the_page_waits(  # type: ignore[no-untyped-def]
    wallets, new_context, axe_js
):
    before = _raised(wallets)
    context = _context(new_context, phone=False)
    page = context.new_page()
    _give(page, "wechatpay", "赵敏", "native@example.org")
    page.wait_for_url(re.compile(r"/donations/[^/]+/wallet$"))
    figure = page.locator("figure.wallet-qr")
    code_url = figure.get_attribute("data-code-url")
    assert code_url.startswith("weixin://wxpay/bizpayurl?pr=")
    assert figure.locator("svg").count() == 1
    violations = axe_violations(page, axe_js)
    assert not violations, describe(violations)
    screenshot(page, "wallet-wechat-native-qr")
    phone = context.new_page()  # the donor's phone "scans" the code
    phone.goto(f"{wallets.wallets['wechatpay']}/_sim/scan?code_url={code_url}")
    phone.click("button[value=success]")
    assert "支付成功" in phone.content()
    page.wait_for_url(re.compile(r"/donations/[^/]+$"), timeout=30_000)  # by itself
    _agrees(wallets, page, "native@example.org", before, "online_wechatpay")


def test_declined_wechat_payment_then_alipay_on_the_same_donation(wallets, new_context):  # type: ignore[no-untyped-def]
    from charity.models import Donation

    before = _raised(wallets)
    context = _context(new_context, phone=False)
    page = context.new_page()
    _give(page, "wechatpay", "钱多多", "retry@example.org")
    page.wait_for_url(re.compile(r"/donations/[^/]+/wallet$"))
    code_url = page.locator("figure.wallet-qr").get_attribute("data-code-url")
    phone = context.new_page()
    phone.goto(f"{wallets.wallets['wechatpay']}/_sim/scan?code_url={code_url}")
    phone.click("button[value=fail]")
    page.wait_for_url(re.compile(r"/donations/[^/]+$"), timeout=30_000)
    assert page.locator("h1").inner_text() == "您的捐赠尚未完成"
    page.locator(".pay-again button[value=alipay]").click()
    page.wait_for_url(re.compile(r"/gateway\.do\?"))
    page.click("button[value=pay]")
    page.wait_for_url(re.compile(r"/donations/[^/?]+\?"))
    _agrees(wallets, page, "retry@example.org", before, "online_alipay")
    with wallets.db() as session:
        assert (
            session.scalar(
                sa.select(sa.func.count()).where(Donation.donor_email == "retry@example.org")
            )
            == 1
        )
