"""Charitable projects (慈善项目; issue 16 point 12): recording a project with its dates,
linking the campaigns that fund it, recording its end, and its money from the books.

Rules enforced here, with the form field each error belongs to:
- the organization is verified and the actor its owner or editor;
- planned end ≥ start; an actual end is recorded once, ≥ start and not in the future;
- a campaign linked to a project belongs to the same organization and serves no other
  project (a project may have several campaigns, or none).
Each change is logged (``project.created``, ``project.ended``,
``project.campaign_linked``) and refreshes the organization's obligations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from charity.compliance.obligations.refresh import refresh_obligations
from charity.core.clock import today_cst
from charity.core.errors import DomainError
from charity.core.events import record_event
from charity.core.permissions import can_manage_org
from charity.models import Campaign, Organization, User
from charity.models.project import CharitableProject, ProjectCampaign
from charity.services.figures import campaign_figures

ROLES = ("owner", "editor")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class ProjectError(DomainError, ValueError):
    """A refusal (charity.core.errors.DomainError)."""


@dataclass(frozen=True)
class NewProject:
    organization_id: int
    title: str
    description_md: str
    start_date: date
    planned_end_date: date
    is_major: bool = False
    campaign_ids: tuple[int, ...] = ()


def _require(actor: User, organization: Organization | None) -> Organization:
    if organization is None or not organization.is_verified:
        raise PermissionError("a verified organization only")
    if not can_manage_org(actor, organization.id, ROLES):
        raise PermissionError("owners and editors only")
    return organization


def _text(value: str, field: str, limit: int, required: bool = True) -> str:
    value = (value or "").strip()
    if (required and not value) or len(value) > limit or _CONTROL.search(value):
        raise ProjectError(
            _l("Enter at most %(n)s characters, without control characters.", n=limit), field
        )
    return value


def create_project(session: Session, actor: User, command: NewProject) -> CharitableProject:
    """Record a project (refused with a field error, nothing written, on bad input)."""
    org = _require(actor, session.get(Organization, command.organization_id))
    if command.planned_end_date < command.start_date:
        raise ProjectError(_l("The planned end is on or after the start."), "planned_end_date")
    if command.start_date.year < 1949:
        raise ProjectError(_l("Enter a real date."), "start_date")
    project = CharitableProject(
        organization_id=org.id,
        title=_text(command.title, "title", 120),
        description_md=_text(command.description_md, "description_md", 20_000, required=False),
        start_date=command.start_date,
        planned_end_date=command.planned_end_date,
        is_major=command.is_major,
        created_by_id=actor.id,
    )
    session.add(project)
    session.flush()  # the project id is the event's subject and the links' key
    record_event(session, "project.created", subject_id=project.id)
    for campaign_id in command.campaign_ids:
        _link(session, project, campaign_id)
    if command.campaign_ids:
        refresh_obligations(session, [org.id])
    return project


def _link(session: Session, project: CharitableProject, campaign_id: int) -> ProjectCampaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or campaign.organization_id != project.organization_id:
        raise ProjectError(_l("Choose a campaign of this organization."), "campaign_id")
    taken = session.scalar(
        select(ProjectCampaign.project_id).where(ProjectCampaign.campaign_id == campaign_id)
    )
    if taken is not None:
        raise ProjectError(_l("This campaign already serves a project."), "campaign_id")
    link = ProjectCampaign(project_id=project.id, campaign_id=campaign_id)
    session.add(link)
    session.flush()  # the link id is the event's subject
    record_event(session, "project.campaign_linked", subject_id=link.id)
    return link


def link_campaign(
    session: Session, actor: User, project_id: int, campaign_id: int
) -> ProjectCampaign:
    """A campaign raises money for this project from now on (its leftover property is
    then counted from the project's end)."""
    project = session.get(CharitableProject, project_id)
    if project is None:
        raise LookupError(project_id)
    _require(actor, project.organization)
    link = _link(session, project, campaign_id)
    refresh_obligations(session, [project.organization_id])
    return link


def record_end(
    session: Session, actor: User, project_id: int, ended_on: date, today: date | None = None
) -> CharitableProject:
    """Implementation really ended on ``ended_on`` (once): the result is due 3 months
    later and progress reports after that day never arise."""
    project = session.get(CharitableProject, project_id)
    if project is None:
        raise LookupError(project_id)
    _require(actor, project.organization)
    if project.actual_end_date is not None:
        raise ProjectError(_l("The end is already recorded."), "actual_end_date")
    if ended_on < project.start_date:
        raise ProjectError(_l("The end is on or after the start."), "actual_end_date")
    if ended_on > (today or today_cst()):
        raise ProjectError(_l("The end cannot be in the future."), "actual_end_date")
    project.actual_end_date = ended_on
    session.flush()
    record_event(session, "project.ended", subject_id=project.id)
    return project


# --- reading --------------------------------------------------------------------------


def campaign_ids(session: Session, project_id: int) -> list[int]:
    return list(
        session.scalars(
            select(ProjectCampaign.campaign_id)
            .where(ProjectCampaign.project_id == project_id)
            .order_by(ProjectCampaign.campaign_id)
        )
    )


def project_figures(
    session: Session, project_id: int, as_of: datetime | None = None
) -> dict[str, Any]:
    """Money raised for and spent on the project (fen): the sums over the campaigns that
    fund it, from the books (charity.services.figures), before ``as_of`` when given."""
    raised = spent = 0
    for campaign_id in campaign_ids(session, project_id):
        figures = campaign_figures(session, campaign_id, as_of)
        raised += figures["raised_fen"]
        spent += figures["spent_fen"]
    return {"raised_fen": raised, "spent_fen": spent, "balance_fen": raised - spent}


def project_subject(subject_key: str) -> int | None:
    """The project id of a ``project:<id>`` subject key (None for anything else)."""
    match = re.fullmatch(r"project:(\d{1,11})", subject_key)
    return int(match.group(1)) if match else None


def project_of(session: Session, organization_id: int, subject_key: str):  # type: ignore[no-untyped-def]
    """The organization's project named by a subject key, or None."""
    project_id = project_subject(subject_key)
    project = session.get(CharitableProject, project_id) if project_id is not None else None
    if project is None or project.organization_id != organization_id:
        return None
    return project


def projects_of(session: Session, organization_id: int) -> list[CharitableProject]:
    return list(
        session.scalars(
            select(CharitableProject)
            .where(CharitableProject.organization_id == organization_id)
            .order_by(CharitableProject.start_date.desc(), CharitableProject.id.desc())
        )
    )


def linkable_campaigns(session: Session, organization_id: int) -> list[Campaign]:
    """The organization's published or closed campaigns that serve no project yet."""
    linked = select(ProjectCampaign.campaign_id)
    return list(
        session.scalars(
            select(Campaign)
            .where(
                Campaign.organization_id == organization_id,
                Campaign.status.in_(("published", "closed")),
                Campaign.id.not_in(linked),
            )
            .order_by(Campaign.start_date.desc(), Campaign.id.desc())
        )
    )


# --- log payloads (charity.wiring) ----------------------------------------------------


def _get(session: Session, project_id: int) -> CharitableProject:
    project = session.get(CharitableProject, project_id)
    if project is None:
        raise LookupError(f"project {project_id} is gone")
    return project


def created_payload(session: Session, project_id: int) -> dict[str, Any]:
    project = _get(session, project_id)
    return {
        "project_id": project.id,
        "organization_id": project.organization_id,
        "org_uscc": project.organization.uscc,
        "title": project.title,
        "start_date": project.start_date.isoformat(),
        "planned_end_date": project.planned_end_date.isoformat(),
    }


def ended_payload(session: Session, project_id: int) -> dict[str, Any]:
    project = _get(session, project_id)
    ended = project.actual_end_date
    return {
        "project_id": project.id,
        "organization_id": project.organization_id,
        "actual_end_date": ended.isoformat() if ended else None,
    }


def linked_payload(session: Session, link_id: int) -> dict[str, Any]:
    link = session.get(ProjectCampaign, link_id)
    if link is None:
        raise LookupError(f"project link {link_id} is gone")
    return {
        "project_id": link.project_id,
        "campaign_id": link.campaign_id,
        "organization_id": link.project.organization_id,
    }
