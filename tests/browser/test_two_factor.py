"""Two-factor authentication in Chromium on a phone (390 px), issue 15.

A new finance member of the demo foundation has no second factor yet: logging in, they are
sent to set it up (the page says why, in Chinese), type the key into an "app" (pyotp here),
enter its code, keep the recovery codes and land on the page they asked for. The code they
used cannot be used again: the next login refuses it and takes a fresh one.
"""

from __future__ import annotations

import pyotp
import sqlalchemy as sa

from tests.browser.helpers import fresh_code, overflow, screenshot, widest_elements
from tests.support.browser import PHONE, axe_violations, describe

EMAIL = "gdfoundation-finance2@demo.charity"
PASSWORD = "a long enough password 2fa"


def _new_finance_member(live) -> int:  # type: ignore[no-untyped-def]
    """An operator-made account (address confirmed) added as finance of the demo foundation."""
    from charity.models import Membership, Organization
    from charity.services import accounts

    with live.db() as session:
        org = session.scalars(sa.select(Organization).where(Organization.status == "verified"))
        organization = next(o for o in org if o.name == "广东省乐善慈善基金会")
        user = accounts.sign_up(
            session, accounts.SignUp(EMAIL, "郑会计", PASSWORD), email_verified=True
        )
        session.add(Membership(user=user, organization=organization, role="finance"))
        session.commit()
        return organization.id


def _submit(page) -> None:  # type: ignore[no-untyped-def]
    with page.expect_navigation():
        page.click("main form button[type=submit]")


def _check_phone_page(page, axe_js, name: str) -> None:  # type: ignore[no-untyped-def]
    assert overflow(page) == 0, widest_elements(page)
    violations = axe_violations(page, axe_js)
    assert not violations, describe(violations)
    screenshot(page, name)


def test_a_finance_member_sets_up_two_factor_and_a_code_works_once(
    new_context, live_server, axe_js
):  # type: ignore[no-untyped-def]
    org_id = _new_finance_member(live_server)
    target = live_server.path("payment_accounts.overview", org_id=org_id)
    page = new_context(viewport=PHONE, bypass_csp=True).new_page()

    page.goto(live_server.path("auth.login", next=target))
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    _submit(page)
    assert "/account/2fa/setup" in page.url, page.url
    assert "您的角色需要先开启双重验证" in page.locator("main").inner_text()
    assert page.locator("main .qr svg").count() == 1
    _check_phone_page(page, axe_js, "two-factor-setup")

    secret = page.locator("#totp-secret").inner_text().strip()
    code = pyotp.TOTP(secret).now()
    page.fill("#code", code)
    _submit(page)
    codes = page.locator("main .recovery-codes code")
    assert codes.count() == 10
    _check_phone_page(page, axe_js, "two-factor-recovery-codes")
    with page.expect_navigation():
        page.click("main a.button")
    assert page.url.endswith(target), page.url
    assert page.locator("h1").count() == 1

    # A new login (another browser): the code used to enrol is refused, a fresh one works.
    page.context.clear_cookies()
    page.goto(live_server.path("auth.login", next=target))
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    _submit(page)
    assert page.url.split("?")[0].endswith("/account/2fa/"), page.url
    page.fill("#code", code)
    _submit(page)
    assert page.url.split("?")[0].endswith("/account/2fa/"), page.url
    assert "已被使用过" in page.locator("main").inner_text()
    _check_phone_page(page, axe_js, "two-factor-replay-refused")
    page.fill("#code", fresh_code(live_server, EMAIL, secret))
    _submit(page)
    assert page.url.endswith(target), page.url


APPROVER = "yuexiu-finance2@demo.charity"


def _requested_disbursement(live) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """The demo fund's finance member asks for ¥30; a second finance member of the host,
    in the role for 30 days (FOUR_EYES_MIN_MEMBERSHIP_DAYS) but without two-factor yet, is
    the one who can approve it. Returns (disbursement id, organization id)."""
    from datetime import timedelta

    from flask import current_app

    from charity.demo.funds import FUND_NAME, evidence_pdf
    from charity.models import Fund, Membership, User
    from charity.models.base import utcnow
    from charity.services import accounts, disbursements, uploads
    from charity.services.pools import Pool

    with live.db() as session:
        fund = session.scalar(sa.select(Fund).where(Fund.name == FUND_NAME))
        finance = session.scalar(sa.select(User).where(User.email == "yuexiu-finance@demo.charity"))
        approver = accounts.sign_up(
            session, accounts.SignUp(APPROVER, "冯复核", PASSWORD), email_verified=True
        )
        session.add(
            Membership(
                user=approver,
                organization_id=fund.organization_id,
                role="finance",
                since=utcnow() - timedelta(days=30),
            )
        )
        stored = uploads.store_file(current_app.config["UPLOAD_DIR"], evidence_pdf())
        request = disbursements.DisbursementRequest(
            pool=Pool("fund", fund.id),
            amount_fen=3000,
            purpose_category="epidemic_supplies",
            purpose="采购 20 瓶消毒液，送至越秀区大东街道社区卫生站",
            beneficiary_kind="organization",
            beneficiary_name="广州市越秀区大东街道社区卫生服务中心",
            evidence=stored,
        )
        made = disbursements.request_disbursement(session, finance, request)
        session.commit()
        return made.id, fund.organization_id


def test_a_finance_member_sets_up_two_factor_then_approves_a_disbursement_with_it(
    new_context, live_server, axe_js
):  # type: ignore[no-untyped-def]
    """Issue 15: "a Chromium journey sets up 2FA and approves a disbursement with it"."""
    from charity.models import Disbursement

    disbursement_id, _org_id = _requested_disbursement(live_server)
    target = live_server.path("disbursements.show", disbursement_id=disbursement_id)
    page = new_context(viewport=PHONE, bypass_csp=True).new_page()
    page.goto(live_server.path("auth.login", next=target))
    page.fill("#email", APPROVER)
    page.fill("#password", PASSWORD)
    _submit(page)
    assert "/account/2fa/setup" in page.url, page.url  # no approving without a second factor
    secret = page.locator("#totp-secret").inner_text().strip()
    page.fill("#code", pyotp.TOTP(secret).now())
    _submit(page)
    with page.expect_navigation():
        page.click("main a.button")
    assert page.url.endswith(target), page.url

    approve = page.locator("main form[action$='/approve'] button")
    assert approve.count() == 1, page.locator("main").inner_text()
    with page.expect_navigation() as navigation:
        approve.click()
    assert navigation.value.status == 200, page.locator("main").inner_text()
    assert page.locator("main form[action$='/approve']").count() == 0
    _check_phone_page(page, axe_js, "two-factor-disbursement-approved")
    with live_server.db() as session:
        approved = session.get(Disbursement, disbursement_id)
        assert approved.status == "approved"
        assert approved.approved_by.email == APPROVER
