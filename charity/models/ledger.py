"""The double-entry ledger: accounts, transactions, and entries that sum to zero.

Sign convention: an entry's ``amount_fen`` is positive for a debit and negative for a
credit. Every transaction's entries sum to zero per currency (charity.services.ledger
enforces it on write; ``flask ledger check`` proves it afterwards).

Accounts (one row each, found by ``key``):
- ``clearing``      per organization: money held at the org's Stripe account (asset).
- ``unrestricted``  per organization: gifts not tied to a campaign (net assets).
- ``restricted``    per campaign: gifts restricted to that campaign (net assets).
- ``refunds``       per campaign or organization: contra account for money given back.
- ``spending``      per campaign or fund: money paid out by executed disbursements.
Fund accounts (``fund_id`` set, key "fund:<id>:<kind>:<currency>") are the restricted
sub-ledger of a community fund inside its host (charity.services.funds).

Giving days (charity.services.givingdays), per matching pool:
- ``match_commitment`` what the sponsor committed and has not paid yet (asset);
- ``match_received``   what the sponsor has paid (asset);
- ``match_pool``       committed money not allocated to a gift (credit-normal);
and per campaign ``matched``: matching money allocated to the campaign (net assets, apart
from ``restricted`` so "raised" stays the donors' own money).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from charity.extensions import db
from charity.models.base import UTCDateTime, utcnow

#: "in_kind" (net assets given as goods) and "in_kind_assets" (the goods held) keep
#: in-kind gifts out of every cash balance; "reversal" corrects a wrongly recorded gift.
ACCOUNT_KINDS = (
    "clearing",
    "unrestricted",
    "restricted",
    "refunds",
    "spending",
    "in_kind",
    "in_kind_assets",
    # a matching pool's accounts (key "matchpool:<id>:<kind>:<currency>", held
    # by the pool's organization) and the campaign's matched money.
    "match_commitment",
    "match_received",
    "match_pool",
    "matched",
)
TRANSACTION_KINDS = (
    "donation",
    "refund",
    "disbursement",
    "transfer",
    "in_kind",
    "reversal",
    "match_commitment",
    "match_receipt",
    "match",
    "match_release",
)


class LedgerAccount(db.Model):
    __tablename__ = "ledger_accounts"
    __table_args__ = (
        CheckConstraint(f"kind IN {ACCOUNT_KINDS!r}", name="kind"),
        UniqueConstraint("key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stable identity, e.g. "org:3:clearing:CNY" or "campaign:7:restricted:CNY".
    key: Mapped[str] = mapped_column(String(100), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), nullable=False)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    # the community fund whose restricted sub-ledger this account is part of.
    fund_id: Mapped[int | None] = mapped_column(ForeignKey("funds.id"))
    currency: Mapped[str] = mapped_column(String(3), nullable=False)


class LedgerTransaction(db.Model):
    __tablename__ = "ledger_transactions"
    __table_args__ = (
        CheckConstraint(f"kind IN {TRANSACTION_KINDS!r}", name="kind"),
        #: One transaction per domain fact ("donation:12", "refund:5"): a second write fails.
        UniqueConstraint("source_key"),
        Index("ix_ledger_transactions_donation_id", "donation_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    source_key: Mapped[str] = mapped_column(String(60), nullable=False)
    donation_id: Mapped[int | None] = mapped_column(ForeignKey("donations.id"))
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("refunds.id"))
    description: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    entries: Mapped[list[LedgerEntry]] = relationship(
        back_populates="transaction", cascade="all, delete-orphan"
    )


class LedgerEntry(db.Model):
    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint("amount_fen <> 0", name="amount_nonzero"),
        Index("ix_ledger_entries_account_id", "account_id"),
        Index("ix_ledger_entries_transaction_id", "transaction_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(
        ForeignKey("ledger_transactions.id"), nullable=False
    )
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"), nullable=False)
    #: Debit positive, credit negative, in fen.
    amount_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)

    transaction: Mapped[LedgerTransaction] = relationship(back_populates="entries")
    account: Mapped[LedgerAccount] = relationship()
