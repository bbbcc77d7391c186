"""Pools: a campaign or a community fund, the two things money is raised for and spent from.

One place for what both share: the row lock that serializes spending, the ledger balance,
and the amount reserved by approved (not yet executed) disbursements.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from charity.models import Campaign, Disbursement, Donation, Fund, LedgerAccount, LedgerEntry
from charity.services import ledger
from charity.services.givingdays import release_preview
from charity.web.i18n import N_


@dataclass(frozen=True)
class Pool:
    #: "campaign" or "fund".
    kind: str
    id: int

    @property
    def account_column(self) -> sa.orm.InstrumentedAttribute:
        return LedgerAccount.fund_id if self.kind == "fund" else LedgerAccount.campaign_id


def pool_of_donation(donation: Donation) -> Pool | None:
    if donation.fund_id is not None:
        return Pool("fund", donation.fund_id)
    if donation.campaign_id is not None:
        return Pool("campaign", donation.campaign_id)
    return None


def pool_of_disbursement(disbursement: Disbursement) -> Pool:
    if disbursement.fund_id is not None:
        return Pool("fund", disbursement.fund_id)
    return Pool("campaign", disbursement.campaign_id or 0)


def lock_pool(session: Session, pool: Pool) -> Campaign | Fund:
    """Lock the campaign or fund row (FOR UPDATE on PostgreSQL): every spending decision
    on the pool (approval, execution, transfer out, refund) holds this lock, so two of them
    never both see the same money as available. SQLite serializes writers anyway."""
    model = Fund if pool.kind == "fund" else Campaign
    # FOR NO KEY UPDATE: as exclusive as FOR UPDATE between lockers, but rows inserted
    # with a foreign key to the campaign (a giving day's match, made under a matching
    # pool's lock) only take KEY SHARE on it and do not wait (no lock cycle with a
    # refund that holds this lock and waits for the matching pool).
    row = session.scalars(
        sa.select(model)
        .where(model.id == pool.id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).one_or_none()
    if row is None:
        raise LookupError(f"{pool.kind} {pool.id}")
    return row


def pool_balance(session: Session, pool: Pool, currency: str = "CNY") -> int:
    """Money in the pool now, from the ledger (its net-asset accounts are credit-normal)."""
    total = session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount_fen), 0))
        .join(LedgerAccount, LedgerEntry.account_id == LedgerAccount.id)
        .where(pool.account_column == pool.id, LedgerAccount.currency == currency)
    )
    return -int(total or 0)


def reserved_fen(session: Session, pool: Pool, exclude_id: int | None = None) -> int:
    """Approved, not yet executed disbursements: promised, so no longer available."""
    column = Disbursement.fund_id if pool.kind == "fund" else Disbursement.campaign_id
    query = sa.select(sa.func.coalesce(sa.func.sum(Disbursement.amount_fen), 0)).where(
        column == pool.id, Disbursement.status == "approved"
    )
    if exclude_id is not None:
        query = query.where(Disbursement.id != exclude_id)
    return int(session.scalar(query) or 0)


def available_fen(session: Session, pool: Pool, exclude_id: int | None = None) -> int:
    return pool_balance(session, pool) - reserved_fen(session, pool, exclude_id)


def pool_account(
    session: Session, pool: Pool, kind: str, organization_id: int, currency: str = "CNY"
) -> LedgerAccount:
    if pool.kind == "fund":
        return ledger.get_account(session, kind, organization_id, currency, None, pool.id)
    return ledger.get_account(session, kind, organization_id, currency, pool.id)


def refund_refusal(session: Session, donation: Donation, amount_fen: int) -> str | None:
    """Why a refund of a restricted gift would overdraw its pool (None when it would not).

    Money already spent or promised to approved disbursements cannot be refunded; the
    pool's lock is taken so a racing approval waits for the refund.
    """
    pool = pool_of_donation(donation)
    if pool is None:
        return None
    lock_pool(session, pool)
    if amount_fen + release_preview(session, donation, amount_fen) > available_fen(session, pool):
        return N_("The refund is more than what is left unspent in the campaign or fund.")
    return None
