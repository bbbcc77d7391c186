"""A donor's journey in a real browser, with Stripe.js (localstripe's stand-in) for the card:
home page -> campaign -> ¥88 -> card -> receipt -> PDF -> log entry verified in the browser.
Also a declined card then a successful retry, and the journey on a phone and a desktop.

Skipped by name until the campaigns, payments and audit log areas have landed.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from tests.browser.helpers import screenshot
from tests.support.browser import (
    DECLINED_CARD,
    DESKTOP,
    GOOD_CARD,
    PHONE,
    axe_violations,
    describe,
    fill_gift,
    find_campaign_from_home,
    pay_with_card,
)


@pytest.fixture
def donation_areas(live_server):  # type: ignore[no-untyped-def]
    if not live_server.stripe_url:
        pytest.skip("localstripe (scripts/localstripe_server.py) is not running")
    return live_server


def assert_accessible(page, axe_js, name: str, exclude: tuple[str, ...] = ()) -> None:  # type: ignore[no-untyped-def]
    violations = axe_violations(page, axe_js, exclude)
    assert not violations, f"{name}:\n{describe(violations)}"


def donations_by(live, email: str) -> list:  # type: ignore[no-untyped-def]
    from charity.models import Donation

    with live.db() as session:
        rows = session.scalars(
            sa.select(Donation).where(sa.func.lower(Donation.donor_email) == email.lower())
        ).all()
        return [(row.status, row.amount_fen) for row in rows]


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["1440x900", "390x844"])
def test_donor_gives_88_yuan_and_verifies_the_gift_in_the_log(  # type: ignore[no-untyped-def]
    size, donation_areas, new_context, axe_js
):
    live = donation_areas
    email = f"donor-{size['width']}@example.org"
    context = new_context(viewport=size, is_mobile=size is PHONE, has_touch=size is PHONE)
    page = context.new_page()

    find_campaign_from_home(page, live)
    screenshot(page, "journey-campaign")
    fill_gift(page, "王小明", email)
    page.locator("#card-element input").first.wait_for()
    assert_accessible(page, axe_js, "pay", exclude=("#card-element",))  # localstripe's inputs
    screenshot(page, "journey-pay")
    pay_with_card(page, GOOD_CARD)

    page.wait_for_url(re.compile(r"/donations/[^/]+$"))
    assert "¥88.00" in page.locator("main").inner_text()
    assert page.locator(".receipt").count() == 1
    assert_accessible(page, axe_js, "receipt")
    screenshot(page, "journey-receipt")

    pdf_link = page.locator("a[href$='receipt.pdf']")
    pdf = context.request.get(pdf_link.get_attribute("href"))
    assert pdf.ok
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF-")

    log_link = page.locator("main a[href*='/log/']")
    if log_link.count():
        log_link.first.click()
    else:  # the receipt names the entry number; open it from the log
        index = re.search(r"#(\d+)", page.locator(".commitment").inner_text()).group(1)
        page.goto(live.path("auditlog_pages.entry", index=int(index)))
    page.locator("#auditlog-verify.verify-ok").wait_for()
    assert "收到捐赠" in page.locator("main").inner_text()  # the event in words (issue 17.2)
    assert_accessible(page, axe_js, "log entry")
    screenshot(page, "journey-log-entry")

    assert donations_by(live, email) == [("succeeded", 8800)]


def test_declined_card_then_a_successful_retry_makes_one_donation(  # type: ignore[no-untyped-def]
    donation_areas, new_context
):
    live = donation_areas
    email = "declined-then-ok@example.org"
    new_context.errors.expect(402, "/confirm")  # the decline answer to donate.js's fetch
    page = new_context().new_page()
    find_campaign_from_home(page, live)
    fill_gift(page, "李华", email)

    pay_with_card(page, DECLINED_CARD)
    error = page.locator("#card-errors")
    page.wait_for_function("() => document.getElementById('card-errors').textContent.trim()")
    assert error.get_attribute("role") == "alert"
    assert re.search(r"/pay$", page.url)
    assert page.locator("#card-submit").is_enabled()
    screenshot(page, "journey-declined")

    pay_with_card(page, GOOD_CARD)
    page.wait_for_url(re.compile(r"/donations/[^/]+$"))
    assert page.locator(".receipt").count() == 1
    assert donations_by(live, email) == [("succeeded", 8800)]


def test_the_whole_donation_with_the_keyboard_alone(donation_areas, new_context):  # type: ignore[no-untyped-def]
    live = donation_areas
    page = new_context().new_page()
    find_campaign_from_home(page, live)
    page.focus("a.campaign-donate")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.focus("input[name=amount][value='8800']")
    page.keyboard.press("Space")
    card = page.locator("input[name=method][value='stripe']")
    if card.count():  # 银行卡 (the wallets come first): chosen with the keyboard too
        card.focus()
        page.keyboard.press("Space")
        assert card.is_checked()
    page.focus("#donor_name")
    page.keyboard.type("键盘用户")
    page.keyboard.press("Tab")
    page.keyboard.type("keyboard-donor@example.org")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/pay$"))
    page.locator("#card-element input").first.focus()
    for value in (GOOD_CARD, "12", "34", "123", "51000"):
        page.keyboard.type(value)  # the element moves on by itself when a part is complete
    page.focus("#card-submit")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/donations/[^/]+$"))
    assert donations_by(live, "keyboard-donor@example.org") == [("succeeded", 8800)]
