"""Money figures of campaigns and community funds, for disclosure drafts and for checking
published figures.

The current cash raised comes from the double-entry ledger (the money that actually
moved); counts, refunds and historical ``as_of`` figures come from the donation rows,
which `flask ledger check` proves agree with the ledger. A fund's yearly figures are
those of its statement (``charity.services.fund_statements``, every line a ledger entry
on the fund's accounts). These are the only place compliance code reads money.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from charity.models import Donation, Fund
from charity.services import ledger
from charity.services.fund_statements import build_statement

COUNTED = ("succeeded", "partially_refunded", "refunded")


def _sums(as_of: datetime | None):  # type: ignore[no-untyped-def]
    counted = Donation.status.in_(COUNTED)
    if as_of is not None:
        counted = counted & (Donation.succeeded_at < as_of)
    net = Donation.amount_fen - Donation.refunded_fen
    cash = counted & (Donation.channel != "in_kind")
    kind = counted & (Donation.channel == "in_kind")
    return (
        func.coalesce(func.sum(case((cash, net), else_=0)), 0),
        func.coalesce(func.sum(case((counted, Donation.refunded_fen), else_=0)), 0),
        func.coalesce(func.sum(case((counted & (Donation.status != "refunded"), 1), else_=0)), 0),
        func.coalesce(func.sum(case((kind, net), else_=0)), 0),
    )


def campaign_figures(
    session: Session, campaign_id: int, as_of: datetime | None = None
) -> dict[str, Any]:
    """raised (net of refunds, cash), refunded, gift count, in-kind, spent, balance — in fen.

    ``as_of`` (aware UTC, exclusive) limits to gifts that succeeded before it. Spending
    is 0 until disbursements exist.
    """
    raised, refunded, count, in_kind = session.execute(
        select(*_sums(as_of)).where(Donation.campaign_id == campaign_id)
    ).one()
    if as_of is None:
        raised = ledger.campaign_raised_fen(session, campaign_id)
    spent = 0
    return {
        "raised_fen": int(raised),
        "refunded_fen": int(refunded),
        "gift_count": int(count),
        "in_kind_fen": int(in_kind),
        "spent_fen": spent,
        "balance_fen": int(raised) - spent,
    }


def raised_by_campaign_query(campaign_ids_subquery, as_of_column):  # type: ignore[no-untyped-def]
    """A grouped SELECT (campaign_id, raised_fen) for the dashboard's mismatch check, so
    that comparing thousands of disclosures costs one query. ``as_of_column`` is a SQL
    expression (exclusive UTC bound, NULL = now) correlated per disclosure."""
    counted = Donation.status.in_(COUNTED) & (Donation.channel != "in_kind")
    counted = counted & ((as_of_column.is_(None)) | (Donation.succeeded_at < as_of_column))
    net = Donation.amount_fen - Donation.refunded_fen
    return func.coalesce(
        select(func.sum(case((counted, net), else_=0)))
        .where(Donation.campaign_id == campaign_ids_subquery)
        .correlate_except(Donation)
        .scalar_subquery(),
        0,
    )


def fund_statement_figures(session: Session, fund_id: int, year: int) -> dict[str, Any]:
    """A fund's statement for one calendar year (CST), as the fund page shows it: name,
    opening balance, money in, money out, closing balance — in fen."""
    fund = session.get(Fund, fund_id)
    if fund is None:
        return {}
    statement = build_statement(session, fund, year)
    return {
        "fund_name": fund.name,
        "opening_fen": statement.opening_fen,
        "income_fen": statement.inflow_fen,
        "spent_fen": statement.outflow_fen,
        "balance_fen": statement.closing_fen,
    }
