"""The approvals page (templates/money_approvals/index.html, its two tables one macro,
templates/macros/approvals.html) reads on a phone in Chinese: a refund request and an
in-kind gift waiting for a second person, seen at 390 px by the organization's owner (the
finance member asked for both): no sideways scrolling, no squeezed column, the buttons
and the reason fields there. A screenshot is saved under test-artifacts/screenshots/."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from tests.browser.helpers import TABLE_PROBLEMS, log_in, overflow, screenshot, widest_elements
from tests.support.browser import PHONE

OWNER = "gdfoundation-owner@demo.charity"
FINANCE = "gdfoundation-finance@demo.charity"


def _waiting(live) -> int:  # type: ignore[no-untyped-def]
    """A refund request and an in-kind gift of the demo foundation, both waiting."""
    from charity.core import uow
    from charity.models import Donation, Organization, User
    from charity.services import donations, offline, refund_approvals

    with live.db() as session, uow.unit_of_work():
        org_id = session.scalar(
            sa.select(Organization.id).where(
                Organization.contact_email == "gdfoundation@demo.charity"
            )
        )
        finance = session.scalar(sa.select(User).where(User.email == FINANCE))
        gift = session.scalars(
            sa.select(Donation)
            .where(
                Donation.organization_id == org_id,
                Donation.status == "succeeded",
                Donation.refunded_fen == 0,
            )
            .order_by(Donation.amount_fen.desc())
        ).first()
        assert gift is not None
        live.app.config["REFUND_FOUR_EYES_FEN"] = 0
        live.app.config["OFFLINE_FOUR_EYES_FEN"] = 0
        command = donations.RefundCommand(gift.id, gift.amount_fen, "捐赠人重复捐赠，申请全额退款")
        refund_approvals.request_refund(session, finance, command)
        offline.record_in_kind_gift(
            session,
            finance,
            offline.NewInKindGift(
                organization_id=org_id,
                campaign_id=None,
                description="冬季棉被",
                quantity=Decimal(200),
                unit="床",
                valuation_fen=3_000_000,
                valuation_basis="供货发票单价 150 元",
                received_on=date(2026, 11, 18),
                donor_name="某某超市",
            ),
        )
    return org_id


def test_the_approvals_page_reads_on_a_phone_in_chinese(new_context, live_server):  # type: ignore[no-untyped-def]
    live = live_server
    org_id = _waiting(live)
    page = new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    log_in(page, live, OWNER)
    response = page.goto(live.path("money_approvals.index", org_id=org_id, lang="zh_Hans_CN"))
    assert response is not None and response.status == 200
    main = page.locator("main")
    assert "待批准的款项" in main.inner_text()
    assert page.locator("table.refund-requests tbody tr").count() >= 1
    assert page.locator("table.gifts-awaiting tbody tr").count() >= 1
    assert page.locator("table.refund-requests input[name=reason]").count() >= 1
    assert page.locator("table.gifts-awaiting input[name=reason]").count() >= 1
    found = page.evaluate(TABLE_PROBLEMS)
    screenshot(page, "money-approvals-zh")
    assert found["count"] == 2
    assert overflow(page) == 0, f"the approvals page scrolls sideways: {widest_elements(page)}"
    assert not found["problems"], "\n".join(found["problems"])
