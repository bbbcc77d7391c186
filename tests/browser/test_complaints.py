"""A member of the public reports a concern about a campaign from a 390x844 phone
(issue 16 point 15): the link on the campaign page, the form (anonymous), the reference
number and check code, and following it on the status page. No sideways scrolling, no
serious axe finding; screenshots in test-artifacts/screenshots."""

from __future__ import annotations

import re

from tests.browser.helpers import overflow, screenshot
from tests.support.browser import PHONE, axe_violations, describe


def test_anonymous_complaint_from_a_phone(new_context, live_server, axe_js):  # type: ignore[no-untyped-def]
    page = new_context(viewport=PHONE).new_page()
    page.goto("/campaigns")
    page.locator("main .campaign-card h3 a, main h2 a, main h3 a").first.click()
    page.wait_for_url(re.compile(r"/campaigns/\d+$"))
    page.locator(".complaint-link a").click()
    page.wait_for_url(re.compile(r"/complaints/new\?campaign=\d+$"))
    assert overflow(page) == 0
    violations = axe_violations(page, axe_js)
    assert not violations, describe(violations)
    page.locator("select[name=category]").select_option("misuse_of_funds")
    page.locator("textarea[name=body]").fill("项目页面称已发放午餐，但学校说没有收到。")
    screenshot(page, "complaint-form")
    with page.expect_navigation():
        page.locator("form.complaint-form [type=submit]").click()
    reference = page.locator(".complaint-reference").inner_text().strip()
    code = page.locator(".complaint-code").inner_text().strip()
    assert reference.startswith("JB") and len(code) == 8
    assert overflow(page) == 0
    screenshot(page, "complaint-received")
    page.goto(live_server.path("complaints.check"))
    page.locator("input[name=reference]").fill(reference)
    page.locator("input[name=code]").fill(code)
    with page.expect_navigation():
        page.locator("main form [type=submit]").click()
    assert "已受理" in page.locator(".complaint-status").inner_text() or "受理" in page.content()
    screenshot(page, "complaint-status")
