"""Drafts of the annual work report and of the major-projects report, pre-filled from
the books where the books know the answer (Charity Law art. 13, MCA Order 81; issue 16
point 13).

From the books: gifts received in the calendar year (CST; cash net of refunds, their
number, in-kind valuation), money spent on charitable activities (the organization's
ledger spending accounts: executed disbursements of campaigns and funds), the campaigns
that raised money that year (when, where, how), the charitable projects carried out
(charity.models.project) and, for the major-projects report, the projects marked major.
Not in the books, typed by the organization: fundraising costs, staff pay and benefits,
cooperation abroad, the five best-paid people and the expense standards.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from charity.compliance.rules import law as r
from charity.compliance.rules.dates import end_of_day_utc
from charity.models import Campaign, Donation
from charity.models.ledger import LedgerAccount, LedgerEntry, LedgerTransaction
from charity.models.project import CharitableProject
from charity.services import projects
from charity.services.figures import COUNTED


def _year_bounds(year: int):  # type: ignore[no-untyped-def]
    """[start, end) of the calendar year in CST, as aware UTC."""
    return end_of_day_utc(date(year - 1, 12, 31)), end_of_day_utc(date(year, 12, 31))


def gifts_of_year(session: Session, organization_id: int, year: int) -> dict[str, int]:
    start, end = _year_bounds(year)
    counted = Donation.status.in_(COUNTED)
    net = Donation.amount_fen - Donation.refunded_fen
    cash = Donation.channel != "in_kind"
    money, count, in_kind = session.execute(
        select(
            func.coalesce(func.sum(case((cash, net), else_=0)), 0),
            func.coalesce(
                func.sum(case((Donation.refunded_fen < Donation.amount_fen, 1), else_=0)), 0
            ),
            func.coalesce(func.sum(case((cash, 0), else_=net)), 0),
        ).where(
            Donation.organization_id == organization_id,
            counted,
            Donation.succeeded_at >= start,
            Donation.succeeded_at < end,
        )
    ).one()
    return {"gifts_received_fen": int(money), "gift_count": int(count), "in_kind_fen": int(in_kind)}


def spent_in_year(session: Session, organization_id: int, year: int) -> int:
    """Money paid out of the organization's spending accounts during the year."""
    start, end = _year_bounds(year)
    return int(
        session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.amount_fen), 0))
            .join(LedgerAccount, LedgerEntry.account_id == LedgerAccount.id)
            .join(LedgerTransaction, LedgerEntry.transaction_id == LedgerTransaction.id)
            .where(
                LedgerAccount.organization_id == organization_id,
                LedgerAccount.kind == "spending",
                LedgerTransaction.created_at >= start,
                LedgerTransaction.created_at < end,
            )
        )
        or 0
    )


def _campaign_lines(session: Session, organization_id: int, year: int) -> str:
    rows = session.scalars(
        select(Campaign)
        .where(
            Campaign.organization_id == organization_id,
            Campaign.status.in_(("published", "closed")),
            Campaign.start_date <= date(year, 12, 31),
            Campaign.end_date >= date(year, 1, 1),
        )
        .order_by(Campaign.start_date, Campaign.id)
    ).all()
    return "\n".join(
        f"《{c.title}》{c.start_date.isoformat()} 至 {c.end_date.isoformat()}，"
        f"{c.region}，{c.acceptance_methods}（备案编号 {c.filing_number}）"
        for c in rows
    )


def _projects_of_year(
    session: Session, organization_id: int, year: int, major_only: bool = False
) -> list[CharitableProject]:
    query = select(CharitableProject).where(
        CharitableProject.organization_id == organization_id,
        CharitableProject.start_date <= date(year, 12, 31),
        func.coalesce(CharitableProject.actual_end_date, CharitableProject.planned_end_date)
        >= date(year, 1, 1),
    )
    if major_only:
        query = query.where(CharitableProject.is_major.is_(True))
    return list(session.scalars(query.order_by(CharitableProject.start_date)))


def _project_lines(rows: list[CharitableProject]) -> str:
    return "\n".join(
        f"《{p.title}》{p.start_date.isoformat()} 至 {p.end_date.isoformat()}" for p in rows
    )


def draft(
    session: Session, disclosure_type: str, organization_id: int, year: int
) -> dict[str, Any]:
    """The pre-filled fields of an annual work report or a major-projects report."""
    if disclosure_type == r.MAJOR_PROJECTS:
        major = _projects_of_year(session, organization_id, year, major_only=True)
        _start, end = _year_bounds(year)
        spent = sum(projects.project_figures(session, p.id, end)["spent_fen"] for p in major)
        return {"projects": _project_lines(major), "project_count": len(major), "spent_fen": spent}
    running = _projects_of_year(session, organization_id, year)
    return {
        **gifts_of_year(session, organization_id, year),
        "spent_fen": spent_in_year(session, organization_id, year),
        "fundraising": _campaign_lines(session, organization_id, year),
        "projects": _project_lines(running),
        "project_count": len(running),
    }
