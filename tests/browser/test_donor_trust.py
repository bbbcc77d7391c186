"""Issue 17 in Chromium, at 390x844 and 1280x900, with screenshots and axe-core:
one language at the money moments (a declined card told in Chinese only, the status page
saying one thing), findable pages (header links by role, one 我的捐赠 page), confirmations
before irreversible steps."""

from __future__ import annotations

import re

import pytest

from tests.browser.helpers import log_in, screenshot
from tests.support.browser import (
    DECLINED_CARD,
    PHONE,
    SIZES,
    assert_accessible,
    fill_gift,
    find_campaign_from_home,
    pay_with_card,
    sized_context,
)

#: three English words in a row: a sentence left untranslated
ENGLISH = re.compile(r"[A-Za-z]+ [a-z]+ [a-z]+")


@pytest.fixture
def donation_areas(live_server):  # type: ignore[no-untyped-def]
    if not live_server.stripe_url:
        pytest.skip("localstripe is not available")
    return live_server


@SIZES
def test_a_declined_card_is_told_in_chinese_only(size, donation_areas, new_context, axe_js):  # type: ignore[no-untyped-def]
    live = donation_areas
    new_context.errors.expect(402, "/confirm")
    page = sized_context(new_context, size).new_page()
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


@SIZES
def test_each_role_finds_its_pages_from_the_header(size, live_server, new_context, axe_js):  # type: ignore[no-untyped-def]
    from tests.browser.helpers import overflow, widest_elements

    for email, landing, links in (
        ("admin@demo.charity", "/admin/organizations", ("我的捐赠", "审核队列", "合规看板")),
        ("regulator@demo.charity", "/regulator/", ("我的捐赠", "合规看板")),
        ("donor@demo.charity", "/account/gifts", ("我的捐赠", "登记慈善组织")),
    ):
        page = sized_context(new_context, size).new_page()
        page.goto(live_server.path("auth.login"))
        page.fill("#email", email)
        page.fill("#password", "demo-password-2026")
        with page.expect_navigation():
            page.click("main form button[type=submit]")
        assert page.url.endswith(landing), (email, page.url)
        if size is PHONE:
            page.click("details.nav-menu summary")
            header = page.locator("details.nav-menu .nav-account")
        else:
            header = page.locator("header .header-tools")
        for words in links:
            assert header.get_by_role("link", name=words).is_visible(), (email, words)
        assert overflow(page) <= 0, widest_elements(page)
        assert_accessible(page, axe_js, f"landing of {email}")
        screenshot(page, f"trust-landing-{email.split('@')[0]}")
        page.context.close()


@SIZES
def test_my_gifts_is_one_readable_page(size, live_server, new_context, axe_js):  # type: ignore[no-untyped-def]
    from tests.browser.helpers import overflow, widest_elements

    page = sized_context(new_context, size).new_page()
    log_in(page, live_server, "donor@demo.charity")
    page.goto("/donations/mine")  # the old address
    assert page.url.endswith("/account/gifts")
    assert page.locator("h1").inner_text() == "我的捐赠"
    assert page.locator("main table.gifts-table tbody tr").count() >= 1
    assert overflow(page) <= 0, widest_elements(page)
    assert_accessible(page, axe_js, "my gifts")
    screenshot(page, "trust-my-gifts")


def _emergency_campaign(live):  # type: ignore[no-untyped-def]
    import sqlalchemy as sa

    from charity.models import Campaign

    with live.db() as session:
        campaign = session.scalar(sa.select(Campaign).where(Campaign.is_emergency.is_(True)))
        return campaign.id, campaign.organization_id


