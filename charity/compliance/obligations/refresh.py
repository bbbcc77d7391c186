"""The obligations table kept in line with the rules (charity.compliance.rules).

:func:`refresh_obligations` loads the facts (charity.compliance.obligations.facts), derives
the obligations (charity.compliance.rules.deadlines.derive) and inserts, updates and
deletes rows for one, many or all organizations in a fixed number of queries; services
call it after changes, :func:`refresh_on_event` after events about organizations,
campaigns, projects, trusts and funds, and ``flask compliance refresh`` runs it daily (new
annual reports appear on January 1st).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict
from datetime import date

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from charity.compliance.obligations.facts import load_facts, trust_org_ids
from charity.compliance.rules.deadlines import derive
from charity.core.clock import today_cst
from charity.core.events import Event
from charity.models import Campaign, CharitableProject, Fund
from charity.models.disclosure import Obligation

_COMPARED = (
    "organization_id",
    "rule_code",
    "disclosure_type",
    "subject_key",
    "period_key",
    "campaign_id",
    "triggered_on",
    "due_date",
    "fulfilled_on",
    "disclosure_id",
)


def refresh_obligations(
    session: Session, org_ids: Iterable[int] | None = None, today: date | None = None
) -> dict[str, int]:
    """Bring the obligations table in line with the rules for these organizations
    (all when None). Returns counts of inserted, updated and deleted rows."""
    today = today or today_cst()
    ids = None if org_ids is None else sorted(set(org_ids))
    facts = load_facts(session, ids, today)
    orgs, campaigns, triggers, published, filings, funds, list_filings, projects, trusts = facts
    derived = derive(
        orgs, campaigns, triggers, published, filings, today, funds, list_filings, projects, trusts
    )
    wanted = {d.key: d for d in derived}
    query = select(Obligation.id, Obligation.key, *(getattr(Obligation, c) for c in _COMPARED))
    if ids is not None:
        query = query.where(Obligation.organization_id.in_(ids))
    existing = {row.key: row for row in session.execute(query).all()}
    inserts = [asdict(d) for key, d in wanted.items() if key not in existing]
    updates = [
        {"id": existing[key].id, **{c: getattr(d, c) for c in _COMPARED}}
        for key, d in wanted.items()
        if key in existing and any(getattr(d, c) != getattr(existing[key], c) for c in _COMPARED)
    ]
    stale = [row.id for key, row in existing.items() if key not in wanted]
    for chunk in _chunks(inserts, 5000):
        session.execute(insert(Obligation), chunk)
    if updates:
        session.execute(update(Obligation), updates)
    for chunk in _chunks(stale, 5000):
        session.execute(delete(Obligation).where(Obligation.id.in_(chunk)))
    return {"inserted": len(inserts), "updated": len(updates), "deleted": len(stale)}


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def refresh_on_event(session: Session, event: Event) -> None:
    """Keep obligations current when organizations, campaigns or community funds change
    (verified, published, created, closed ...), whoever records the event."""
    if event.subject_id is None:
        return
    if event.subject_table == "organizations":
        org_id: int | None = event.subject_id
    elif event.subject_table == "campaigns":
        org_id = session.scalar(
            select(Campaign.organization_id).where(Campaign.id == event.subject_id)
        )
    elif event.subject_table == "charitable_projects":
        org_id = session.scalar(
            select(CharitableProject.organization_id).where(
                CharitableProject.id == event.subject_id
            )
        )
    elif event.subject_table == "charitable_trusts":
        concerned = trust_org_ids(session, event.subject_id)
        if concerned:
            refresh_obligations(session, concerned)
        return
    elif event.subject_table == "funds":
        org_id = session.scalar(select(Fund.organization_id).where(Fund.id == event.subject_id))
    else:
        return
    if org_id is not None:
        refresh_obligations(session, [org_id])
