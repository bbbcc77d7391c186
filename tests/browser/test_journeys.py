"""Journeys through the site in a real browser: a visitor, an applicant and an administrator."""

from __future__ import annotations

import re

import pyotp
import sqlalchemy as sa
from stdnum.cn import uscc

from tests.browser.helpers import log_in, open_verification_mail, screenshot
from tests.support.browser import PHONE

LESHAN = "广东省乐善慈善基金会"
LESHAN_USCC = "53440000MJ0000001K"


def _open_organization_from_directory(page, live) -> None:  # type: ignore[no-untyped-def]
    page.fill("#q", "乐善")
    with page.expect_navigation():
        page.press("#q", "Enter")
    page.get_by_role("link", name=LESHAN).click()
    page.wait_for_url(re.compile(r"/orgs/\d+$"))
    assert page.locator("h1").inner_text() == LESHAN
    assert LESHAN_USCC in page.locator("main").inner_text()


def test_visitor_finds_an_organization_from_the_home_page(page, live_server):  # type: ignore[no-untyped-def]
    page.goto("/")
    directory = live_server.path("orgs.directory")
    page.locator(f'main a[href="{directory}"]').first.click()
    page.wait_for_url(f"**{directory}")
    assert page.locator("main .card").count() >= 2
    _open_organization_from_directory(page, live_server)


def test_visitor_on_a_phone_uses_the_menu(new_context, live_server):  # type: ignore[no-untyped-def]
    page = new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    page.goto("/")
    directory = live_server.path("orgs.directory")
    wide_link = page.locator(f'header .site-nav a[href="{directory}"]')
    menu_link = page.locator(f'header .nav-menu a[href="{directory}"]')
    assert not wide_link.is_visible()  # the wide navigation is hidden on a phone
    assert not menu_link.is_visible()  # and the menu is closed
    page.locator(".nav-menu > summary").click()
    assert menu_link.is_visible()
    screenshot(page, "menu-open")
    menu_link.click()
    page.wait_for_url(f"**{directory}")
    _open_organization_from_directory(page, live_server)


def _sign_up(page, live, name: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(live.path("auth.signup"))
    page.fill("#name", name)
    page.fill("#email", email)
    page.fill("#password", "a long enough password")
    page.fill("#confirm", "a long enough password")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    open_verification_mail(page, live, email)
    assert page.locator(f'header a[href="{live.path("auth.account")}"]').count() >= 1


def _apply(page, live, org_name: str, code: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(live.path("orgs.apply"))
    page.fill("#name", org_name)
    page.fill("#uscc", code)
    page.fill("#registration_authority", "广东省民政厅")
    page.fill("#registered_on", "2020-05-18")
    page.select_option("#province", label="广东省")
    page.fill("#city", "深圳市")
    page.fill("#district", "南山区")
    page.fill("#address", "深圳市南山区科技园路 1 号")
    page.fill("#contact_name", "林晓")
    page.fill("#contact_phone", "0755-86001234")
    page.fill("#contact_email", "contact@example.org")
    page.fill("#description_md", "为**社区长者**提供助餐服务。")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    # An owner needs two-factor authentication (issue 15): the applicant sets it up first.
    assert "/account/2fa/setup" in page.url, page.url
    secret = page.locator("#totp-secret").inner_text()
    page.fill("#code", pyotp.TOTP(secret).now())
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    with page.expect_navigation():
        page.click("main a.button")  # "Continue", after the recovery codes
    assert page.locator("h1").inner_text() == org_name
    assert page.locator(".badge.warn").count() >= 1  # pending review


def test_applicant_signs_up_applies_and_sees_the_organization_verified(  # type: ignore[no-untyped-def]
    new_context, live_server
):
    from charity.models import Organization

    org_name = "深圳市南山区长者关怀基金会"
    code = "53440300MJ00098" + "7" + "X"
    code = code[:17] + uscc.calc_check_digit(code[:17])
    applicant = new_context().new_page()
    _sign_up(applicant, live_server, "林晓", "linxiao@example.org")
    _apply(applicant, live_server, org_name, code)
    manage_url = applicant.url

    admin = new_context().new_page()
    log_in(admin, live_server, "admin@demo.charity")
    admin.goto(live_server.path("admin.organizations"))
    admin.get_by_role("link", name=org_name).click()
    admin.check("input[name=decision][value=approve]")
    with admin.expect_navigation():
        admin.click("main form button[type=submit]")

    applicant.goto(manage_url)
    assert applicant.locator(".badge.ok").count() >= 1
    applicant.goto(live_server.path("orgs.directory"))
    applicant.get_by_role("link", name=org_name).click()
    assert applicant.locator("h1").inner_text() == org_name
    with live_server.db() as session:
        status = session.scalar(sa.select(Organization.status).where(Organization.uscc == code))
    assert status == "verified"


_FOCUSED = """() => {
  const e = document.activeElement;
  const style = getComputedStyle(e);
  return {id: e.id, tag: e.tagName.toLowerCase(), cls: e.className,
          inForm: !!e.closest('main form'),
          outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2};
}"""

_CONTROLS = """() => [...document.querySelectorAll(
    'main form input, main form select, main form textarea, main form button')]
  .filter(e => e.type !== 'hidden').map(e => e.id || e.tagName.toLowerCase())"""


def test_signup_form_with_the_keyboard_alone(page, live_server):  # type: ignore[no-untyped-def]
    page.goto(live_server.path("auth.signup"))
    controls = page.evaluate(_CONTROLS)
    assert controls == ["name", "email", "password", "confirm", "button"]

    reached = []
    for _ in range(40):  # Tab from the top of the page through the header into the form
        page.keyboard.press("Tab")
        focused = page.evaluate(_FOCUSED)
        assert focused["outline"], f"no visible focus on {focused}"
        if focused["inForm"]:
            reached.append(focused["id"] or focused["tag"])
        elif reached:
            break
    assert reached == controls  # every control, in order

    # Enter submits from a text field; the errors are announced and focus moves to them.
    page.focus("#name")
    page.keyboard.type("林晓")
    with page.expect_navigation() as navigation:
        page.keyboard.press("Enter")
    assert navigation.value.status == 400
    summary = page.locator(".form-errors")
    assert summary.get_attribute("role") == "alert"
    assert page.evaluate("() => document.activeElement.classList.contains('form-errors')")
    email = page.locator("#email")
    assert email.get_attribute("aria-invalid") == "true"
    error_id = email.get_attribute("aria-describedby").split()[-1]
    assert page.locator(f"#{error_id}").get_attribute("role") == "alert"
    assert summary.locator('a[href="#email"]').count() == 1
    screenshot(page, "signup-errors")

    # The summary links lead to the fields; fix them with the keyboard and submit again.
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.getAttribute('href')") == "#email"
    page.focus("#email")
    page.keyboard.type("keyboard@example.org")
    page.keyboard.press("Tab")
    page.keyboard.type("a long enough password")
    page.keyboard.press("Tab")
    page.keyboard.type("a long enough password")
    with page.expect_navigation() as navigation:
        page.keyboard.press("Enter")
    assert navigation.value.status == 200
    open_verification_mail(page, live_server, "keyboard@example.org")
    assert page.locator(f'header a[href="{live_server.path("auth.account")}"]').count() >= 1
