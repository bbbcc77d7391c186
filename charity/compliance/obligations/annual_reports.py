"""Annual work reports that really fulfil their obligation, and the yearly duty of
organizations without the qualification to publish their major projects (CL art. 13,
MCA Order 81; issue 16 point 13), for :mod:`charity.compliance.obligations.facts`.

A work report fulfils the obligation on the day its first *complete* version was
published: every required field filled, and for an organization qualified for public
fundraising during the year (the version's stored basis ``_qualified``) the five
best-paid people and the expense standards too. Reports published before these fields
existed count once a correction completes them.
"""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from charity.compliance.rules import law as r
from charity.compliance.rules.fields import missing_fields
from charity.core.clock import cst_date
from charity.models.disclosure import Disclosure, DisclosureVersion


def complete_work_reports(session: Session, where) -> dict[int, date | None]:  # type: ignore[no-untyped-def]
    """disclosure id -> the CST day its first complete version was published (None: no
    version is complete), for the annual work reports of the organizations ``where``
    selects. One query."""
    rows = session.execute(
        select(
            DisclosureVersion.disclosure_id,
            DisclosureVersion.version,
            DisclosureVersion.published_at,
            DisclosureVersion.fields_json,
        )
        .join(Disclosure, Disclosure.id == DisclosureVersion.disclosure_id)
        .where(
            Disclosure.disclosure_type == r.ANNUAL_WORK_REPORT,
            where(Disclosure.organization_id),
        )
        .order_by(DisclosureVersion.disclosure_id, DisclosureVersion.version)
    ).all()
    found: dict[int, date | None] = {}
    for disclosure_id, _version, published_at, fields_json in rows:
        if found.get(disclosure_id) is not None:
            continue
        complete = not missing_fields(r.ANNUAL_WORK_REPORT, json.loads(fields_json))
        found[disclosure_id] = cst_date(published_at) if complete else None
    return found
