"""Public API resource for charitable projects (慈善项目; issue 16 point 12)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from charity.api import fields as f
from charity.api.resources import Resource
from charity.models import Organization
from charity.models.project import CharitableProject, ProjectCampaign


def _public_projects():  # type: ignore[no-untyped-def]
    return (
        select(CharitableProject)
        .join(Organization, CharitableProject.organization_id == Organization.id)
        .where(Organization.status == "verified")
    )


def _campaigns(session: Session, rows: list[CharitableProject]) -> dict[int, list[int]]:
    """Each project's funding campaigns, in one query for the page."""
    found: dict[int, list[int]] = {row.id: [] for row in rows}
    if rows:
        for project_id, campaign_id in session.execute(
            select(ProjectCampaign.project_id, ProjectCampaign.campaign_id)
            .where(ProjectCampaign.project_id.in_(list(found)))
            .order_by(ProjectCampaign.campaign_id)
        ):
            found[project_id].append(campaign_id)
    return found


def _campaign_ids(row: CharitableProject, context: Any) -> list[int]:
    return list(context.get(row.id, []))


PROJECTS = Resource(
    name="projects",
    schema_name="CharitableProject",
    summary="Charitable projects (慈善项目)",
    description="Projects of verified organizations with their own dates, newest first. "
    "A project is funded by any number of campaigns (campaign_ids, possibly none); its "
    "progress and result disclosures have the subject_key project:<id> (Charity Law art. "
    "79, MCA Order 81 art. 16).",
    model=CharitableProject,
    public=_public_projects,
    newest_first=True,
    context=_campaigns,
    fields=(
        f.integer("id", "Stable identifier.", example=4),
        f.integer("organization_id", "The organization.", example=7),
        f.string("title", "Project name.", example="社区长者助餐项目"),
        f.string("description_md", "Description (Markdown).", example="为独居长者送餐。"),
        f.day("start_date", "First day of implementation (China Standard Time)."),
        f.day("planned_end_date", "Planned last day of implementation."),
        f.day("actual_end_date", "The day it really ended, or null.", nullable=True),
        f.boolean("is_major", "A major project (重大慈善项目).", example=False),
        f.computed(
            "campaign_ids",
            {"type": "array", "items": {"type": "integer"}},
            _campaign_ids,
            "Campaigns raising money for it.",
            example=[12],
        ),
    ),
    filters=(
        f.id_filter(
            "organization",
            "Only this organization's projects.",
            lambda s, v: s.where(CharitableProject.organization_id == v),
        ),
    ),
)
