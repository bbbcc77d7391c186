"""Compliance helpers shared by several test packages: organizations with members, campaigns
with dates, real PDFs, obligation statuses and noon in China time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from fpdf import FPDF

from charity.compliance.obligations.refresh import refresh_obligations
from charity.compliance.rules.deadlines import status_of
from charity.core.clock import CST
from charity.extensions import db
from charity.models.disclosure import (
    Obligation,
)
from charity.services import disbursements as disb
from charity.services import disclosures as service
from charity.services.pools import Pool
from charity.services.uploads import store_file
from tests.support.factories import (
    CampaignFactory,
    MembershipFactory,
    OrganizationFactory,
    QualifiedOrganizationFactory,
    UserFactory,
    second_person,
    session_id,
)


def cst_noon(day: date) -> datetime:
    """Noon in China on ``day``, as aware UTC (for time travel and timestamps)."""
    return datetime.combine(day, time(12), tzinfo=CST).astimezone(UTC)


def make_pdf(text: str = "Annual report") -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text=text)
    return bytes(pdf.output())


def make_org(qualified: bool = True, registered: date = date(2025, 1, 10), **kwargs):  # type: ignore[no-untyped-def]
    factory = QualifiedOrganizationFactory if qualified else OrganizationFactory
    return factory(reviewed_at=cst_noon(registered), **kwargs)


def member(org, role: str):  # type: ignore[no-untyped-def]
    return MembershipFactory(organization=org, role=role, user=UserFactory()).user


def make_campaign(org, start: date, end: date, **kwargs):  # type: ignore[no-untyped-def]
    kwargs.setdefault("filing_date", start - timedelta(days=20))
    return CampaignFactory(organization=org, start_date=start, end_date=end, **kwargs)


def statuses(session, org_id: int, today: date) -> dict[str, str]:  # type: ignore[no-untyped-def]
    refresh_obligations(session, [org_id], today)
    rows = session.query(Obligation).filter_by(organization_id=org_id).all()
    return {short_key(ob.key): status_of(ob.due_date, ob.fulfilled_on, today) for ob in rows}


def short_key(key: str) -> str:
    """ "rule:<org id>:subject:period" without the organization id, for readable tests."""
    rule, _org_id, rest = key.split(":", 2)
    return f"{rule}:{rest}"


def login(client, user) -> None:  # type: ignore[no-untyped-def]
    from flask import g

    g.pop("_login_user", None)
    with client.session_transaction() as session:
        session["_user_id"] = session_id(user)
        session["_fresh"] = True


def spend_from_campaign(app, org, campaign, amount_fen: int) -> None:  # type: ignore[no-untyped-def]
    finance, owner = member(org, "finance"), owner_of(org)
    request = disb.request_disbursement(
        db.session,
        finance,
        disb.DisbursementRequest(
            pool=Pool("campaign", campaign.id),
            amount_fen=amount_fen,
            purpose_category="food",
            purpose="营养午餐食材",
            beneficiary_kind="organization",
            beneficiary_name="连山县第一小学",
            evidence=store_file(app.config["UPLOAD_DIR"], make_pdf("invoice")),
        ),
    )
    disb.approve_disbursement(db.session, second_person(owner, days=3650), request.id)
    disb.execute_disbursement(db.session, finance, request.id, "BANK-0001")


def owner_of(org):  # type: ignore[no-untyped-def]
    """The organization's owner (made on first use)."""
    for membership in org.memberships:
        if membership.role == "owner":
            return membership.user
    return member(org, "owner")


BASIC_INFO = {
    "charter_summary": "章程摘要",
    "board": "张三、李四",
    "supervisors": "王五",
    "contacts": "020-12345678",
}


def populate(count: int, **org_kwargs) -> list:  # type: ignore[no-untyped-def]
    orgs = []
    for index in range(count):
        org = make_org(registered=date(2024, 1, 10), **org_kwargs)
        make_campaign(org, date(2025, 1, 1), date(2025, 9, 30))
        orgs.append(org)
        if index % 2 == 0:
            owner = member(org, "owner")
            command = service.PublishDisclosure(
                org.id,
                "basic_info",
                "org",
                "registration",
                "基本信息",
                "",
                {"charter_summary": "a", "board": "b", "supervisors": "c", "contacts": "d"},
            )
            service.publish_disclosure(db.session, owner, command, "/nonexistent")
    refresh_obligations(db.session)
    return orgs


ANNUAL_FINANCE = {
    "total_income_fen": 100_000_00,
    "last_year_income_fen": 100_000_00,
    "charitable_spending_fen": 50_000_00,
    "management_costs_fen": 30_000_00,
    "fundraising_costs_fen": 0,
    "total_spending_fen": 90_000_00,
    "net_assets_fen": 10_000_00,
    "prior_net_assets_fen": 10_000_00,
    "auditor": "广州某会计师事务所",
}


CAMPAIGN_FIGURES = {
    "raised_fen": 0,
    "refunded_fen": 0,
    "gift_count": 0,
    "in_kind_fen": 0,
    "spent_fen": 0,
    "balance_fen": 0,
}
