"""Issue 17 in Chromium, at 390x844 and 1280x900, with screenshots and axe-core:
one language at the money moments (a declined card told in Chinese only, the status page
saying one thing), findable pages (header links by role, one 我的捐赠 page), confirmations
before irreversible steps."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import PHONE
from tests.browser.helpers import axe_violations, describe, log_in, screenshot
from tests.browser.test_donation import (
    DECLINED_CARD,
    fill_gift,
    find_campaign_from_home,
    pay_with_card,
)

LAPTOP = {"width": 1280, "height": 900}
SIZES = pytest.mark.parametrize("size", [LAPTOP, PHONE], ids=["1280x900", "390x844"])
#: three English words in a row: a sentence left untranslated
ENGLISH = re.compile(r"[A-Za-z]+ [a-z]+ [a-z]+")


@pytest.fixture
def donation_areas(live_server):  # type: ignore[no-untyped-def]
    if not live_server.stripe_url:
        pytest.skip("localstripe is not available")
    return live_server


def _context(new_context, size):  # type: ignore[no-untyped-def]
    return new_context(viewport=size, is_mobile=size is PHONE, has_touch=size is PHONE)


def assert_accessible(page, axe_js, name: str, exclude: tuple[str, ...] = ()) -> None:  # type: ignore[no-untyped-def]
    violations = axe_violations(page, axe_js, exclude)
    assert not violations, f"{name}:\n{describe(violations)}"


@SIZES
def test_a_declined_card_is_told_in_chinese_only(size, donation_areas, new_context, axe_js):  # type: ignore[no-untyped-def]
    live = donation_areas
    new_context.errors.expect(402, "/confirm")
    page = _context(new_context, size).new_page()
    find_campaign_from_home(page, live)
    fill_gift(page, "李华", f"declined-zh-{size['width']}@example.org")
    pay_with_card(page, DECLINED_CARD)
    page.wait_for_function("() => document.getElementById('card-errors').textContent.trim()")
    error = page.locator("#card-errors").inner_text()
    assert error == "发卡银行拒绝了这张卡的支付。 您可以换一张卡再试。", error
    assert not ENGLISH.search(error)
    screenshot(page, "trust-declined-card")

    page.click("main a[href$='/donations/' i], main a:has-text('查看结果')")
    page.wait_for_url(re.compile(r"/donations/[^/]+$"))
    main = page.locator("main").inner_text()
    assert "上次支付失败：发卡银行拒绝了这张卡的支付。" in main
    assert "如果您刚刚完成支付" not in main
    assert not ENGLISH.search(main), ENGLISH.search(main)
    assert_accessible(page, axe_js, "status after a decline")
    screenshot(page, "trust-status-after-decline")
