"""Enforcement in the public API (issue 16 points 8 and 15): what the public pages already
show, as data.

- A campaign's current **suspension** (since, reason, source): the campaign page shows it,
  gifts stop. ``source`` is the role that decided (``regulator`` — the civil-affairs
  bureau — or ``platform`` — an admin), never the person.
- An organization's **loss of the public fundraising qualification** (CL art. 22, MCA
  Order 74): the date, the reason and the decision it comes from, as its campaign pages
  show them; and its currently suspended campaigns.
- **Complaints** (CL (2023) art. 108): only two counts per organization — received and
  handled (replied or closed). Never the complainant (anonymous or named), the text, the
  category, the evidence or the reply: those stay with the platform and the regulator.

Each page of results costs one query per kind, whatever its length (``context``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from charity.core.clock import cst_date
from charity.models import Campaign, Organization, User
from charity.models.enforcement import CampaignSuspension, Complaint

HANDLED_STATUSES = ("replied", "closed")

SUSPENSION_SCHEMA: dict[str, Any] = {
    "type": ["object", "null"],
    "required": ["since", "reason", "source"],
    "properties": {
        "since": {"type": "string", "format": "date", "description": "First day (CST)."},
        "reason": {"type": "string", "description": "The reason, as the campaign page shows it."},
        "source": {
            "type": "string",
            "enum": ["regulator", "platform"],
            "description": "Who decided: the civil-affairs regulator or the platform.",
        },
    },
}
SUSPENSION_EXAMPLE = {
    "since": "2026-05-04",
    "reason": "涉嫌虚构事实募捐，调查期间暂停",
    "source": "regulator",
}

SUSPENDED_CAMPAIGN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["campaign_id", "since", "reason", "source"],
    "properties": {
        "campaign_id": {"type": "integer"},
        **{k: v for k, v in SUSPENSION_SCHEMA["properties"].items()},
    },
}

QUALIFICATION_LOSS_SCHEMA: dict[str, Any] = {
    "type": ["object", "null"],
    "required": ["date", "reason", "source"],
    "properties": {
        "date": {
            "type": "string",
            "format": "date",
            "description": "First day (CST) without the qualification; gifts stop from it.",
        },
        "reason": {"type": "string", "description": "Revoked, cancelled, not renewed..."},
        "source": {
            "type": "string",
            "description": "The decision: authority and document number.",
        },
    },
}

COMPLAINTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["received", "handled"],
    "properties": {
        "received": {"type": "integer", "minimum": 0},
        "handled": {"type": "integer", "minimum": 0},
    },
}


def _source(role: str | None) -> str:
    return "regulator" if role == "regulator" else "platform"


def _suspension_json(suspension: CampaignSuspension, role: str | None) -> dict[str, Any]:
    return {
        "since": cst_date(suspension.suspended_at).isoformat(),
        "reason": suspension.reason,
        "source": _source(role),
    }


def active_suspensions(
    session: Session, *, campaign_ids: list[int] | None = None, org_ids: list[int] | None = None
) -> list[tuple[CampaignSuspension, int, str | None]]:
    """Current (not lifted) suspensions of these campaigns or of these organizations'
    campaigns: (suspension, organization id, the suspender's platform role)."""
    statement = (
        select(CampaignSuspension, Campaign.organization_id, User.platform_role)
        .join(Campaign, Campaign.id == CampaignSuspension.campaign_id)
        .join(User, User.id == CampaignSuspension.suspended_by_id)
        .where(CampaignSuspension.lifted_at.is_(None))
        .order_by(CampaignSuspension.id)
    )
    if campaign_ids is not None:
        statement = statement.where(CampaignSuspension.campaign_id.in_(campaign_ids or [0]))
    if org_ids is not None:
        statement = statement.where(Campaign.organization_id.in_(org_ids or [0]))
    return [(row[0], row[1], row[2]) for row in session.execute(statement)]


def campaign_suspensions(session: Session, campaign_ids: list[int]) -> dict[int, dict[str, Any]]:
    return {
        suspension.campaign_id: _suspension_json(suspension, role)
        for suspension, _org, role in active_suspensions(session, campaign_ids=campaign_ids)
    }


@dataclass
class OrganizationContext:
    suspended: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    complaints: dict[int, tuple[int, int]] = field(default_factory=dict)


def organization_context(session: Session, rows: list[Organization]) -> OrganizationContext:
    ids = [row.id for row in rows]
    context = OrganizationContext()
    if not ids:
        return context
    for suspension, org_id, role in active_suspensions(session, org_ids=ids):
        item = {"campaign_id": suspension.campaign_id, **_suspension_json(suspension, role)}
        context.suspended.setdefault(org_id, []).append(item)
    handled = func.sum(case((Complaint.status.in_(HANDLED_STATUSES), 1), else_=0))
    counts = session.execute(
        select(Complaint.organization_id, func.count(Complaint.id), handled)
        .where(Complaint.organization_id.in_(ids))
        .group_by(Complaint.organization_id)
    )
    context.complaints = {org: (int(n), int(done or 0)) for org, n, done in counts}
    return context


def qualification_loss(org: Organization, context: Any) -> dict[str, Any] | None:
    if not org.qualification_number or org.qualification_lost_on is None:
        return None
    return {
        "date": org.qualification_lost_on.isoformat(),
        "reason": org.qualification_loss_reason,
        "source": org.qualification_loss_source,
    }


def suspended_campaigns(org: Organization, context: OrganizationContext) -> list[dict[str, Any]]:
    return context.suspended.get(org.id, [])


def complaint_counts(org: Organization, context: OrganizationContext) -> dict[str, int]:
    received, handled = context.complaints.get(org.id, (0, 0))
    return {"received": received, "handled": handled}
