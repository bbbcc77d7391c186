"""The giving form on a phone (390×844), as a donor sees it: every legend lines up with the
labels below it, and choosing 每月 says, under the ways to pay, that a monthly gift is paid
by bank card (with the wallets first, 微信支付 is the one already chosen)."""

from __future__ import annotations

import pytest

from tests.browser.helpers import screenshot

PHONE = {"width": 390, "height": 844}


def _text_x(page, selector: str) -> float:  # type: ignore[no-untyped-def]
    """Where the element's text starts (its box includes the legend's padding)."""
    return page.locator(selector).evaluate(
        "e => { const r = document.createRange(); r.selectNodeContents(e);"
        " return r.getBoundingClientRect().x; }"
    )


@pytest.fixture
def wallets(live_server):  # type: ignore[no-untyped-def]
    if not live_server.wallets:
        pytest.skip("the wallet simulators have not landed on this branch yet")
    return live_server


def test_legends_line_up_and_monthly_says_bank_card(wallets, new_context):  # type: ignore[no-untyped-def]
    page = new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    page.goto("/campaigns/1/donate")
    label_x = _text_x(page, "label[for=donor_name]")
    for legend in (".donate-presets legend", ".donate-frequency legend", ".name-display legend"):
        assert _text_x(page, legend) == label_x, legend
    note = page.locator(".monthly-card-only")
    assert page.locator("input[name=method][value=wechatpay]").is_checked()
    assert not note.is_visible()
    page.check("input[name=frequency][value=monthly]")
    assert note.is_visible()
    screenshot(page, "donate-monthly-phone")
