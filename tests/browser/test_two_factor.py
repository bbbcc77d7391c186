"""Two-factor authentication in Chromium on a phone (390 px), issue 15.

A new finance member of the demo foundation has no second factor yet: logging in, they are
sent to set it up (the page says why, in Chinese), type the key into an "app" (pyotp here),
enter its code, keep the recovery codes and land on the page they asked for. The code they
used cannot be used again: the next login refuses it and takes a fresh one.
"""

from __future__ import annotations

import pyotp
import sqlalchemy as sa

from tests.browser.conftest import PHONE
from tests.browser.helpers import (
    axe_violations,
    describe,
    fresh_code,
    overflow,
    screenshot,
    widest_elements,
)

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
