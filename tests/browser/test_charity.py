"""A charity's journey: an owner files a campaign and publishes it, then publishes a statutory
disclosure; a visitor sees both."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from charity.core.clock import today_cst
from tests.browser.helpers import log_in, screenshot

OWNER = "gdfoundation-owner@demo.charity"
ORG_USCC = "53440000MJ0000001K"


def _org_id(live) -> int:  # type: ignore[no-untyped-def]
    from charity.models import Organization

    with live.db() as session:
        return session.scalar(sa.select(Organization.id).where(Organization.uscc == ORG_USCC))


def _fill_campaign(page, title: str) -> None:  # type: ignore[no-untyped-def]
    today = today_cst()
    values = {
        "#title": title,
        "#summary": "为 300 名独居老人提供一个冬天的热饭和上门探访。",
        "#purpose_md": "为**独居老人**提供冬季助餐。",
        "#start_date": (today + timedelta(days=15)).isoformat(),
        "#end_date": (today + timedelta(days=120)).isoformat(),
        "#region": "广东省广州市",
        "#person_in_charge": "陈蔚岚",
        "#acceptance_methods": "本平台在线捐赠（银行卡、支付宝、微信支付）",
        "#receiving_account": "广东省乐善慈善基金会 中国工商银行 3602 0000 0920 0123 456",
        "#beneficiaries": "广州市越秀区 300 名 70 岁以上独居老人",
        "#use_of_funds": "餐费 90%，探访交通 10%",
        "#fundraising_cost": "不超过募得善款的 3%",
        "#leftover_plan": "剩余款物经理事会决议用于同类助老项目并公开",
        "#expected_amount": "90000",
        "#filing_number": f"{ORG_USCC}B{today:%m%d}",
        "#filing_date": today.isoformat(),
    }
    for selector, value in values.items():
        page.fill(selector, value)
    page.select_option("#cause", "elderly")


def _fill_required_disclosure_fields(page) -> None:  # type: ignore[no-untyped-def]
    """The disclosure form's fields depend on its type: fill whatever is required and empty."""
    today = today_cst().isoformat()
    page.fill("#title", "2026 年冬季助老项目进展")
    if page.locator("#body_md").count():
        page.fill("#body_md", "本季度共送餐 **12,000** 份。")
    for control in page.locator("main form [required]").all():
        if control.input_value():
            continue
        kind = control.get_attribute("type") or control.evaluate("e => e.tagName.toLowerCase()")
        value = {"date": today, "number": "1", "select": None}.get(kind, "100")
        if kind == "select":
            control.select_option(index=1)
        elif value is not None:
            control.fill(value)


def test_charity_files_a_campaign_and_publishes_a_disclosure(new_context, live_server):  # type: ignore[no-untyped-def]
    org_id = _org_id(live_server)
    owner = new_context().new_page()
    log_in(owner, live_server, OWNER)

    title = "越秀区独居老人冬季助餐"
    owner.goto(live_server.path("campaigns.new", org_id=org_id))
    _fill_campaign(owner, title)
    with owner.expect_navigation() as navigation:
        owner.click("main form button[type=submit]")
    assert navigation.value.status == 200, owner.locator(".form-errors").all_inner_texts()
    campaign_url = owner.url if re.search(r"/campaigns/\d+$", owner.url) else None

    owner.goto(live_server.path("campaigns.manage", org_id=org_id))
    row = owner.locator("main tr, main li, main article").filter(has_text=title).first
    with owner.expect_navigation():
        row.locator("a[href$='/publish']").click()
    screenshot(owner, "charity-confirm-publish")  # what publishing means, asked once more
    with owner.expect_navigation():
        owner.click("main form button[type=submit]")
    screenshot(owner, "charity-campaigns")
    if campaign_url is None:
        campaign_url = owner.locator(f"main a:has-text('{title}')").first.get_attribute("href")

    visitor = new_context().new_page()
    response = visitor.goto(campaign_url)
    assert response.status == 200
    assert visitor.locator("main h1").inner_text().strip() == title
    assert ORG_USCC in visitor.locator("main").inner_text()

    owner.goto(live_server.path("disclosures.obligations", org_id=org_id))
    publish = owner.locator("main a.button[href*='/disclosures/new']").first
    assert publish.count() == 1, "no obligation left to publish"
    publish.click()
    _fill_required_disclosure_fields(owner)
    with owner.expect_navigation() as navigation:
        owner.click("main form button[type=submit]")
    assert navigation.value.status == 200, owner.locator(".form-errors").all_inner_texts()
    assert re.search(r"/disclosures/\d+$", owner.url), owner.url
    screenshot(owner, "charity-disclosure")

    response = visitor.goto(owner.url)
    assert response.status == 200
    assert "2026 年冬季助老项目进展" in visitor.locator("main").inner_text()
