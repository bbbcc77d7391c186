"""A monthly gift in a real browser, then its cancellation from the donor's account."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from tests.browser.helpers import log_in, screenshot
from tests.support.browser import GOOD_CARD, find_campaign_from_home, pay_with_card


@pytest.fixture
def monthly_areas(live_server):  # type: ignore[no-untyped-def]
    if not live_server.stripe_url:
        pytest.skip("localstripe (scripts/localstripe_server.py) is not running")
    return live_server


def monthly_gifts_of(live, email: str) -> list[str]:  # type: ignore[no-untyped-def]
    from charity.models import RecurringGift

    with live.db() as session:
        rows = session.scalars(
            sa.select(RecurringGift).where(
                sa.func.lower(RecurringGift.donor_email) == email.lower()
            )
        ).all()
        return [row.status for row in rows]


def test_a_monthly_gift_then_its_cancellation_from_the_account(monthly_areas, new_context):  # type: ignore[no-untyped-def]
    live = monthly_areas
    email = "donor2@demo.charity"
    page = new_context().new_page()
    log_in(page, live, email)

    find_campaign_from_home(page, live)
    page.locator("a.campaign-donate").click()
    page.wait_for_url(re.compile(r"/campaigns/\d+/donate$"))
    page.check("input[name=amount][value='8800']")
    page.check("input[name=frequency][value='monthly']")
    page.fill("#donor_name", "李华")
    page.fill("#donor_email", email)
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/monthly/[^/]+/pay$"))
    pay_with_card(page, GOOD_CARD)

    page.wait_for_url(re.compile(r"/monthly/[^/]+$"))
    page.locator(".monthly-status").wait_for()
    screenshot(page, "journey-monthly")
    assert monthly_gifts_of(live, email) == ["active"]

    page.goto(live.path("donor.account_gifts"))
    cancel = page.locator("main a[href*='/cancel']")
    assert cancel.count() == 1
    with page.expect_navigation():
        cancel.click()
    # A page that says what cancelling means, and asks once more (issue 17.4).
    assert monthly_gifts_of(live, email) == ["active"]
    screenshot(page, "journey-monthly-confirm-cancel")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert monthly_gifts_of(live, email) == ["canceled"]
    page.goto(live.path("donor.account_gifts"))
    assert page.locator("main a[href*='/cancel']").count() == 0
    screenshot(page, "journey-monthly-cancelled")
