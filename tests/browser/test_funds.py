"""Community funds in the browser: a disbursement needs a second member (four eyes), and a
donor follows a gift to where it went.

The demo fund (charity/demo/funds.py) lives in 广州市越秀区慈善会: its finance member
requests, its committee member approves, finance records the payment; the public fund page
then lists it. The demo donor's ¥200 gift to the fund was partly spent by the demo's own
disbursement, which the receipt shows.
"""

from __future__ import annotations

import sqlalchemy as sa

from tests.browser.helpers import log_in, screenshot
from tests.support.browser import axe_violations, describe

FINANCE = "yuexiu-finance@demo.charity"
DONOR = "donor@demo.charity"
#: The smallest valid one-page PDF, standing in for a supplier's invoice.
EVIDENCE_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)
PURPOSE = "采购 40 箱应急饮用水，送至越秀区六榕街道社区应急物资点"
BENEFICIARY = "广州市越秀区六榕街道社区服务中心"


def _demo_fund_id(live) -> int:  # type: ignore[no-untyped-def]
    from charity.demo.funds import FUND_NAME
    from charity.models import Fund

    with live.db() as session:
        return session.scalar(sa.select(Fund.id).where(Fund.name == FUND_NAME))


def test_a_disbursement_needs_a_second_member_then_shows_on_the_fund_page(
    new_context, live_server, axe_js
):  # type: ignore[no-untyped-def]
    from charity.demo.funds import COMMITTEE_EMAIL

    fund_id = _demo_fund_id(live_server)
    finance = new_context(bypass_csp=True).new_page()  # axe on the staff pages too
    log_in(finance, live_server, FINANCE)

    finance.goto(live_server.path("funds.show", fund_id=fund_id))
    with finance.expect_navigation():
        finance.click(f"main a[href$='/disbursements/new?fund={fund_id}']")
    assert "/disbursements/new" in finance.url, finance.url
    finance.fill("#amount", "60")
    finance.select_option("#purpose_category", "epidemic_supplies")
    finance.fill("#purpose", PURPOSE)
    finance.check("input[name=beneficiary_kind][value=organization]")
    finance.fill("#beneficiary_name", BENEFICIARY)
    finance.set_input_files(
        "#evidence", {"name": "invoice.pdf", "mimeType": "application/pdf", "buffer": EVIDENCE_PDF}
    )
    violations = axe_violations(finance, axe_js)
    assert not violations, describe(violations)
    screenshot(finance, "disbursement-new")
    with finance.expect_navigation() as navigation:
        finance.click("main form button[type=submit]")
    assert navigation.value.status == 200, finance.locator("main").inner_text()
    request_url = finance.url
    assert "/disbursements/" in request_url and "/new" not in request_url, request_url

    # The requester cannot approve their own request: no approve or reject button at all.
    main = finance.locator("main")
    assert PURPOSE in main.inner_text()
    assert main.locator("form[action$='/approve']").count() == 0
    assert main.locator("form[action$='/reject']").count() == 0
    violations = axe_violations(finance, axe_js)
    assert not violations, describe(violations)
    screenshot(finance, "disbursement-requested")

    # Not public before it is paid.
    visitor = new_context().new_page()
    assert visitor.goto(request_url).status == 404

    committee = new_context().new_page()
    log_in(committee, live_server, COMMITTEE_EMAIL)
    committee.goto(request_url)
    approve = committee.locator("main form[action$='/approve'] button")
    assert approve.count() == 1, committee.locator("main").inner_text()
    with committee.expect_navigation() as navigation:
        approve.click()
    assert navigation.value.status == 200
    assert committee.locator("main form[action$='/approve']").count() == 0
    assert committee.locator("main form[action$='/execute']").count() == 0  # finance pays

    finance.goto(request_url)
    finance.fill("#payment_reference", "YX-2026-TEST-060")
    with finance.expect_navigation() as navigation:
        finance.click("main form[action$='/execute'] button")
    assert navigation.value.status == 200, finance.locator("main").inner_text()
    assert "YX-2026-TEST-060" in finance.locator("main").inner_text()
    screenshot(finance, "disbursement-executed")

    assert visitor.goto(request_url).status == 200
    assert "YX-2026-TEST-060" not in visitor.locator("main").inner_text()  # staff only
    visitor.goto(live_server.path("funds.show", fund_id=fund_id))
    row = visitor.locator("main table tr").filter(has_text=PURPOSE)
    assert row.count() == 1, visitor.locator("main").inner_text()
    assert "60.00" in row.inner_text() and BENEFICIARY in row.inner_text()
    evidence = row.locator("a[href$='/evidence']")
    response = visitor.request.get(live_server.url + evidence.get_attribute("href"))
    assert response.status == 200 and response.body() == EVIDENCE_PDF


def test_a_donor_follows_a_gift_to_where_it_went(new_context, live_server, axe_js):  # type: ignore[no-untyped-def]
    from charity.demo.funds import FUND_NAME

    donor = new_context(bypass_csp=True).new_page()
    log_in(donor, live_server, DONOR)
    donor.goto(live_server.path("donor.account_gifts"))  # 我的捐赠, the one page of gifts
    row = donor.locator("main tr").filter(has_text="广州市越秀区慈善会").first
    gift = row.locator("a").first
    with donor.expect_navigation():
        gift.click()
    main = donor.locator("main")
    assert FUND_NAME in main.inner_text()
    trace = main.locator("section.gift-trace")
    assert trace.count() == 1, main.inner_text()
    lines = trace.locator("li").all_inner_texts()
    # The demo's supplies bought with the first ¥100.10 k took ¥100 of this ¥200 gift.
    spent = [line for line in lines if "广州市越秀区北京街道社区卫生服务中心" in line]
    assert spent and spent[0].startswith("¥100.00"), lines
    for size in ({"width": 1440, "height": 900}, {"width": 390, "height": 844}):
        donor.set_viewport_size(size)
        violations = axe_violations(donor, axe_js)
        assert not violations, describe(violations)
        screenshot(donor, "fund-receipt")
