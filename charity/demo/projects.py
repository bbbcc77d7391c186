"""Demo loader: a charitable project (慈善项目) funded by a demo campaign, whose first
implementation-progress report falls due within the week (issue 16 point 12)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from charity.compliance.rules.dates import add_months
from charity.core.clock import today_cst
from charity.demo.orgs import DEMO_ORGS, demo_uscc
from charity.extensions import db
from charity.models import Campaign, CharitableProject, Organization, User
from charity.services import projects as service

DEMO_PROJECT_ORG = "yuexiu"
DEMO_PROJECT_TITLE = "北京街道长者助餐示范项目（演示）"


def load_projects() -> list[str]:
    """Idempotent: one project of 广州市越秀区慈善会, started three months before next
    week and planned for a year, so its first progress report is due soon."""
    spec = next(org for org in DEMO_ORGS if org.key == DEMO_PROJECT_ORG)
    org = db.session.scalar(
        select(Organization).where(Organization.uscc == demo_uscc(spec.uscc_prefix))
    )
    owner = db.session.scalar(select(User).where(User.email == f"{spec.key}-owner@demo.charity"))
    if org is None or owner is None or not org.is_verified:
        return []
    if db.session.scalar(
        select(CharitableProject.id).where(CharitableProject.title == DEMO_PROJECT_TITLE)
    ):
        return []
    start = add_months(today_cst() + timedelta(days=6), -3)
    campaign = db.session.scalar(
        select(Campaign.id)
        .where(Campaign.organization_id == org.id, Campaign.status.in_(("published", "closed")))
        .order_by(Campaign.id)
        .limit(1)
    )
    command = service.NewProject(
        organization_id=org.id,
        title=DEMO_PROJECT_TITLE,
        description_md="为辖区内独居和高龄长者每日配送午餐，并由社工每周上门探访。（演示数据）",
        start_date=start,
        planned_end_date=add_months(start, 12) - timedelta(days=1),
        campaign_ids=(campaign,) if campaign is not None else (),
    )
    service.create_project(db.session, owner, command)
    return [f"  projects: {DEMO_PROJECT_TITLE} ({org.name}), progress report due soon"]
