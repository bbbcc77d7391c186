"""Charts are readable on a phone: on every page that draws one (the regulator's dashboard,
a campaign page, a fund page), each text in each chart renders at 12 CSS px or more at 320,
390 and 1440 px wide, in Chinese and in English, inside its chart and clear of the other
labels; the page does not scroll sideways and axe finds nothing serious at 390 and 1440 px.
The sizes measured go to test-artifacts/chart-text.txt.

Until the charts laid themselves out for the width they get, they were drawn in a fixed
viewBox and scaled: on a 390 px phone a fund's labels came out at 6-7 px, the dashboard's at
11 px on a 320 px phone and 25 px on a desktop.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.browser.helpers import (
    chart_text,
    chart_text_problems,
    log_in,
    overflow,
    resize,
    screenshot,
    widest_elements,
)
from tests.browser.pages import first_fund
from tests.support.browser import DESKTOP, PHONE, ROOT, axe_violations, describe

#: The legible minimum for text on a phone (WCAG has none; 12 px is the common floor).
MINIMUM_PX = 12
NARROWEST = {"width": 320, "height": 700}
REPORT = ROOT / "test-artifacts" / "chart-text.txt"
#: The smallest valid PDF, standing in for the count sheet of a charity market day's cash box.
EVIDENCE_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def _campaign_with_gifts(session) -> dict:  # type: ignore[no-untyped-def]
    """The demo's ended campaign, with a cash-box gift recorded the way its charity records
    one (the demo has no gifts to chart, and the running campaigns belong to the giving
    journeys). Recorded once per live server."""
    from flask import current_app

    from charity.models import Campaign, Donation, Membership, User
    from charity.services.offline import NewOfflineGift, record_offline_gift

    campaign = session.scalars(
        sa.select(Campaign).where(Campaign.status == "closed").order_by(Campaign.id)
    ).first()
    if campaign is None:
        pytest.skip("the demo has no ended campaign")
    if not session.scalars(sa.select(Donation).where(Donation.campaign_id == campaign.id)).first():
        owner = session.scalars(
            sa.select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.organization_id == campaign.organization_id)
        ).first()
        gift = NewOfflineGift(
            organization_id=campaign.organization_id,
            campaign_id=campaign.id,
            kind="cash_box",
            amount_fen=1_280_000,
            received_on=campaign.end_date,
            evidence=EVIDENCE_PDF,
            event_name="越秀区公益墟日",
            place="广州市越秀区北京街道",
            counted_by_1="陈会计",
            counted_by_2="黄志愿者",
        )
        record_offline_gift(session, owner, gift, current_app.config["UPLOAD_DIR"])
        session.commit()
    return {"campaign_id": campaign.id}


#: (name, endpoint, url values, account, how many charts the page draws)
CHART_PAGES = [
    ("regulator-dashboard", "regulator.index", None, "admin@demo.charity", 2),
    ("campaign-page", "campaigns.show", _campaign_with_gifts, "donor@demo.charity", 1),
    ("fund-page", "funds.show", first_fund, "donor@demo.charity", 2),
]


@pytest.fixture(scope="module")
def report():  # type: ignore[no-untyped-def]
    lines: list[str] = []
    yield lines
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text("\n".join(sorted(lines)) + "\n", encoding="utf-8")


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize(
    ("name", "endpoint", "values", "account", "count"), CHART_PAGES, ids=[p[0] for p in CHART_PAGES]
)
def test_chart_text_is_at_least_12px_at_phone_and_desktop_widths(  # type: ignore[no-untyped-def]
    new_context, live_server, axe_js, report, name, endpoint, values, account, count, lang
):
    arguments = {}
    if values is not None:
        with live_server.db() as session:
            arguments = values(session)
    page = new_context(bypass_csp=True).new_page()  # axe is injected as a script tag
    log_in(page, live_server, account)
    query = {"lang": "en"} if lang == "en" else {}
    page.goto(live_server.path(endpoint, **arguments, **query))

    problems = []
    for size in (NARROWEST, PHONE, DESKTOP):
        resize(page, size)
        charts = chart_text(page)
        assert len(charts) == count, [chart["title"] for chart in charts]
        for chart in charts:
            sizes = [text["px"] for text in chart["texts"]]
            assert sizes, chart["title"]
            report.append(
                f"{name} {lang} {size['width']}px: {chart['title']!r} {chart['width']:.0f} px "
                f"wide, text {min(sizes):.1f}-{max(sizes):.1f} px ({len(sizes)} labels)"
            )
            problems += [
                f"{size['width']}px {chart['title']!r}: {problem}"
                for problem in chart_text_problems(chart, MINIMUM_PX)
            ]
        if overflow(page):
            problems.append(f"{size['width']}px: scrolls sideways: {widest_elements(page)}")
        if size is not NARROWEST:
            screenshot(page, f"charts-{name}-{lang}")
            if violations := axe_violations(page, axe_js):
                problems.append(f"axe at {size['width']}px:\n{describe(violations)}")
    assert not problems, f"{name} ({lang}):\n" + "\n".join(problems)
