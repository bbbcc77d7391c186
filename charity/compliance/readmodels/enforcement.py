"""The regulator dashboard's tables for complaints, suspensions and 慈善中国 (issue 16
points 15-16), each one grouped query or a short list: numbers only, never anything
about a complainant. ``charity.compliance.readmodels.dashboard.build_tables`` adds them."""

from __future__ import annotations

from datetime import UTC, date
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from charity.core.clock import cst_date
from charity.models import Campaign, Organization
from charity.models.disclosure import Disclosure
from charity.models.enforcement import (
    OPEN_STATUSES,
    CampaignSuspension,
    CnchinaEntry,
    Complaint,
)

TABLES = ("complaints", "suspensions", "cnchina")
Table = tuple[list[str], list[list[Any]]]


def complaints_table(session: Session, today: date, province: str | None) -> Table:
    """Per province: complaints, open, overdue (open after the reply clock), replied late."""
    is_open = Complaint.status.in_(OPEN_STATUSES)
    late = Complaint.replied_on > Complaint.reply_due_on
    query = (
        select(
            Organization.province,
            func.count(Complaint.id),
            func.sum(case((is_open, 1), else_=0)),
            func.sum(case((is_open & (Complaint.reply_due_on < today), 1), else_=0)),
            func.sum(case((late, 1), else_=0)),
        )
        .join(Organization, Organization.id == Complaint.organization_id)
        .group_by(Organization.province)
        .order_by(Organization.province)
    )
    if province:
        query = query.where(Organization.province == province)
    rows = [
        [p, int(n), int(o or 0), int(d or 0), int(x or 0)]
        for p, n, o, d, x in session.execute(query)
    ]
    return ["province", "complaints", "open", "overdue", "replied_late"], rows


def suspensions_table(session: Session, province: str | None, limit: int | None) -> Table:
    """Campaigns suspended now, most recent first."""
    query = (
        select(
            CampaignSuspension,
            Campaign.title,
            Organization.name,
            Organization.uscc,
            Organization.province,
        )
        .join(Campaign, Campaign.id == CampaignSuspension.campaign_id)
        .join(Organization, Organization.id == Campaign.organization_id)
        .where(CampaignSuspension.lifted_at.is_(None))
        .order_by(CampaignSuspension.suspended_at.desc())
        .limit(limit)
    )
    if province:
        query = query.where(Organization.province == province)
    rows = [
        [
            s.campaign_id,
            title,
            org,
            uscc,
            prov,
            cst_date(s.suspended_at).isoformat(),
            s.reason,
            s.complaint_id,
        ]
        for s, title, org, uscc, prov in session.execute(query)
    ]
    headers = [
        "campaign_id",
        "campaign",
        "organization",
        "uscc",
        "province",
        "suspended_on",
        "reason",
        "complaint_id",
    ]
    return headers, rows


def status_by_type(session: Session, province: str | None) -> tuple[list[str], list[list[Any]]]:
    """The dashboard's table: per disclosure type, how many published disclosures there
    are and how many of them are also on 慈善中国 (one grouped query)."""
    on_both = func.sum(case((CnchinaEntry.id.is_not(None), 1), else_=0))
    query = (
        select(Disclosure.disclosure_type, func.count(Disclosure.id), on_both)
        .outerjoin(CnchinaEntry, CnchinaEntry.disclosure_id == Disclosure.id)
        .group_by(Disclosure.disclosure_type)
        .order_by(Disclosure.disclosure_type)
    )
    if province:
        query = query.join(Organization, Organization.id == Disclosure.organization_id).where(
            Organization.province == province
        )
    body = [
        [kind, int(total), int(both or 0), int(total) - int(both or 0)]
        for kind, total, both in session.execute(query)
    ]
    return ["disclosure_type", "published", "on_cnchina", "not_on_cnchina"], body


def enforcement_tables(
    session: Session, today: date, province: str | None, limit: int | None
) -> dict[str, Table]:
    return {
        "complaints": complaints_table(session, today, province),
        "suspensions": suspensions_table(session, province, limit),
        "cnchina": status_by_type(session, province),
    }


def feed_items(session: Session, today: date, size: int, url: Any) -> list[dict[str, Any]]:
    """The compliance feed's entries for suspensions (and their lifting) and complaints
    (what about, when, the reply clock, whether overdue: never the complainant, the text
    or the reply). ``url(endpoint, **values)`` makes public links."""
    suspensions = session.execute(
        select(CampaignSuspension, Campaign, Organization)
        .join(Campaign, Campaign.id == CampaignSuspension.campaign_id)
        .join(Organization, Organization.id == Campaign.organization_id)
        .order_by(CampaignSuspension.suspended_at.desc())
        .limit(size)
    ).all()
    complaints = session.execute(
        select(Complaint, Organization)
        .join(Organization, Organization.id == Complaint.organization_id)
        .order_by(Complaint.received_at.desc())
        .limit(size)
    ).all()
    items = []
    for suspension, campaign, org in suspensions:
        base = {
            "organization": _org(org), "campaign_id": campaign.id, "campaign": campaign.title,
            "reason": suspension.reason, "url": url("campaigns.show", campaign_id=campaign.id),
        }  # fmt: skip
        items.append(
            _at(
                {**base, "id": f"suspension:{suspension.id}", "type": "suspension"},
                suspension.suspended_at,
            )
        )
        if suspension.lifted_at is not None:
            lifted = {
                **base,
                "id": f"suspension_lifted:{suspension.id}",
                "type": "suspension_lifted",
            }
            items.append(_at(lifted, suspension.lifted_at))
    for complaint, org in complaints:
        item = {
            "id": f"complaint:{complaint.id}", "type": "complaint", "organization": _org(org),
            "category": complaint.category, "received_on": complaint.received_on.isoformat(),
            "reply_due_on": complaint.reply_due_on.isoformat(), "status": complaint.status,
            "overdue": complaint.is_overdue_on(today), "url": url("orgs.show", org_id=org.id),
        }  # fmt: skip
        items.append(_at(item, complaint.received_at))
    return items


def _org(org: Organization) -> dict[str, Any]:
    return {"id": org.id, "name": org.name, "uscc": org.uscc}


def _at(item: dict[str, Any], moment: Any) -> dict[str, Any]:
    item["at"] = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    item["_at"] = moment
    return item
