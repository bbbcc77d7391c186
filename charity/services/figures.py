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

from sqlalchemy import case, func, select, type_coerce
from sqlalchemy.orm import Session

from charity.models import Donation, Fund, Refund
from charity.models.base import UTCDateTime
from charity.models.ledger import LedgerAccount, LedgerEntry, LedgerTransaction
from charity.services import ledger
from charity.services.fund_statements import build_statement

COUNTED = ("succeeded", "partially_refunded", "refunded")


def _later_refunds(as_of: datetime):  # type: ignore[no-untyped-def]
    """Per donation, the refunds recorded at or after ``as_of`` (not yet true then)."""
    return (
        select(Refund.donation_id, func.sum(Refund.amount_fen).label("later_fen"))
        .where(Refund.created_at >= as_of)
        .group_by(Refund.donation_id)
        .subquery()
    )


def _sums(as_of: datetime | None, later=None):  # type: ignore[no-untyped-def]
    counted = Donation.status.in_(COUNTED)
    refunded = Donation.refunded_fen
    if as_of is not None:
        counted = counted & (Donation.succeeded_at < as_of)
        refunded = Donation.refunded_fen - func.coalesce(later.c.later_fen, 0)
    net = Donation.amount_fen - refunded
    cash = counted & (Donation.channel != "in_kind")
    kind = counted & (Donation.channel == "in_kind")
    return (
        func.coalesce(func.sum(case((cash, net), else_=0)), 0),
        func.coalesce(func.sum(case((counted, refunded), else_=0)), 0),
        func.coalesce(func.sum(case((counted & (refunded < Donation.amount_fen), 1), else_=0)), 0),
        func.coalesce(func.sum(case((kind, net), else_=0)), 0),
    )


def campaign_figures(
    session: Session, campaign_id: int, as_of: datetime | None = None
) -> dict[str, Any]:
    """raised (net of refunds, cash), refunded, gift count, in-kind, spent, balance — in fen.

    ``as_of`` (aware UTC, exclusive) limits to gifts that succeeded, and money spent,
    before it. Spending is what the ledger's spending accounts of the campaign hold:
    executed disbursements and any other expenditure posted there.
    """
    if as_of is None:
        query = select(*_sums(None))
    else:
        later = _later_refunds(as_of)
        query = select(*_sums(as_of, later)).outerjoin(later, later.c.donation_id == Donation.id)
    raised, refunded, count, in_kind = session.execute(
        query.where(Donation.campaign_id == campaign_id)
    ).one()
    if as_of is None:
        raised = ledger.campaign_raised_fen(session, campaign_id)
    spent = campaign_spent_fen(session, campaign_id, as_of)
    return {
        "raised_fen": int(raised),
        "refunded_fen": int(refunded),
        "gift_count": int(count),
        "in_kind_fen": int(in_kind),
        "spent_fen": spent,
        "balance_fen": int(raised) - spent,
    }


def _spent_sum():  # type: ignore[no-untyped-def]
    """SUM of the entries on campaign spending accounts (debits: money paid out)."""
    return (
        select(func.coalesce(func.sum(LedgerEntry.amount_fen), 0))
        .join(LedgerAccount, LedgerEntry.account_id == LedgerAccount.id)
        .join(LedgerTransaction, LedgerEntry.transaction_id == LedgerTransaction.id)
        .where(LedgerAccount.kind == "spending", LedgerAccount.fund_id.is_(None))
    )


def campaign_spent_fen(session: Session, campaign_id: int, as_of: datetime | None = None) -> int:
    """Money the campaign actually spent (executed disbursements and other expenditure
    posted to its spending account), before ``as_of`` when given."""
    query = _spent_sum().where(LedgerAccount.campaign_id == campaign_id)
    if as_of is not None:
        query = query.where(LedgerTransaction.created_at < as_of)
    return int(session.scalar(query) or 0)


