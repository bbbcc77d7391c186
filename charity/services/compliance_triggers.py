"""A change of basic information or a major transaction starts a 30-day disclosure
obligation: the services that make such changes record a trigger here (below
``charity.services.disclosures``, which several of them sit under)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from charity.compliance.obligations.refresh import refresh_obligations
from charity.models.disclosure import ComplianceTrigger


def record_compliance_trigger(
    session: Session, organization_id: int, kind: str, occurred_on: date, description: str = ""
) -> ComplianceTrigger:
    """A change of basic information or a major transaction happened: a 30-day
    obligation starts. Called by the services that make such changes."""
    trigger = ComplianceTrigger(
        organization_id=organization_id,
        kind=kind,
        occurred_on=occurred_on,
        description=description[:300],
    )
    session.add(trigger)
    session.flush()  # the trigger id is part of the obligation key
    refresh_obligations(session, [organization_id])
    return trigger
