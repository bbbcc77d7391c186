"""Every table on the main public, donor, charity and regulator pages reads on a phone
(issue 17 point 7): at 390 px the page never scrolls sideways, and every table either
scrolls inside its own wrapper or stacks its rows as cards; no column is squeezed below
about three characters (the old /log/ and obligation tables wrapped one character per line).

Each page is opened as the demo account that sees it, every <details> is opened (tables
hide in some), and a screenshot of every page is saved under test-artifacts/screenshots/.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from tests.browser.helpers import TABLE_PROBLEMS, log_in, overflow, screenshot, widest_elements
from tests.support.browser import PHONE

DONOR = "donor@demo.charity"
REGULATOR = "regulator@demo.charity"
ADMIN = "admin@demo.charity"
OWNER = "gdfoundation-owner@demo.charity"
FINANCE = "gdfoundation-finance@demo.charity"


def _org(session) -> dict:  # type: ignore[no-untyped-def]
    from charity.models import Organization

    return {
        "org_id": session.scalar(
            sa.select(Organization.id).where(
                Organization.contact_email == "gdfoundation@demo.charity"
            )
        )
    }


def _first(model_name: str, key: str) -> Callable:
    def values(session) -> dict:  # type: ignore[no-untyped-def]
        import charity.models as models
        from charity.models import disclosure

        model = getattr(models, model_name, None) or getattr(disclosure, model_name)
        return {key: session.scalar(sa.select(sa.func.min(model.id)))}

    return values


def _campaign(session) -> dict:  # type: ignore[no-untyped-def]
    from charity.models import Campaign, Donation

    busiest = (
        sa.select(Donation.campaign_id)
        .where(Donation.campaign_id.is_not(None))
        .group_by(Donation.campaign_id)
        .order_by(sa.func.count().desc(), Donation.campaign_id)
        .limit(1)
    )
    campaign_id = session.scalar(busiest) or session.scalar(sa.select(sa.func.min(Campaign.id)))
    return {"campaign_id": campaign_id}


@dataclass(frozen=True)
class TablePage:
    name: str
    endpoint: str
    values: Callable | None = None
    login: str | None = None


TABLE_PAGES = [
    # public
    TablePage("log", "auditlog_pages.index"),
    TablePage("campaign", "campaigns.show", _campaign),
    TablePage("obligations", "disclosures.obligations", _org),
    TablePage("compliance-rules", "disclosures.rules_page"),
    TablePage("disclosure", "disclosures.show", _first("Disclosure", "disclosure_id")),
    TablePage("fund-statement", "funds.show", _first("Fund", "fund_id")),
    TablePage("giving-day", "givingdays.show", _first("GivingDay", "event_id")),
    TablePage("team", "givingdays.team", _first("Team", "team_id")),
    TablePage("pool", "givingdays.pool", _first("MatchingPool", "pool_id")),
    TablePage("projects", "projects.index", _org),
    TablePage("trusts", "trusts.index"),
    TablePage("trust", "trusts.show", _first("CharitableTrust", "trust_id")),
    # donor
    TablePage("my-gifts", "donor.account_gifts", login=DONOR),
    TablePage("account", "auth.account", login=DONOR),
    # charity
    TablePage("campaigns-manage", "campaigns.manage", _org, login=OWNER),
    TablePage("campaign-donors", "donations.org_list", _org, login=FINANCE),
    TablePage("offline-gifts", "offline.index", _org, login=FINANCE),
    TablePage("official-receipts", "official_receipts.index", _org, login=FINANCE),
    TablePage("payments", "payment_accounts.overview", _org, login=FINANCE),
    TablePage("disbursements", "disbursements.queue", _org, login=FINANCE),
    TablePage("major-transactions", "major_transactions.index", _org, login=FINANCE),
    TablePage("related-parties", "orgs.related_parties", _org, login=FINANCE),
    TablePage("members", "orgs.members", _org, login=OWNER),
    TablePage("pledges", "givingdays.pledges", _org, login=OWNER),
    # regulator and admin
    TablePage("regulator-dashboard", "regulator.index", login=REGULATOR),
    TablePage("regulator-timeline", "regulator.timeline", _org, login=REGULATOR),
    TablePage("regulator-complaints", "enforcement.complaints", login=REGULATOR),
    TablePage("admin-organizations", "admin.organizations", login=ADMIN),
]


@pytest.mark.parametrize("spec", TABLE_PAGES, ids=[p.name for p in TABLE_PAGES])
def test_every_table_reads_on_a_phone(new_context, live_server, spec):  # type: ignore[no-untyped-def]
    live = live_server
    values: dict = {}
    if spec.values is not None:
        with live.db() as session:
            values = spec.values(session)
        if None in values.values():
            pytest.skip(f"no demo object for {spec.name}")
    page = new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    if spec.login:
        log_in(page, live, spec.login)
    response = page.goto(live.path(spec.endpoint, **values))
    assert response is not None and response.status == 200, (
        spec.name,
        response and response.status,
    )
    page.evaluate("() => document.querySelectorAll('main details').forEach(d => d.open = true)")
    found = page.evaluate(TABLE_PROBLEMS)
    screenshot(page, f"tables-{spec.name}")
    assert overflow(page) == 0, f"{spec.name} scrolls sideways: {widest_elements(page)}"
    assert not found["problems"], f"{spec.name}:\n" + "\n".join(found["problems"])


def test_the_checked_pages_have_tables(new_context, live_server):  # type: ignore[no-untyped-def]
    """The check above looks at real tables: the key pages do have some."""
    live = live_server
    page = new_context(viewport=PHONE).new_page()
    page.goto(live.path("auditlog_pages.index"))
    assert page.locator("main table").count() >= 1
    log_in(page, live, REGULATOR)
    page.goto(live.path("regulator.index"))
    assert page.locator("main table").count() >= 1