def spent_by_campaign_query(campaign_ids_subquery, as_of_column):  # type: ignore[no-untyped-def]
    """Like :func:`raised_by_campaign_query`, for the money spent (correlated per row)."""
    return (
        _spent_sum()
        .where(
            LedgerAccount.campaign_id == campaign_ids_subquery,
            as_of_column.is_(None) | (LedgerTransaction.created_at < as_of_column),
        )
        .correlate_except(LedgerEntry, LedgerAccount, LedgerTransaction)
        .scalar_subquery()
    )


def raised_by_campaign_query(campaign_ids_subquery, as_of_column):  # type: ignore[no-untyped-def]
    """A correlated scalar (raised_fen) for the dashboard's mismatch check, so that
    comparing thousands of disclosures costs one query. ``as_of_column`` is a SQL
    expression (exclusive UTC bound, NULL = now) correlated per disclosure: gifts that
    succeeded before it, net of the refunds recorded before it."""
    before = (as_of_column.is_(None)) | (Donation.succeeded_at < as_of_column)
    counted = Donation.status.in_(COUNTED) & (Donation.channel != "in_kind") & before
    net = Donation.amount_fen - Donation.refunded_fen
    net_now = (
        select(func.sum(case((counted, net), else_=0)))
        .where(Donation.campaign_id == campaign_ids_subquery)
        .correlate_except(Donation)
        .scalar_subquery()
    )
    refunded_later = (
        select(func.sum(Refund.amount_fen))
        .join(Donation, Donation.id == Refund.donation_id)
        .where(
            Donation.campaign_id == campaign_ids_subquery,
            counted,
            as_of_column.is_not(None),
            Refund.created_at >= as_of_column,
        )
        .correlate_except(Donation, Refund)
        .scalar_subquery()
    )
    return func.coalesce(net_now, 0) + func.coalesce(refunded_later, 0)


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


def leftover_by_campaign(session: Session, bounds: dict[int, datetime]) -> dict[int, int]:
    """Leftover money (raised − spent, fen) of each campaign as of its bound (aware UTC,
    exclusive): the end of the day its project ended (Charity Law art. 58, issue 16
    point 2). Cash gifts that succeeded before the bound, net of the refunds recorded
    before it; spending posted before it. Three grouped queries per 500 campaigns."""
    found: dict[int, int] = {}
    items = sorted(bounds.items())
    for start in range(0, len(items), 500):
        chunk = dict(items[start : start + 500])
        ids = list(chunk)

        def bound(column, chunk=chunk):  # type: ignore[no-untyped-def]
            return type_coerce(case(chunk, value=column), UTCDateTime())

        cash = Donation.status.in_(COUNTED) & (Donation.channel != "in_kind")
        counted = cash & (Donation.succeeded_at < bound(Donation.campaign_id))
        net_now = dict(
            session.execute(
                select(
                    Donation.campaign_id,
                    func.sum(Donation.amount_fen - Donation.refunded_fen),
                )
                .where(Donation.campaign_id.in_(ids), counted)
                .group_by(Donation.campaign_id)
            ).all()
        )
        refunded_later = dict(
            session.execute(
                select(Donation.campaign_id, func.sum(Refund.amount_fen))
                .join(Donation, Donation.id == Refund.donation_id)
                .where(
                    Donation.campaign_id.in_(ids),
                    counted,
                    Refund.created_at >= bound(Donation.campaign_id),
                )
                .group_by(Donation.campaign_id)
            ).all()
        )
        spent = dict(
            session.execute(
                select(LedgerAccount.campaign_id, func.sum(LedgerEntry.amount_fen))
                .join(LedgerAccount, LedgerEntry.account_id == LedgerAccount.id)
                .join(LedgerTransaction, LedgerEntry.transaction_id == LedgerTransaction.id)
                .where(
                    LedgerAccount.kind == "spending",
                    LedgerAccount.fund_id.is_(None),
                    LedgerAccount.campaign_id.in_(ids),
                    LedgerTransaction.created_at < bound(LedgerAccount.campaign_id),
                )
                .group_by(LedgerAccount.campaign_id)
            ).all()
        )
        for cid in ids:
            raised = int(net_now.get(cid) or 0) + int(refunded_later.get(cid) or 0)
            found[cid] = raised - int(spent.get(cid) or 0)
    return found
