"""Obligations as read: today's status in SQL, an organization's list, counts by status.

:func:`status_expression` is :func:`charity.compliance.rules.deadlines.status_of` as a SQL
CASE over the obligations table, so lists and dashboards filter and count by status in
the database.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from charity.compliance.rules.deadlines import DUE_SOON_DAYS
from charity.models.disclosure import Obligation


def status_expression(today: date):  # type: ignore[no-untyped-def]
    """The same as status_of, as a SQL CASE over the obligations table."""
    fulfilled = Obligation.fulfilled_on.is_not(None)
    return case(
        (fulfilled & (Obligation.fulfilled_on <= Obligation.due_date), "on_time"),
        (fulfilled, "late"),
        (Obligation.due_date < today, "overdue"),
        (Obligation.due_date <= today + timedelta(days=DUE_SOON_DAYS), "due_soon"),
        else_="upcoming",
    )


def obligations_for_org(session: Session, org_id: int, today: date) -> list[tuple[Obligation, str]]:
    """An organization's obligations, newest deadline first, with today's status."""
    rows = session.execute(
        select(Obligation, status_expression(today))
        .where(Obligation.organization_id == org_id)
        .order_by(Obligation.due_date.desc(), Obligation.key)
    ).all()
    return [(row[0], row[1]) for row in rows]


def by_status(items: Iterable[tuple[Obligation, str]]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for _obligation, status in items:
        counts[status] += 1
    return dict(counts)
