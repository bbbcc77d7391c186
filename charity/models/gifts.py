"""Gifts beyond the one-off card payment: monthly gifts (Stripe Subscriptions), offline
gifts (bank transfer, cash box) with their evidence."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from charity.extensions import db
from charity.models.base import TimestampMixin, UTCDateTime, utcnow
from charity.models.campaign import Campaign
from charity.models.organization import Organization
from charity.models.statuses import status_guard
from charity.models.user import User

RECURRING_STATUSES = ("pending", "active", "past_due", "canceled")


class RecurringGift(TimestampMixin, db.Model):
    """A monthly gift: a Stripe Subscription (Product + Plan) on the organization's account.

    Each paid invoice becomes its own Donation (channel ``recurring``).
    """

    __tablename__ = "recurring_gifts"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint(f"status IN {RECURRING_STATUSES!r}", name="status"),
        UniqueConstraint("stripe_subscription_id"),
        UniqueConstraint("public_token"),
        Index("ix_recurring_gifts_donor_user_id", "donor_user_id"),
        Index("ix_recurring_gifts_donor_email", "donor_email"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), nullable=False)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    #: The monthly amount.
    amount_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="CNY")
    #: pending (card not set up yet), active, past_due (last renewal failed), canceled.
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="pending")
    _follow_transitions = validates("status")(status_guard("recurring_gift"))
    donor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: Personal data (private), copied onto each monthly Donation; erased on request.
    donor_name: Mapped[str | None] = mapped_column(String(100))
    donor_email: Mapped[str | None] = mapped_column(String(254))
    is_anonymous: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    consent_show_name: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    message: Mapped[str] = mapped_column(Text, nullable=False, default="")
    receipt_waived: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    #: A company donor's USCC and 发票抬头 (issue 17 point 5), copied onto each monthly
    #: Donation so the organization can issue the finance bureau's receipt for every month.
    donor_uscc: Mapped[str | None] = mapped_column(String(18))
    invoice_title: Mapped[str | None] = mapped_column(String(200))
    stripe_account_id: Mapped[str | None] = mapped_column(String(64))
    stripe_customer_id: Mapped[str | None] = mapped_column(String(64))
    stripe_plan_id: Mapped[str | None] = mapped_column(String(64))
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(64))
    #: The SetupIntent of the current card attempt and its client secret (one per attempt).
    stripe_setup_intent_id: Mapped[str | None] = mapped_column(String(64))
    stripe_setup_secret: Mapped[str | None] = mapped_column(String(255))
    #: Unguessable token for the donor's page (/monthly/<token>).
    public_token: Mapped[str] = mapped_column(
        String(43), nullable=False, default=lambda: secrets.token_urlsafe(32)
    )
    #: Why the last renewal failed (shown to the donor with the update-card link).
    failure_message: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    canceled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    organization: Mapped[Organization] = relationship()
    campaign: Mapped[Campaign | None] = relationship()
    donor_user: Mapped[User | None] = relationship()


class RecurringFailure(db.Model):
    """A renewal invoice that could not be paid, recorded once per invoice."""

    __tablename__ = "recurring_failures"
    __table_args__ = (
        UniqueConstraint("stripe_invoice_id"),
        Index("ix_recurring_failures_gift", "recurring_gift_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recurring_gift_id: Mapped[int] = mapped_column(ForeignKey("recurring_gifts.id"), nullable=False)
    stripe_invoice_id: Mapped[str] = mapped_column(String(64), nullable=False)
    amount_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    message: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    recurring_gift: Mapped[RecurringGift] = relationship()


OFFLINE_KINDS = ("bank_transfer", "cash_box")


class OfflineGiftDetail(db.Model):
    """How an offline gift arrived, recorded by a finance member, with its evidence file."""

    __tablename__ = "offline_gift_details"
    __table_args__ = (
        CheckConstraint(f"kind IN {OFFLINE_KINDS!r}", name="kind"),
        CheckConstraint(
            "kind <> 'bank_transfer' OR bank_reference <> ''", name="bank_reference_given"
        ),
        CheckConstraint(
            "kind <> 'cash_box' OR (counted_by_1 <> '' AND counted_by_2 <> ''"
            " AND counted_by_1 <> counted_by_2)",
            name="counted_by_two",
        ),
        CheckConstraint(
            "confirmed_by_id IS NULL OR confirmed_by_id <> recorded_by_id", name="four_eyes"
        ),
    )

    donation_id: Mapped[int] = mapped_column(ForeignKey("donations.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    #: The day the money arrived (bank) or was counted (cash box).
    received_on: Mapped[date] = mapped_column(Date, nullable=False)
    #: Bank transfer: the bank's reference for the credit.
    bank_reference: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    #: Cash box: the event (e.g. 公益墟日), its place, and the two people who counted.
    event_name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    place: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    counted_by_1: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    counted_by_2: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    #: The evidence file, stored under UPLOAD_DIR by its SHA-256 (charity.services.uploads).
    evidence_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    evidence_content_type: Mapped[str] = mapped_column(String(50), nullable=False)
    evidence_size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    #: Above OFFLINE_FOUR_EYES_FEN a second person confirms the gift (its receipt number
    #: and public log entry come then) or declines it (charity.services.offline).
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    declined_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    recorded_by: Mapped[User] = relationship(foreign_keys=[recorded_by_id])


class InKindDetail(db.Model):
    """Goods given (物资): what, how many, and how the valuation (Donation.amount_fen) was
    made. Counted apart from cash: in-kind ledger accounts, never cash balances."""

    __tablename__ = "in_kind_details"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(
            "confirmed_by_id IS NULL OR confirmed_by_id <> recorded_by_id", name="four_eyes"
        ),
    )

    donation_id: Mapped[int] = mapped_column(ForeignKey("donations.id"), primary_key=True)
    description: Mapped[str] = mapped_column(String(300), nullable=False)
    quantity: Mapped[Decimal] = mapped_column(Numeric(14, 3), nullable=False)
    unit: Mapped[str] = mapped_column(String(20), nullable=False)
    #: How the value was set (invoice price, market price on a date, appraisal...).
    valuation_basis: Mapped[str] = mapped_column(String(300), nullable=False)
    received_on: Mapped[date] = mapped_column(Date, nullable=False)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    #: As for offline gifts: the second person above OFFLINE_FOUR_EYES_FEN.
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    declined_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DonationReversal(db.Model):
    """The correction of a wrongly recorded offline or in-kind gift: a new, reasoned,
    logged transaction that mirrors the original; the original is never edited away."""

    __tablename__ = "donation_reversals"
    __table_args__ = (UniqueConstraint("donation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    donation_id: Mapped[int] = mapped_column(ForeignKey("donations.id"), nullable=False)
    reason: Mapped[str] = mapped_column(String(500), nullable=False)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
