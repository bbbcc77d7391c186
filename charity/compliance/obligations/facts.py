"""The facts the rules need, loaded from the database in a fixed number of queries.

:func:`load_facts` reads organizations, campaigns (with the project they serve and their
leftover property), compliance triggers, published disclosures, community funds,
related-party list filings, charitable projects and trusts for one, many or all
organizations; charity.compliance.rules.deadlines turns them into obligations and
charity.compliance.obligations.refresh stores those.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from charity.compliance.obligations.annual_reports import complete_work_reports
from charity.compliance.rules import law as r
from charity.compliance.rules.dates import end_of_day_utc
from charity.compliance.rules.deadlines import (
    CampaignFacts,
    FundFacts,
    OrgFacts,
    Published,
    TriggerFacts,
)
from charity.compliance.rules.projects import ProjectFacts
from charity.compliance.rules.trusts import TrustFacts
from charity.core.clock import cst_date
from charity.models import (
    Campaign,
    CharitableProject,
    Fund,
    Organization,
    RelatedPartyListFiling,
)
from charity.models.disclosure import ComplianceTrigger, Disclosure
from charity.models.project import ProjectCampaign
from charity.models.trust import CharitableTrust, TrustSettlor
from charity.services.figures import leftover_by_campaign


def _verified_on(reviewed_at: datetime | None, created_at: datetime) -> date:
    return cst_date(reviewed_at or created_at)


def load_facts(session: Session, org_ids: list[int] | None, today: date):  # type: ignore[no-untyped-def]
    """Eleven queries, whatever the number of organizations, plus three per 500 campaigns
    whose project has ended (their leftover, CL art. 58)."""

    def only(column):  # type: ignore[no-untyped-def]
        return column.in_(org_ids) if org_ids is not None else True

    org_rows = session.execute(
        select(
            Organization.id,
            Organization.reviewed_at,
            Organization.created_at,
            Organization.registered_on,
            Organization.qualification_number,
            Organization.qualification_date,
            Organization.qualification_lost_on,
        ).where(Organization.status == "verified", only(Organization.id))
    ).all()
    orgs = [
        OrgFacts(i, legal or _verified_on(rev, cre), _verified_on(rev, cre), bool(num), since, lost)
        for i, rev, cre, legal, num, since, lost in org_rows
    ]
    verified = {org.id for org in orgs}
    campaign_rows = session.execute(
        select(
            Campaign.id,
            Campaign.organization_id,
            Campaign.partner_id,
            Campaign.start_date,
            Campaign.end_date,
            Campaign.closed_at,
            Campaign.is_emergency,
            Campaign.filing_date,
            Campaign.project_end_date,
        ).where(Campaign.status.in_(("published", "closed")), only(Campaign.organization_id))
    ).all()
    campaigns = [
        CampaignFacts(i, o, p, s, e, bool(em), f, cst_date(closed) if closed else None, pe)
        for i, o, p, s, e, closed, em, f, pe in campaign_rows
        if o in verified
    ]
    projects = load_projects(session, only, verified)
    campaigns = _serving_projects(campaigns, project_end_by_campaign(session, projects, only))
    campaigns = _with_leftovers(session, campaigns, today)
    triggers = [
        TriggerFacts(*row)
        for row in session.execute(
            select(
                ComplianceTrigger.id,
                ComplianceTrigger.organization_id,
                ComplianceTrigger.kind,
                ComplianceTrigger.occurred_on,
            ).where(only(ComplianceTrigger.organization_id))
        ).all()
        if row[1] in verified
    ]
    complete = complete_work_reports(session, only)
    published: Published = {
        (o, t, s, p): (i, complete[i] if t == r.ANNUAL_WORK_REPORT else cst_date(at))
        for i, o, t, s, p, at in session.execute(
            select(
                Disclosure.id,
                Disclosure.organization_id,
                Disclosure.disclosure_type,
                Disclosure.subject_key,
                Disclosure.period_key,
                Disclosure.first_published_at,
            ).where(only(Disclosure.organization_id))
        ).all()
        if t != r.ANNUAL_WORK_REPORT or complete.get(i) is not None
    }
    funds = [
        FundFacts(i, o, cst_date(created), cst_date(closed) if closed is not None else None)
        for i, o, created, closed in session.execute(
            select(Fund.id, Fund.organization_id, Fund.created_at, Fund.closed_at).where(
                only(Fund.organization_id)
            )
        ).all()
        if o in verified
    ]
    filings = {c.id: c.filing_date for c in campaigns}
    list_filings = {
        (o, str(y)): d
        for o, y, d in session.execute(
            select(
                RelatedPartyListFiling.organization_id,
                RelatedPartyListFiling.year,
                RelatedPartyListFiling.filed_on,
            ).where(only(RelatedPartyListFiling.organization_id))
        ).all()
    }
    trusts = load_trusts(session, verified, org_ids)
    return orgs, campaigns, triggers, published, filings, funds, list_filings, projects, trusts


def _serving_projects(
    campaigns: list[CampaignFacts], project_ends: dict[int, date]
) -> list[CampaignFacts]:
    """A campaign that serves a charitable project counts its leftover property from
    that project's last day (CL art. 58, issue 16 points 2 and 12), never before its own
    fundraising ended."""
    return [
        replace(c, project_end_date=max(project_ends[c.id], c.effective_end))
        if c.id in project_ends
        else c
        for c in campaigns
    ]


def _with_leftovers(
    session: Session, campaigns: list[CampaignFacts], today: date
) -> list[CampaignFacts]:
    """Attach the leftover (raised − spent at the project's end) to each campaign whose
    project has ended (its last day is over, CST)."""
    ended = {c.id: end_of_day_utc(c.project_end) for c in campaigns if c.project_end < today}
    if not ended:
        return campaigns
    leftovers = leftover_by_campaign(session, ended)
    return [replace(c, leftover_fen=leftovers[c.id]) if c.id in leftovers else c for c in campaigns]


def load_projects(session: Session, where, verified: set[int]) -> list[ProjectFacts]:  # type: ignore[no-untyped-def]
    """The projects of verified organizations; ``where`` limits the organizations."""
    rows = session.execute(
        select(
            CharitableProject.id,
            CharitableProject.organization_id,
            CharitableProject.start_date,
            CharitableProject.planned_end_date,
            CharitableProject.actual_end_date,
        ).where(where(CharitableProject.organization_id))
    ).all()
    return [ProjectFacts(*row) for row in rows if row[1] in verified]


def project_end_by_campaign(
    session: Session, projects: list[ProjectFacts], where
) -> dict[int, date]:  # type: ignore[no-untyped-def]
    """campaign id -> the last day of the project it serves (for leftover property,
    CL art. 58: counted from the end of the project the money serves)."""
    if not projects:
        return {}
    ends = {p.id: p.end for p in projects}
    rows = session.execute(
        select(ProjectCampaign.campaign_id, ProjectCampaign.project_id)
        .join(CharitableProject, CharitableProject.id == ProjectCampaign.project_id)
        .where(where(CharitableProject.organization_id))
    ).all()
    return {cid: ends[pid] for cid, pid in rows if pid in ends}


def load_trusts(
    session: Session, verified: set[int], org_ids: list[int] | None
) -> list[TrustFacts]:
    """Trusts with a verified charity as trustee or settlor (restricted to ``org_ids``
    when given). Two queries."""
    settlors: dict[int, list[int]] = {}
    for trust_id, org_id in session.execute(
        select(TrustSettlor.trust_id, TrustSettlor.organization_id).where(
            TrustSettlor.organization_id.is_not(None)
        )
    ):
        if org_id in verified and (org_ids is None or org_id in org_ids):
            settlors.setdefault(trust_id, []).append(org_id)
    found = []
    for trust_id, established, term_end, trustee in session.execute(
        select(
            CharitableTrust.id,
            CharitableTrust.established_on,
            CharitableTrust.term_end,
            CharitableTrust.trustee_org_id,
        )
    ):
        keep_trustee = trustee in verified and (org_ids is None or trustee in org_ids)
        facts = TrustFacts(
            trust_id,
            established,
            term_end,
            trustee if keep_trustee else None,
            tuple(sorted(set(settlors.get(trust_id, [])))),
        )
        if facts.trustee_org_id is not None or facts.settlor_org_ids:
            found.append(facts)
    return found


def trust_org_ids(session: Session, trust_id: int) -> list[int]:
    """The charities on the platform a trust concerns (trustee and settlors)."""
    ids = {
        org_id
        for org_id in session.scalars(
            select(TrustSettlor.organization_id).where(TrustSettlor.trust_id == trust_id)
        )
        if org_id is not None
    }
    trustee = session.scalar(
        select(CharitableTrust.trustee_org_id).where(CharitableTrust.id == trust_id)
    )
    if trustee is not None:
        ids.add(trustee)
    return sorted(ids)
