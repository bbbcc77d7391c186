"""Giving day in Chromium at 390×844 (issue 18): a supporter creates a team for the demo
6·30 event's campaign; a second donor gives ¥88 through the team's link during a matching
window (a pool whose daily window is now, Beijing time), pays by card, and sees the match
on the result page and its receipt; the event page shows the team and the matched money."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from tests.browser.helpers import log_in, overflow, screenshot
from tests.support.browser import GOOD_CARD, PHONE, axe_violations, describe, pay_with_card


@pytest.fixture
def giving_day(live_server):  # type: ignore[no-untyped-def]
    if not live_server.stripe_url:
        pytest.skip("localstripe (scripts/localstripe_server.py) is not running")
    from charity.core.clock import CST
    from charity.demo.givingdays import EVENT_NAME
    from charity.models import GivingDay, User
    from charity.services import givingdays

    hour = datetime.now(UTC).astimezone(CST).hour
    window = f"{hour:02d}:00-{min(hour + 2, 24):02d}:00"
    with live_server.db() as session:
        event = session.scalars(sa.select(GivingDay).where(GivingDay.name == EVENT_NAME)).one()
        admin = session.scalars(sa.select(User).where(User.email == "admin@demo.charity")).one()
        pool = givingdays.create_pool(
            session,
            admin,
            givingdays.NewPool(
                event_id=event.id,
                organization_id=event.pools[0].organization_id,
                sponsor_name="广州粤信科技有限公司",
                total_fen=100_000,
                ratio_percent=50,
                cap_per_gift_fen=5_000,
                windows=window,
            ),
        )
        session.commit()
        return live_server, event.id, pool.id


def _no_problems(page, axe_js, name: str) -> None:  # type: ignore[no-untyped-def]
    violations = axe_violations(page, axe_js)
    assert not violations, f"{name}:\n{describe(violations)}"
    assert overflow(page) == 0, f"{name} is wider than the phone"


def test_team_gift_in_a_matching_window_is_matched_and_shown(giving_day, new_context, axe_js):  # type: ignore[no-untyped-def]
    live, event_id, window_pool_id = giving_day
    phone = {"viewport": PHONE, "is_mobile": True, "has_touch": True}

    # 1. The supporter finds the campaign from the event page and starts a team.
    supporter = new_context(**phone).new_page()
    log_in(supporter, live, "donor@demo.charity")
    supporter.goto(live.path("givingdays.show", event_id=event_id))
    supporter.locator(
        "#board-campaigns ~ table a, section[aria-labelledby=board-campaigns] a"
    ).first.click()
    supporter.wait_for_url(re.compile(r"/campaigns/\d+$"))
    supporter.locator("a.campaign-team-new").click()
    supporter.fill("#name", "越秀夜跑队")
    supporter.fill("#goal", "2000")
    supporter.fill("#message", "跑完步，一起捐一份午餐！")
    with supporter.expect_navigation():
        supporter.click("main form button[type=submit]")
    supporter.wait_for_url(re.compile(r"/teams/\d+$"))
    team_url = supporter.locator("code.team-link").inner_text().strip()
    assert supporter.locator("svg.share-qr").count() == 1
    _no_problems(supporter, axe_js, "team page")
    screenshot(supporter, "givingday-team")

    # 2. A second donor opens the team's link on a phone and gives ¥88 by card.
    donor = new_context(**phone).new_page()
    donor.goto(team_url)
    donor.locator("main a.button").first.click()
    donor.wait_for_url(re.compile(r"/donate\?team=\d+$"))
    assert "越秀夜跑队" in donor.locator(".donate-team").inner_text()
    donor.check("input[name=amount][value='8800']")
    donor.fill("#donor_name", "李华")
    donor.fill("#donor_email", "team-gift@example.org")
    if donor.locator("input[name=method][value='stripe']").count():
        donor.check("input[name=method][value='stripe']")
    with donor.expect_navigation():
        donor.click("main form button[type=submit]")
    donor.wait_for_url(re.compile(r"/donations/[^/]+/pay$"))
    pay_with_card(donor, GOOD_CARD)
    donor.wait_for_url(re.compile(r"/donations/[^/]+$"))

    # 3. The result page and its receipt show the matches (¥88 1:1, and 50% in the window).
    receipt = donor.locator(".receipt").inner_text()
    assert "您的 ¥88.00 获得 ¥88.00 配捐" in receipt
    assert "您的 ¥88.00 获得 ¥44.00 配捐" in receipt
    _no_problems(donor, axe_js, "result page")
    screenshot(donor, "givingday-result")
    from charity.models import Donation, Match

    with live.db() as session:
        gift = session.scalars(
            sa.select(Donation).where(Donation.donor_email == "team-gift@example.org")
        ).one()
        assert gift.team_id is not None
        matches = session.scalars(sa.select(Match).where(Match.donation_id == gift.id)).all()
        assert sorted((m.pool_id == window_pool_id, m.amount_fen) for m in matches) == [
            (False, 8800),
            (True, 4400),
        ]
        from charity.services.receipts import receipt_lines

        assert any("¥88.00" in value for label, value in receipt_lines(gift) if "配捐" in label)

    # 4. The event page shows the team and the matched money.
    donor.goto(live.path("givingdays.show", event_id=event_id))
    main = donor.locator("main").inner_text()
    assert "越秀夜跑队" in main
    assert "¥88.00" in donor.locator("section[aria-labelledby=board-teams]").inner_text()
    _no_problems(donor, axe_js, "event page")
    screenshot(donor, "givingday-event")
