"""Disbursements (拨付/支出) from a campaign or a fund, and the FIFO allocation of spending.

State machine: requested -> approved -> executed, or requested -> rejected. Approval
reserves the amount (the pool's available balance is its ledger balance minus approved,
not yet executed requests); execution moves the money in the ledger.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from charity.extensions import db
from charity.models.base import TimestampMixin, UTCDateTime
from charity.models.campaign import Campaign
from charity.models.fund import Fund
from charity.models.organization import Organization
from charity.models.statuses import TRANSITIONS, can_transition, status_guard
from charity.models.user import User

DISBURSEMENT_STATUSES = ("requested", "approved", "rejected", "executed")
DISBURSEMENT_TRANSITIONS = TRANSITIONS["disbursement"]
PURPOSE_CATEGORIES = (
    "medical_supplies",
    "epidemic_supplies",
    "food",
    "education",
    "elderly_care",
    "disaster_relief",
    "community_services",
    "other",
)
BENEFICIARY_KINDS = ("organization", "individual")


class Disbursement(TimestampMixin, db.Model):
    __tablename__ = "disbursements"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint(f"status IN {DISBURSEMENT_STATUSES!r}", name="status"),
        CheckConstraint(f"purpose_category IN {PURPOSE_CATEGORIES!r}", name="purpose_category"),
        CheckConstraint(f"beneficiary_kind IN {BENEFICIARY_KINDS!r}", name="beneficiary_kind"),
        CheckConstraint("(campaign_id IS NULL) <> (fund_id IS NULL)", name="exactly_one_source"),
        #: Four eyes, also in the schema: nobody approves their own request.
        CheckConstraint(
            "approved_by_id IS NULL OR approved_by_id <> requested_by_id", name="four_eyes"
        ),
        Index("ix_disbursements_campaign_id", "campaign_id"),
        Index("ix_disbursements_fund_id", "fund_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The organization that pays (campaign owner or fund host).
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), nullable=False)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    fund_id: Mapped[int | None] = mapped_column(ForeignKey("funds.id"))
    amount_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="CNY")
    purpose_category: Mapped[str] = mapped_column(String(30), nullable=False)
    #: Public description, e.g. "口罩 2 万只、消毒液 500 瓶，发放至北京街道各社区".
    purpose: Mapped[str] = mapped_column(Text, nullable=False)
    beneficiary_kind: Mapped[str] = mapped_column(String(16), nullable=False)
    #: An organization on the platform (optional even for organizations).
    beneficiary_organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    #: For organizations: the public name. For individuals: PRIVATE, never shown publicly.
    beneficiary_name: Mapped[str] = mapped_column(String(200), nullable=False)
    #: Evidence file (content-checked), stored under UPLOAD_DIR by its SHA-256.
    evidence_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    evidence_content_type: Mapped[str] = mapped_column(String(50), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="requested")
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rejected_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rejection_reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    executed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    executed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The bank transfer or voucher number of the actual payment.
    payment_reference: Mapped[str] = mapped_column(String(100), nullable=False, default="")

    organization: Mapped[Organization] = relationship(foreign_keys=[organization_id])
    campaign: Mapped[Campaign | None] = relationship()
    fund: Mapped[Fund | None] = relationship()
    beneficiary_organization: Mapped[Organization | None] = relationship(
        foreign_keys=[beneficiary_organization_id]
    )
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])

    @property
    def public_beneficiary(self) -> str:
        """Organizations by name; individuals only as an anonymized label (受助人A-0012)."""
        if self.beneficiary_kind == "organization":
            return self.beneficiary_name
        return f"受助人A-{self.id:04d}"

    @property
    def source_label(self) -> str:
        if self.fund is not None:
            return self.fund.name
        return self.campaign.title if self.campaign is not None else ""

    def can_transition_to(self, status: str) -> bool:
        return status != self.status and can_transition("disbursement", self.status, status)

    _follow_transitions = validates("status")(status_guard("disbursement"))

    def __repr__(self) -> str:
        return f"<Disbursement {self.id} {self.amount_fen} {self.status}>"


class SpendingAllocation(db.Model):
    """What the pages show of "where did my gift go": spending allocated FIFO to sources.

    Rewritten for a pool (campaign or fund) whenever its spending or refunds change, by
    ``charity.services.allocation.store_allocation``; ``flask ledger check`` recomputes it
    from the ledger and compares. Sources and uses are named by ledger ``source_key``
    ("donation:12", "fund_transfer:3"; "disbursement:5", "fund_transfer:4").
    """

    __tablename__ = "spending_allocations"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("pool_kind IN ('campaign', 'fund')", name="pool_kind"),
        UniqueConstraint("pool_kind", "pool_id", "source_key", "use_key"),
        Index("ix_spending_allocations_donation_id", "donation_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pool_kind: Mapped[str] = mapped_column(String(10), nullable=False)
    pool_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    source_key: Mapped[str] = mapped_column(String(60), nullable=False)
    use_key: Mapped[str] = mapped_column(String(60), nullable=False)
    #: Set when the source is a gift (for the donor's receipt page).
    donation_id: Mapped[int | None] = mapped_column(ForeignKey("donations.id"))
    #: Set when the use is a disbursement.
    disbursement_id: Mapped[int | None] = mapped_column(ForeignKey("disbursements.id"))
    amount_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="CNY")
