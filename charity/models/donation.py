"""Donations (捐赠): every gift, whatever the channel, with its Stripe ids and receipt."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from charity.extensions import db
from charity.models.base import TimestampMixin, UTCDateTime, utcnow
from charity.models.campaign import Campaign
from charity.models.fund import Fund
from charity.models.organization import Organization
from charity.models.statuses import status_guard
from charity.models.user import User

DONATION_CHANNELS = (
    "online_card",
    "online_wechatpay",
    "online_alipay",
    "recurring",
    "bank_transfer",
    "cash_box",
    "in_kind",
)
DONATION_STATUSES = ("pending", "succeeded", "failed", "refunded", "partially_refunded", "reversed")


class Donation(TimestampMixin, db.Model):
    __tablename__ = "donations"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("refunded_fen >= 0 AND refunded_fen <= amount_fen", name="refund_bounds"),
        CheckConstraint(f"channel IN {DONATION_CHANNELS!r}", name="channel"),
        CheckConstraint(f"status IN {DONATION_STATUSES!r}", name="status"),
        # a gift goes to a campaign, a fund, or (neither) the organization itself.
        CheckConstraint("campaign_id IS NULL OR fund_id IS NULL", name="one_target"),
        UniqueConstraint("stripe_payment_intent_id"),
        UniqueConstraint("organization_id", "receipt_year", "receipt_seq"),
        UniqueConstraint("receipt_number"),
        Index("ix_donations_campaign_status", "campaign_id", "status"),
        Index("ix_donations_donor_user_id", "donor_user_id"),
        Index("ix_donations_donor_email", "donor_email"),
        UniqueConstraint("public_token"),
        # --- monthly gifts (one Donation per paid invoice) ---
        UniqueConstraint("stripe_invoice_id"),
        # --- wallet orders ---
        UniqueConstraint("payment_provider", "provider_order_no"),
        Index("ix_donations_team_id", "team_id"),
        Index("ix_donations_pledge_id", "pledge_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The receiving organization (merchant of record); for campaigns, the qualified owner.
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), nullable=False)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    #: a gift to a community fund (charity.models.fund) instead of a campaign.
    fund_id: Mapped[int | None] = mapped_column(ForeignKey("funds.id"))
    amount_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="CNY")
    #: Total refunded so far; never above amount_fen.
    refunded_fen: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    channel: Mapped[str] = mapped_column(String(20), nullable=False, default="online_card")
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="pending")
    #: Set when a logged-in donor gave, or a guest later claimed the gift.
    donor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: Personal data (private): erased on request, leaving the commitment in the log.
    donor_name: Mapped[str | None] = mapped_column(String(100))
    donor_email: Mapped[str | None] = mapped_column(String(254))
    #: The donor asked not to be named anywhere public.
    is_anonymous: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    #: CL 82: the donor's name appears publicly only with this consent.
    consent_show_name: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    #: Optional message (留言), shown on the donor wall: length-capped and refused when it
    #: carries contact spam (charity.services.gift_messages); escaped wherever shown.
    message: Mapped[str] = mapped_column(Text, nullable=False, default="")
    #: The organization hid the message from the public pages, with a reason (logged).
    message_hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    message_hidden_reason: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    message_hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: Visitors reported the message: it waits in the organization's queue.
    message_reports: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    message_reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: 256-bit random salt (hex) for the donor commitment; None once erased.
    commitment_salt: Mapped[str | None] = mapped_column(String(64))
    #: SHA-256(salt ‖ canonical donor data), hex; public in the log.
    donor_commitment: Mapped[str | None] = mapped_column(String(64))
    stripe_account_id: Mapped[str | None] = mapped_column(String(64))
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(64))
    #: The SetupIntent of the current card attempt and its client secret: created once per
    #: attempt and shown again on every visit of the card page (issue 15 point 3), replaced
    #: only after our confirm endpoint used it.
    stripe_setup_intent_id: Mapped[str | None] = mapped_column(String(64))
    stripe_setup_secret: Mapped[str | None] = mapped_column(String(255))
    #: The charge that settled the PaymentIntent (refund webhooks may name only it).
    stripe_charge_id: Mapped[str | None] = mapped_column(String(64))
    #: Unguessable token for the guest's receipt URL (/donations/<token>).
    public_token: Mapped[str] = mapped_column(
        String(43), nullable=False, default=lambda: secrets.token_urlsafe(32)
    )
    failure_message: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    succeeded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: CL 38 receipt: "<org code>-<year>-<6-digit seq>", gapless per organization and year.
    receipt_number: Mapped[str | None] = mapped_column(String(40))
    receipt_year: Mapped[int | None] = mapped_column(Integer)
    receipt_seq: Mapped[int | None] = mapped_column(Integer)
    #: Index of the donation.succeeded entry in the public log (for the receipt's proof link).
    log_index: Mapped[int | None] = mapped_column(BigInteger)
    #: The donor waived a receipt (recorded, per CL 38).
    receipt_waived: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    #: When a receipt was issued later, on the donor's request (the gift had been recorded
    #: without one): the log entries made before this moment show no receipt number.
    receipt_issued_late_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # --- monthly gifts ---
    #: The monthly gift this donation is one payment of (channel "recurring").
    recurring_gift_id: Mapped[int | None] = mapped_column(ForeignKey("recurring_gifts.id"))
    #: The paid Stripe invoice (unique: each invoice becomes at most one donation).
    stripe_invoice_id: Mapped[str | None] = mapped_column(String(64))
    # --- the provider that took (or is taking) the money ---
    #: stripe, wechatpay or alipay (None for gifts recorded offline).
    payment_provider: Mapped[str | None] = mapped_column(String(20), default="stripe")
    #: The organization's wallet merchant account the current order is at.
    merchant_account_id: Mapped[int | None] = mapped_column(ForeignKey("merchant_accounts.id"))
    #: The provider's id of the receiving account for that order (mchid, Alipay app id).
    provider_account: Mapped[str | None] = mapped_column(String(64))
    #: The current wallet order (out_trade_no); only it can make the donation succeed.
    provider_order_no: Mapped[str | None] = mapped_column(String(32))
    #: The provider's id of the payment (WeChat transaction_id, Alipay trade_no).
    provider_transaction_id: Mapped[str | None] = mapped_column(String(64))
    #: When the provider says the money was paid (its statement files it under that day).
    provider_paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: A provider event for this donation waits for its success (charity.models.payment
    #: ParkedEvent): confirm_payment applies it in the same transaction.
    has_parked_events: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # --- the finance bureau's receipt (issue 17 point 5) ---
    #: A company donor's unified social credit code (check digit validated), for the
    #: 公益事业捐赠统一票据 the organization issues; None for a person.
    donor_uscc: Mapped[str | None] = mapped_column(String(18))
    #: 发票抬头: the name the bill is made out to (a company's registered name).
    invoice_title: Mapped[str | None] = mapped_column(String(200))
    # --- team credit and pledge linking ---
    #: The team (一起捐) whose link the gift came through; the money is the campaign's.
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    #: The company pledge (认捐) this gift pays, linked by the organization.
    pledge_id: Mapped[int | None] = mapped_column(ForeignKey("pledges.id"))

    organization: Mapped[Organization] = relationship()
    campaign: Mapped[Campaign | None] = relationship()
    fund: Mapped[Fund | None] = relationship()
    donor_user: Mapped[User | None] = relationship(foreign_keys=[donor_user_id])

    @property
    def net_fen(self) -> int:
        return self.amount_fen - self.refunded_fen

    @property
    def public_name(self) -> str | None:
        """The name for the donor wall, or None for 爱心人士 / Anonymous donor."""
        if self.consent_show_name and not self.is_anonymous and self.donor_name:
            return self.donor_name
        return None

    _follow_transitions = validates("status")(status_guard("donation"))

    def __repr__(self) -> str:
        return f"<Donation {self.id} {self.amount_fen} {self.status}>"


class Refund(TimestampMixin, db.Model):
    """Money given back to a donor, made by us or (seen in a provider's notification) in the
    provider's own dashboard or merchant platform."""

    __tablename__ = "refunds"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        UniqueConstraint("payment_provider", "provider_refund_id"),
        Index("ix_refunds_donation_id", "donation_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    donation_id: Mapped[int] = mapped_column(ForeignKey("donations.id"), nullable=False)
    amount_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="CNY")
    reason: Mapped[str] = mapped_column(String(500), nullable=False)
    #: The provider the money went back through (the donation's).
    payment_provider: Mapped[str] = mapped_column(String(20), nullable=False, default="stripe")
    #: The provider's id of the refund: Stripe's re_... once Stripe accepted it; for the
    #: wallets our out_refund_no / out_request_no (set before the provider is asked).
    provider_refund_id: Mapped[str | None] = mapped_column(String(64))
    #: The finance member who refunded; None for refunds made in Stripe's dashboard.
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    donation: Mapped[Donation] = relationship()
    created_by: Mapped[User | None] = relationship()


REFUND_REQUEST_STATUSES = ("pending", "approved", "rejected")


class RefundRequest(TimestampMixin, db.Model):
    """A refund above REFUND_FOUR_EYES_FEN waiting for a second person (issue 15, four
    eyes for money leaving): requested by one finance member or owner, made at the provider
    only when a different person approves it (charity.services.refund_approvals)."""

    __tablename__ = "refund_requests"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint(f"status IN {REFUND_REQUEST_STATUSES!r}", name="status"),
        CheckConstraint(
            "approved_by_id IS NULL OR approved_by_id <> requested_by_id", name="four_eyes"
        ),
        Index("ix_refund_requests_donation_id", "donation_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    donation_id: Mapped[int] = mapped_column(ForeignKey("donations.id"), nullable=False)
    amount_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="CNY")
    reason: Mapped[str] = mapped_column(String(500), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="pending")
    _follow_transitions = validates("status")(status_guard("refund_request"))
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    rejected_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rejection_reason: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    #: The refund made once approved.
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("refunds.id"))

    donation: Mapped[Donation] = relationship()
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    refund: Mapped[Refund | None] = relationship()


class ReceiptCounter(db.Model):
    """CL 38 receipt numbers: one row per organization and year, locked while numbering."""

    __tablename__ = "receipt_counters"

    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    #: The last number issued (0: none yet).
    last_seq: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class ProviderEvent(db.Model):
    """Every verified provider event id, stored once: a redelivery finds it and does nothing."""

    __tablename__ = "provider_events"

    #: Stripe's event id (evt_...); for the wallets "wechatpay:<id>" / "alipay:<notify_id>".
    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100), nullable=False)
    #: The account the event came from (Stripe's connected account; mchid or app id).
    account: Mapped[str | None] = mapped_column(String(64))
    #: applied, ignored, unchanged, parked (with detail).
    outcome: Mapped[str] = mapped_column(String(20), nullable=False, default="received")
    detail: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)


class WebhookRejection(db.Model):
    """A webhook request refused before it was trusted (unsigned, forged, stale)."""

    __tablename__ = "webhook_rejections"

    id: Mapped[int] = mapped_column(primary_key=True)
    reason: Mapped[str] = mapped_column(String(300), nullable=False)
    remote_addr: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    payload_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
