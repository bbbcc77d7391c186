"""Issue 17 points 5, 6 and 10 in Chromium at 390x844 and 1280x900, with screenshots and
axe-core: a company gives with its USCC and invoice title and asks for news; the charity's
finance member records the 财政电子票据 with its PDF; the donor sees and downloads it; the
log entry says in words what it records; the digest's one-click unsubscribe page."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from stdnum.cn import uscc

from tests.browser.helpers import log_in, overflow, screenshot, widest_elements
from tests.support.browser import (
    GOOD_CARD,
    SIZES,
    assert_accessible,
    find_campaign_from_home,
    pay_with_card,
    sized_context,
)

COMPANY_USCC = "91440101" + "MA5CXXXX0"  # 17 characters, then the check character
COMPANY_USCC += uscc.calc_check_digit(COMPANY_USCC)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def donation_areas(live_server):  # type: ignore[no-untyped-def]
    if not live_server.stripe_url:
        pytest.skip("localstripe is not available")
    return live_server


def _finance_email(live, email: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    """(organization id, an owner's e-mail, the gift's token) of the gift given as ``email``."""
    from charity.models import Donation, Membership, User

    with live.db() as session:
        gift = session.scalars(sa.select(Donation).where(Donation.donor_email == email)).one()
        owner = session.scalars(
            sa.select(User.email)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.organization_id == gift.organization_id, Membership.role == "owner")
        ).first()
        return gift.organization_id, owner, gift.public_token


@SIZES
def test_a_company_gets_its_finance_bureau_receipt(size, donation_areas, new_context, axe_js):  # type: ignore[no-untyped-def]
    live = donation_areas
    email = f"company-{size['width']}@example.org"
    page = sized_context(new_context, size).new_page()
    find_campaign_from_home(page, live)
    page.locator("a.campaign-donate").click()
    page.wait_for_url(re.compile(r"/campaigns/\d+/donate$"))
    page.check("input[name=amount][value='8800']")
    page.fill("#donor_name", "钱经理")
    page.fill("#donor_email", email)
    assert not page.locator("#wants_updates").is_checked()  # news: off by default
    page.check("#wants_updates")
    page.locator("details.company-gift summary").click()
    page.fill("#company_uscc", COMPANY_USCC)
    page.fill("#invoice_title", "示例科技有限公司")
    assert overflow(page) <= 0, widest_elements(page)
    assert_accessible(page, axe_js, "gift form with company fields")
    screenshot(page, "donor-company-form")
    if page.locator("input[name=method][value='stripe']").count():
        page.check("input[name=method][value='stripe']")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/donations/[^/]+/pay$"))
    pay_with_card(page, GOOD_CARD)
    page.wait_for_url(re.compile(r"/donations/[^/]+$"), timeout=60_000)
    waiting = page.locator("section.official-receipt").inner_text()
    assert "示例科技有限公司" in waiting and "慈善组织登记后" in waiting
    screenshot(page, "donor-bill-waiting")

    org_id, owner, token = _finance_email(live, email)
    staff = sized_context(new_context, size).new_page()
    log_in(staff, live, owner)
    staff.goto(live.path("official_receipts.index", org_id=org_id))
    assert overflow(staff) <= 0, widest_elements(staff)
    assert_accessible(staff, axe_js, "finance-bureau receipts list")
    screenshot(staff, "org-bills-list")
    row = staff.locator("tr", has_text="示例科技有限公司").first
    row.locator("a", has_text="登记票据").click()
    staff.fill("#bill_code", "44010126")
    staff.fill("#bill_number", f"00000{size['width']:05d}")
    staff.fill("#check_code", "A1B2C3")
    staff.fill("#issued_on", "2026-03-01")
    staff.set_input_files(
        "#file", files=[{"name": "bill.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    assert_accessible(staff, axe_js, "record a bill")
    screenshot(staff, "org-bill-form")
    with staff.expect_navigation():
        staff.click("main form button[type=submit]")
    assert "票据已登记" in staff.locator("body").inner_text()

    page.goto(live.path("donations.show", token=token))
    section = page.locator("section.official-receipt")
    text = section.inner_text()
    assert "44010126" in text and "A1B2C3" in text and "全国财政电子票据查验平台" in text
    assert "不是通过财政部门系统开具的公益事业捐赠统一票据" in page.locator(".receipt").inner_text()
    assert overflow(page) <= 0, widest_elements(page)
    assert_accessible(page, axe_js, "gift page with the bill")
    section.scroll_into_view_if_needed()
    screenshot(page, "donor-bill-recorded")
    with page.expect_download() as download:
        section.locator("a", has_text="下载票据").click()
    assert download.value.suggested_filename.endswith(".pdf")

    # The log entry of the recording says in words what it is; hashes stay folded away.
    with live.db() as session:
        from charity.models import AuditEntry

        index = session.scalars(
            sa.select(AuditEntry.index)
            .where(AuditEntry.event_type == "donation.official_receipt_recorded")
            .order_by(AuditEntry.index.desc())
        ).first()
    if index is not None:  # the batched log may not have sequenced it yet
        page.goto(live.path("auditlog_pages.entry", index=index))
        assert "票据代码和号码，不写捐赠人" in page.locator(".log-explanation").inner_text()
        assert not page.locator("details.technical").evaluate("(d) => d.open")
        assert_accessible(page, axe_js, "log entry")
        screenshot(page, "log-entry-in-words")


@SIZES
def test_the_one_click_unsubscribe_page(size, live_server, new_context, axe_js):  # type: ignore[no-untyped-def]
    from charity.services import donor_updates

    live = live_server
    email = f"news-{size['width']}@example.org"
    with live.db() as session:
        donor_updates.opt_in(session, email, "zh_Hans_CN")
        session.commit()
    token = donor_updates.unsubscribe_token(live.app.config["SECRET_KEY"], email)
    page = sized_context(new_context, size).new_page()
    page.goto(live.path("donor_updates.unsubscribe", token=token))
    assert "退订动态邮件" in page.locator("main").inner_text()
    assert_accessible(page, axe_js, "unsubscribe")
    screenshot(page, "donor-unsubscribe")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert "将不再收到" in page.locator("main").inner_text()
    screenshot(page, "donor-unsubscribed")
    with live.db() as session:
        assert not donor_updates.is_subscribed(session, email)


@SIZES
def test_the_donate_bar_stays_in_reach_on_phones(size, live_server, new_context, axe_js):  # type: ignore[no-untyped-def]
    page = sized_context(new_context, size).new_page()
    find_campaign_from_home(page, live_server)
    bar = page.locator(".donate-bar")
    if size["width"] > 900:
        assert not bar.is_visible()  # wide screens keep the sticky giving card
        return
    page.mouse.wheel(0, 900)
    page.wait_for_timeout(300)
    box = bar.bounding_box()
    assert bar.is_visible() and box is not None
    assert abs(box["y"] + box["height"] - size["height"]) <= 2, box  # at the screen's bottom
    assert overflow(page) <= 0, widest_elements(page)
    assert_accessible(page, axe_js, "campaign page with the donate bar")
    page.screenshot(path=str(screenshot(page, "campaign-donate-bar")).replace(".png", "-view.png"))
    with page.expect_navigation():
        bar.locator("a").click()
    assert re.search(r"/campaigns/\d+/donate$", page.url)
