"""The key pages checked in a real browser: accessibility, layout widths and screenshots.

Each page names its endpoint and, where it needs one, how to find an object in the demo data.
Every endpoint here exists: a renamed or removed one fails (no skip hides it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from charity.core.clock import today_cst


@dataclass(frozen=True)
class KeyPage:
    name: str
    endpoint: str
    #: values for url_for, looked up in the live database (None: no values)
    values: Callable | None = None
    #: demo account to log in as first (None: a visitor)
    login: str | None = None
    status: int = 200


def _verified_org(session) -> dict:  # type: ignore[no-untyped-def]
    from charity.models import Organization

    org_id = session.scalar(
        sa.select(Organization.id)
        .where(Organization.status == "verified")
        .order_by(Organization.id)
        .limit(1)
    )
    return {"org_id": org_id}


def _pending_org(session) -> dict:  # type: ignore[no-untyped-def]
    from charity.models import Organization

    org_id = session.scalar(
        sa.select(Organization.id).where(Organization.status == "pending").limit(1)
    )
    return {"org_id": org_id}


def _running_campaign(session) -> dict:  # type: ignore[no-untyped-def]
    from charity.models import Campaign

    today = today_cst()
    campaigns = session.scalars(
        sa.select(Campaign).where(Campaign.status == "published").order_by(Campaign.id)
    ).all()
    running = [c for c in campaigns if c.start_date <= today <= c.end_date]
    return {"campaign_id": (running or campaigns)[0].id}


def _first_log_entry(session) -> dict:  # type: ignore[no-untyped-def]
    from charity.models import AuditEntry

    return {"index": session.scalar(sa.select(sa.func.min(AuditEntry.index)))}


def _first_disclosure(session) -> dict:  # type: ignore[no-untyped-def]
    from charity.models.disclosure import Disclosure

    return {"disclosure_id": session.scalar(sa.select(sa.func.min(Disclosure.id)))}


def first_fund(session) -> dict:  # type: ignore[no-untyped-def]
    from charity.models import Fund

    return {"fund_id": session.scalar(sa.select(sa.func.min(Fund.id)))}


def _executed_disbursement(session) -> dict:  # type: ignore[no-untyped-def]
    from charity.models import Disbursement

    first = sa.select(sa.func.min(Disbursement.id)).where(Disbursement.status == "executed")
    return {"disbursement_id": session.scalar(first)}


def _org_with_major_transaction(session) -> dict:  # type: ignore[no-untyped-def]
    from charity.models import MajorTransaction

    first = sa.select(MajorTransaction.organization_id).order_by(MajorTransaction.id).limit(1)
    return {"org_id": session.scalar(first)}


def _first_project(session) -> dict:  # type: ignore[no-untyped-def]
    from charity.models import CharitableProject

    return {"project_id": session.scalar(sa.select(sa.func.min(CharitableProject.id)))}


def _org_with_project(session) -> dict:  # type: ignore[no-untyped-def]
    from charity.models import CharitableProject

    first = sa.select(CharitableProject.organization_id).order_by(CharitableProject.id).limit(1)
    return {"org_id": session.scalar(first)}


def _first_trust(session) -> dict:  # type: ignore[no-untyped-def]
    from charity.models import CharitableTrust

    return {"trust_id": session.scalar(sa.select(sa.func.min(CharitableTrust.id)))}


KEY_PAGES = [
    KeyPage("home", "main.home"),
    KeyPage("org-directory", "orgs.directory"),
    KeyPage("org-page", "orgs.show", _verified_org),
    KeyPage("org-apply", "orgs.apply", login="donor@demo.charity"),
    KeyPage("login", "auth.login"),
    KeyPage("signup", "auth.signup"),
    KeyPage("account", "auth.account", login="donor@demo.charity"),
    KeyPage("password-reset", "auth.reset_request"),
    KeyPage("password-change", "auth.change_password", login="donor2@demo.charity"),
    KeyPage("admin-queue", "admin.organizations", login="admin@demo.charity"),
    KeyPage("admin-review", "admin.review", _pending_org, login="admin@demo.charity"),
    # as the other areas land
    KeyPage("campaign-list", "campaigns.index"),
    KeyPage("campaign-page", "campaigns.show", _running_campaign),
    KeyPage("donate", "donations.new", _running_campaign),
    KeyPage("log", "auditlog_pages.index"),
    KeyPage("log-entry", "auditlog_pages.entry", _first_log_entry),
    KeyPage("disclosure", "disclosures.show", _first_disclosure),
    KeyPage("compliance-rules", "disclosures.rules_page"),
    KeyPage("regulator-dashboard", "regulator.index", login="regulator@demo.charity"),
    KeyPage("fund-list", "funds.index"),
    KeyPage("fund-page", "funds.show", first_fund),
    KeyPage("fund-donate", "funds.donate", first_fund),
    KeyPage("disbursement", "disbursements.show", _executed_disbursement),
    KeyPage("major-transactions", "major_transactions.index", _org_with_major_transaction,
            login="yuexiu-finance@demo.charity"),
    KeyPage("major-transaction-new", "major_transactions.new", _org_with_major_transaction,
            login="yuexiu-finance@demo.charity"),
    KeyPage("project-page", "projects.show", _first_project, login="yuexiu-owner@demo.charity"),
    KeyPage("project-list", "projects.index", _org_with_project),
    KeyPage("project-new", "projects.new", _org_with_project, login="yuexiu-owner@demo.charity"),
    KeyPage("trust-registry", "trusts.index"),
    KeyPage("trust-page", "trusts.show", _first_trust),
    KeyPage("trust-new", "trusts.new", login="regulator@demo.charity"),
]  # fmt: skip
