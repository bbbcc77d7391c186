"""Payment providers' side of a gift: merchant accounts, orders, events we could not apply
yet, and the daily reconciliation against each provider's statement."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
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
from charity.models.organization import Organization
from charity.models.statuses import status_guard
from charity.models.user import User

#: The providers a gift can be paid through (charity/payments has one module each).
PROVIDERS = ("stripe", "wechatpay", "alipay")
WALLET_PROVIDERS = ("wechatpay", "alipay")
#: How a donor pays: WeChat Pay Native (QR on a desktop), H5 (phone browser), JSAPI
#: (inside WeChat); Alipay page pay (desktop) and WAP (phone); a card through Stripe.
PAYMENT_METHODS = ("native", "h5", "jsapi", "page", "wap", "card")
ORDER_STATUSES = ("open", "paid", "closed", "failed")
PARKED_STATUSES = ("waiting", "unresolved", "applied", "dismissed")
RECONCILIATION_RUN_STATUSES = ("ok", "failed")
DIFFERENCE_KINDS = ("theirs_only", "ours_only", "amount", "status")


class MerchantAccount(TimestampMixin, db.Model):
    """An organization's own merchant account at one provider (WeChat Pay 商户号 or an
    Alipay app): gifts are paid straight into it. Secrets are encrypted at rest
    (charity.payments.secrets) and never shown again once saved."""

    __tablename__ = "merchant_accounts"
    __table_args__ = (
        CheckConstraint(f"provider IN {WALLET_PROVIDERS!r}", name="provider"),
        UniqueConstraint("organization_id", "provider"),
        UniqueConstraint("provider", "public_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), nullable=False)
    provider: Mapped[str] = mapped_column(String(20), nullable=False)
    #: The provider's id of the account: the 商户号 (mchid) or the Alipay app id.
    public_id: Mapped[str] = mapped_column(String(64), nullable=False)
    #: Non-secret settings as JSON (appid, certificate serial, platform public key id ...).
    settings_json: Mapped[str] = mapped_column(Text, nullable=False, default="{}")
    #: The secrets (API v3 key, private keys) as one encrypted token; never shown again.
    secrets_token: Mapped[str] = mapped_column(Text, nullable=False)
    #: Bumped on every change, so cached SDK clients of the old credentials are dropped.
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    organization: Mapped[Organization] = relationship()
    updated_by: Mapped[User | None] = relationship()


class PaymentOrder(TimestampMixin, db.Model):
    """One attempt to pay a donation at a wallet provider (its out_trade_no). A donation
    has at most one open order: starting again closes the previous one first."""

    __tablename__ = "payment_orders"
    __table_args__ = (
        CheckConstraint(f"provider IN {WALLET_PROVIDERS!r}", name="provider"),
        CheckConstraint(f"method IN {PAYMENT_METHODS!r}", name="method"),
        CheckConstraint(f"status IN {ORDER_STATUSES!r}", name="status"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        UniqueConstraint("provider", "order_no"),
        Index("ix_payment_orders_donation_id", "donation_id"),
        Index("ix_payment_orders_status_expires", "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    donation_id: Mapped[int] = mapped_column(ForeignKey("donations.id"), nullable=False)
    merchant_account_id: Mapped[int] = mapped_column(
        ForeignKey("merchant_accounts.id"), nullable=False
    )
    provider: Mapped[str] = mapped_column(String(20), nullable=False)
    method: Mapped[str] = mapped_column(String(10), nullable=False)
    #: Our order number at the provider (out_trade_no), unique per provider.
    order_no: Mapped[str] = mapped_column(String(32), nullable=False)
    amount_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="CNY")
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="open")
    _follow_transitions = validates("status")(status_guard("payment_order"))
    #: What the donor's browser needs: the code_url to draw, or the page to go to.
    pay_url: Mapped[str] = mapped_column(Text, nullable=False, default="")
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Why the provider said the payment failed, for the donor's page.
    failure_message: Mapped[str] = mapped_column(String(300), nullable=False, default="")

    merchant_account: Mapped[MerchantAccount] = relationship()


class ParkedEvent(TimestampMixin, db.Model):
    """A verified provider event that could not be applied when it arrived: nothing that
    happened at a provider is dropped (guarantee 4).

    ``waiting``: its precondition has not arrived yet (a refund before its payment's
    success) and it is applied, in the same transaction, when it does. ``unresolved``: it
    can never apply by itself (amounts that do not match, a refund the provider reports
    as failed): finance members see it, ``flask ledger check`` reports it, and a finance
    member closes it with a note once handled (``dismissed``)."""

    __tablename__ = "parked_events"
    __table_args__ = (
        CheckConstraint(f"provider IN {PROVIDERS!r}", name="provider"),
        CheckConstraint(f"status IN {PARKED_STATUSES!r}", name="status"),
        UniqueConstraint("provider", "event_key"),
        Index("ix_parked_events_donation_status", "donation_id", "status"),
        Index("ix_parked_events_org_status", "organization_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(20), nullable=False)
    #: What makes the event unique at its provider (a refund id, an event id).
    event_key: Mapped[str] = mapped_column(String(120), nullable=False)
    #: refund, payment.
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    donation_id: Mapped[int | None] = mapped_column(ForeignKey("donations.id"))
    #: The provider's id of the refund (Stripe re_..., WeChat out_refund_no, Alipay
    #: out_request_no) when the event is a refund.
    provider_refund_id: Mapped[str | None] = mapped_column(String(64))
    amount_fen: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="CNY")
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="waiting")
    _follow_transitions = validates("status")(status_guard("parked_event"))
    #: Why it was parked (shown to finance members).
    reason: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolution_note: Mapped[str] = mapped_column(String(500), nullable=False, default="")


class ReconciliationRun(TimestampMixin, db.Model):
    """One comparison of one account's statement for one day (China Standard Time) with
    our books; the latest run of a (provider, account, day) is the one that counts."""

    __tablename__ = "reconciliation_runs"
    __table_args__ = (
        CheckConstraint(f"provider IN {PROVIDERS!r}", name="provider"),
        CheckConstraint(f"status IN {RECONCILIATION_RUN_STATUSES!r}", name="status"),
        Index("ix_reconciliation_runs_day", "day"),
        Index("ix_reconciliation_runs_org_day", "organization_id", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), nullable=False)
    provider: Mapped[str] = mapped_column(String(20), nullable=False)
    #: The provider's id of the account (mchid, app id, acct_...).
    account: Mapped[str] = mapped_column(String(64), nullable=False)
    day: Mapped[date] = mapped_column(Date, nullable=False)
    #: ok (compared, zero or more differences) or failed (the statement could not be had).
    status: Mapped[str] = mapped_column(String(10), nullable=False)
    _follow_transitions = validates("status")(status_guard("reconciliation_run"))
    error: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    their_lines: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    our_lines: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    difference_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    #: SHA-256 of the statement as downloaded (evidence that can be re-fetched and checked).
    statement_sha256: Mapped[str] = mapped_column(String(64), nullable=False, default="")

    organization: Mapped[Organization] = relationship()
    differences: Mapped[list[ReconciliationDifference]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="ReconciliationDifference.id"
    )


class ReconciliationDifference(db.Model):
    """A line where the provider's statement and our books disagree, with both sides."""

    __tablename__ = "reconciliation_differences"
    __table_args__ = (
        CheckConstraint(f"kind IN {DIFFERENCE_KINDS!r}", name="kind"),
        Index("ix_reconciliation_differences_run_id", "run_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("reconciliation_runs.id"), nullable=False)
    #: theirs_only, ours_only, amount, status.
    kind: Mapped[str] = mapped_column(String(12), nullable=False)
    #: payment or refund.
    line_kind: Mapped[str] = mapped_column(String(10), nullable=False)
    #: The order number (out_trade_no, PaymentIntent) or refund number it is about.
    reference: Mapped[str] = mapped_column(String(64), nullable=False)
    donation_id: Mapped[int | None] = mapped_column(ForeignKey("donations.id"))
    their_amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    our_amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    #: The provider's line exactly as its statement has it (JSON), and ours.
    their_line: Mapped[str] = mapped_column(Text, nullable=False, default="")
    our_line: Mapped[str] = mapped_column(Text, nullable=False, default="")
    #: Set when a finance member applied the provider's record (a new ledger transaction).
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolution: Mapped[str] = mapped_column(String(500), nullable=False, default="")

    run: Mapped[ReconciliationRun] = relationship(back_populates="differences")


PAYOUT_CHANGE_STATUSES = ("pending", "applied", "cancelled")


class PayoutChange(TimestampMixin, db.Model):
    """A requested change of an organization's receiving account (issue 15 finding 12).

    Nothing changes at once: the new account (a Stripe account id, or a wallet's sealed
    credentials) waits here until ``effective_at`` (PAYOUT_CHANGE_DELAY_HOURS after the
    request; `flask payments apply-payout-changes` applies due ones) or until a second
    person approves it under the four-eyes rule; any owner or finance member may cancel it
    before. Gifts keep going to the old account meanwhile. Rows are never deleted: they are
    the history of who asked, who approved or cancelled, and when.
    """

    __tablename__ = "payout_changes"
    __table_args__ = (
        CheckConstraint(f"provider IN {PROVIDERS!r}", name="provider"),
        CheckConstraint(f"status IN {PAYOUT_CHANGE_STATUSES!r}", name="status"),
        CheckConstraint(
            "decided_by_id IS NULL OR status <> 'applied' OR decided_by_id <> requested_by_id",
            name="four_eyes",
        ),
        Index("ix_payout_changes_organization_id", "organization_id"),
        Index("ix_payout_changes_status_effective_at", "status", "effective_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), nullable=False)
    provider: Mapped[str] = mapped_column(String(20), nullable=False)
    #: The new account: ``acct_...`` for Stripe, the 商户号 or Alipay app id for wallets.
    public_id: Mapped[str] = mapped_column(String(64), nullable=False)
    #: Wallets: the non-secret settings (JSON) and the sealed secrets, as they will be stored.
    settings_json: Mapped[str] = mapped_column(Text, nullable=False, default="{}")
    secrets_token: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    _follow_transitions = validates("status")(status_guard("payout_change"))
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    #: When it takes effect without a second person.
    effective_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    #: Who approved it early or cancelled it (None: applied when due).
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    organization: Mapped[Organization] = relationship()
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