@SIZES
def test_a_disclosure_that_disagrees_with_the_books_is_shown_before_publishing(  # type: ignore[no-untyped-def]
    size, live_server, new_context, axe_js
):
    from tests.browser.helpers import overflow, widest_elements

    campaign_id, org_id = _emergency_campaign(live_server)
    new_context.errors.expect(409, "/disclosures/new")  # the form returned with the warning
    page = sized_context(new_context, size).new_page()
    log_in(page, live_server, "gdfoundation-owner@demo.charity")
    page.goto(
        live_server.path(
            "disclosures.new",
            org_id=org_id,
            type="campaign_result",
            subject=f"campaign:{campaign_id}",
            period="result",
        )
    )
    page.fill("#title", "紧急救助募捐结果")
    page.fill("#raised_fen", "50000")
    page.fill("#balance_fen", "50000")
    page.fill("#implementation", "物资已发放")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    warning = page.locator("#mismatch")
    assert warning.is_visible()
    text = warning.inner_text()
    # The books' figure at this moment (other journeys of this live server may have given to
    # the campaign before this test runs).
    from charity.services.ledger import campaign_raised_fen

    with live_server.db() as session:
        recorded = campaign_raised_fen(session, campaign_id)
    assert recorded != 5_000_000
    assert "¥50,000.00" in text and f"¥{recorded / 100:,.2f}" in text, text
    assert not page.locator("#confirm_differences").is_checked()
    assert overflow(page) <= 0, widest_elements(page)
    assert_accessible(page, axe_js, "disclosure mismatch warning")
    warning.scroll_into_view_if_needed()
    screenshot(page, "trust-disclosure-mismatch")
    # Submitting again without the tick publishes nothing: the warning stays.
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert page.locator("#mismatch").is_visible()
    assert "/disclosures/new" in page.url


@SIZES
def test_the_receipt_is_an_honest_voucher_that_can_be_checked(  # type: ignore[no-untyped-def]
    size, donation_areas, new_context, axe_js
):
    from tests.browser.helpers import overflow, widest_elements
    from tests.support.browser import GOOD_CARD

    live = donation_areas
    page = sized_context(new_context, size).new_page()
    find_campaign_from_home(page, live)
    fill_gift(page, "赵小雨", f"voucher-{size['width']}@example.org")
    pay_with_card(page, GOOD_CARD)
    page.wait_for_url(re.compile(r"/donations/[^/]+$"))
    receipt = page.locator(".receipt")
    text = receipt.inner_text()
    assert "捐赠电子凭证" in text and "捌拾捌元整" in text
    assert "不是通过财政部门系统开具的公益事业捐赠统一票据" in text
    qr = receipt.locator(".receipt-check img")
    qr.scroll_into_view_if_needed()
    assert page.evaluate("(img) => img.complete && img.naturalWidth > 0", qr.element_handle())
    assert not page.locator("details.technical").first.evaluate("(d) => d.open")
    assert overflow(page) <= 0, widest_elements(page)
    assert_accessible(page, axe_js, "voucher")
    screenshot(page, "trust-voucher")

    check = receipt.locator("a.check-url").get_attribute("href")
    page.goto(check)
    main = page.locator("main").inner_text()
    assert "对应的捐赠已到账" in main and "赵小雨" not in main
    assert_accessible(page, axe_js, "voucher check")
    screenshot(page, "trust-voucher-check")


@SIZES
def test_the_gift_form_shows_the_other_amount_when_chosen(  # type: ignore[no-untyped-def]
    size, donation_areas, new_context, axe_js
):
    from tests.browser.helpers import overflow, widest_elements

    live = donation_areas
    page = sized_context(new_context, size).new_page()
    find_campaign_from_home(page, live)
    page.locator("a.campaign-donate").click()
    page.wait_for_url(re.compile(r"/campaigns/\d+/donate$"))
    custom = page.locator("#custom_amount")
    assert not custom.is_visible()
    page.locator("label.preset", has=page.locator("input[name=amount][value=custom]")).click()
    assert custom.is_visible()
    # One choice for the name: choosing anonymity leaves no "show my name" ticked.
    page.check("input[name=name_display][value=wall]")
    page.check("input[name=name_display][value=anonymous]")
    assert not page.locator("input[name=name_display][value=wall]").is_checked()
    assert overflow(page) <= 0, widest_elements(page)
    assert_accessible(page, axe_js, "gift form")
    screenshot(page, "trust-gift-form")
