"""Demo loader: a few clearly fictional charitable trusts (慈善信托) in the registry
(issue 16 point 14): one with a demo charity as trustee, one a demo charity set up as
settlor a few days ago (its 30-day disclosure is running), one with a trust company."""

from __future__ import annotations

from datetime import date, timedelta

from flask import current_app
from sqlalchemy import select

from charity.compliance.rules import law as rules
from charity.core.clock import today_cst
from charity.demo.orgs import DEMO_ORGS, demo_uscc
from charity.extensions import db
from charity.models import CharitableTrust, Membership, Organization, User
from charity.services import trusts as service
from charity.services.disclosures import PublishDisclosure, publish_disclosure


def _org(key: str) -> int | None:
    spec = next(org for org in DEMO_ORGS if org.key == key)
    org = db.session.scalar(
        select(Organization).where(Organization.uscc == demo_uscc(spec.uscc_prefix))
    )
    return org.id if org is not None and org.is_verified else None


def load_trusts() -> list[str]:
    """Idempotent: registered once, by the demo admin."""
    admin = db.session.scalar(select(User).where(User.email == "admin@demo.charity"))
    foundation, yuexiu = _org("gdfoundation"), _org("yuexiu")
    if admin is None or foundation is None or yuexiu is None:
        return []
    if db.session.scalar(select(CharitableTrust.id).limit(1)) is not None:
        return []
    today = today_cst()
    recent = today - timedelta(days=10)
    trusts = (
        service.NewTrust(
            name="粤善示例山区助学慈善信托（演示）",
            filing_number="粤民慈信备〔2025〕示例1号",
            filing_date=date(2025, 3, 10),
            filing_authority="广东省民政厅",
            province="广东省",
            purpose="资助粤北山区学校的营养午餐和图书角建设。（演示数据）",
            assets_fen=100_000_000,
            established_on=date(2025, 3, 1),
            settlors=(service.Settlor("示例星河科技有限公司（演示）", 100_000_000),),
            trustee_org_id=foundation,
            term_end=date(2030, 2, 28),
        ),
        service.NewTrust(
            name="越秀示例长者关爱慈善信托（演示）",
            filing_number="穗民慈信备〔2026〕示例2号",
            filing_date=recent,
            filing_authority="广州市民政局",
            province="广东省",
            purpose="为越秀区独居长者提供助餐和上门探访服务。（演示数据）",
            assets_fen=20_000_000,
            established_on=recent,
            settlors=(service.Settlor("广州市越秀区慈善会", 20_000_000, yuexiu),),
            trustee_company="示例信托有限责任公司（演示）",
        ),
        service.NewTrust(
            name="示例珠江口湿地保护慈善信托（演示）",
            filing_number="穗民慈信备〔2024〕示例3号",
            filing_date=date(2024, 6, 20),
            filing_authority="广州市民政局",
            province="广东省",
            purpose="支持珠江口红树林湿地的修复和公众自然教育。（演示数据）",
            assets_fen=5_000_000,
            assets_note="另有捐赠的观鸟望远镜 20 台（估值已计入）",
            established_on=date(2024, 6, 15),
            settlors=(
                service.Settlor("示例绿源环保科技有限公司（演示）", 3_000_000),
                service.Settlor("示例海风文化传媒有限公司（演示）", 2_000_000),
            ),
            trustee_company="示例信托有限责任公司（演示）",
        ),
    )
    recorded = [service.record_trust(db.session, admin, command, today) for command in trusts]
    _publish_trust_reports(recorded[0], today)
    return [f"  trusts: {len(trusts)} fictional charitable trusts in the registry"]


def _publish_trust_reports(trust: CharitableTrust, today: date) -> None:
    """The trustee has published its yearly report (MCA Order 81 art. 12) for every
    past year of the trust, so the demo charity owes none and may file campaigns."""
    owner = db.session.scalar(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.organization_id == trust.trustee_org_id, Membership.role == "owner")
        .limit(1)
    )
    if owner is None or trust.trustee_org_id is None:
        return
    for year in range(trust.established_on.year, today.year):
        fields = {
            "trust_name": trust.name,
            "filing_number": trust.filing_number,
            "affairs": f"{year} 年资助 6 所山区学校的营养午餐，新建图书角 4 个。（演示数据）",
            "assets_fen": 96_500_000,
            "income_fen": 2_100_000,
            "spent_fen": 5_600_000,
            "fees_fen": 300_000,
        }
        command = PublishDisclosure(
            trust.trustee_org_id,
            rules.TRUST_ANNUAL,
            f"trust:{trust.id}",
            str(year),
            f"{trust.name} {year} 年度信托事务报告",
            "",
            fields,
        )
        publish_disclosure(db.session, owner, command, current_app.config["UPLOAD_DIR"])
