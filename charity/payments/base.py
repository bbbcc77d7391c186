"""The payment-provider interface: what every provider module offers, in our own types.

Three providers sit behind it, one module each: ``stripe`` (cards, overseas donors),
``wechatpay`` (WeChat Pay API v3) and ``alipay``. Nothing outside ``charity.payments``
imports a provider SDK; services ask ``charity.payments.provider(name)`` and deal only in
the plain values below. Every provider can:

* ``create_payment(merchant, NewPayment) -> Checkout``: open an order for a donation and
  say what the donor's browser needs next (a QR code to draw, a page to go to);
* ``query_payment(merchant, order_no) -> Intent``: the provider's word on an order;
* ``close_payment(merchant, order_no) -> Intent | None``: close an unpaid order (the
  provider's answer when it turned out to be paid, so that it can be confirmed instead);
* ``refund(merchant, RefundRequest) -> RefundResult`` and
  ``query_refund(merchant, order_no, refund_id) -> StatementLine | None``;
* ``parse_notification(merchant, headers, body) -> Notice``: verify (signature, and for
  WeChat the AES-256-GCM resource) with the SDK and parse, or NotificationError;
  ``acknowledge()`` / ``refuse(reason)`` answer in the provider's own protocol;
* ``download_statement(merchant, day) -> Statement``: the provider's own record of the
  day (China Standard Time), line by line, for reconciliation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol


class PaymentError(RuntimeError):
    """A provider refused or could not be reached; ``message`` is safe to show a donor."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class CardDeclinedError(PaymentError):
    """The card was declined; the donor may try another card."""


class PaymentUnavailableError(PaymentError):
    """The provider could not be reached or answered with a server error."""


class WebhookSignatureError(ValueError):
    """A notification without a valid signature, or one that does not parse: a 400."""


NotificationError = WebhookSignatureError


@dataclass(frozen=True)
class Intent:
    """What a provider says about one payment (a Stripe PaymentIntent, a WeChat Pay or
    Alipay order): plain values, no SDK objects leak out.

    ``id`` is the order we track (``pi_...`` or our out_trade_no); ``status`` is
    Stripe's vocabulary for every provider: ``succeeded``, ``failed``, ``closed``, or
    anything else for "not yet"; ``latest_charge`` is the provider's own id of the money
    movement (Stripe's charge, WeChat's transaction_id, Alipay's trade_no)."""

    id: str
    status: str
    amount: int
    currency: str
    metadata: Mapping[str, str]
    client_secret: str
    latest_charge: str | None
    failure_message: str
    provider: str = "stripe"
    #: The merchant account the provider names (mchid, app id); None for Stripe, whose
    #: account comes from the event envelope.
    account: str | None = None
    #: When the provider says it was paid.
    paid_at: datetime | None = None

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"


@dataclass(frozen=True)
class Merchant:
    """One organization's account at one provider, secrets decrypted (never logged)."""

    provider: str
    account_id: int
    public_id: str
    settings: Mapping[str, str]
    secrets: Mapping[str, str] = field(repr=False)
    #: Changes whenever the credentials change (cached SDK clients are keyed on it).
    fingerprint: str = ""


@dataclass(frozen=True)
class NewPayment:
    order_no: str
    amount_fen: int
    currency: str
    description: str
    #: native, h5, jsapi (WeChat Pay); page, wap (Alipay).
    method: str
    notify_url: str
    return_url: str
    expires_at: datetime
    donation_id: int
    client_ip: str = "127.0.0.1"
    #: JSAPI only: the donor's openid under the official account (docs/gifts.md).
    openid: str = ""


@dataclass(frozen=True)
class Checkout:
    """What the donor's browser needs next: ``qr`` (draw ``value``, a code_url),
    ``redirect`` (go to ``value``), or ``jsapi`` (``params`` for WeixinJSBridge)."""

    kind: str
    value: str
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RefundRequest:
    #: Our Refund's id, and the number the provider knows the refund by (ours).
    refund_id: int
    order_no: str
    refund_no: str
    amount_fen: int
    total_fen: int
    currency: str
    reason: str
    notify_url: str


@dataclass(frozen=True)
class RefundResult:
    #: The provider's id we keep for the refund (see Refund.provider_refund_id).
    refund_id: str
    status: str


@dataclass(frozen=True)
class RefundNotice:
    order_no: str
    refund_id: str
    amount_fen: int
    currency: str
    #: succeeded, failed.
    status: str


@dataclass(frozen=True)
class Notice:
    """A verified notification. ``type``: payment.succeeded, payment.closed,
    refund.succeeded, refund.failed, or ignored."""

    provider: str
    event_id: str
    type: str
    account: str
    payment: Intent | None = None
    refund: RefundNotice | None = None


@dataclass(frozen=True)
class StatementLine:
    """One line of a provider's statement: a payment or a refund."""

    kind: str
    #: The order (out_trade_no / PaymentIntent) the line is about.
    order_no: str
    #: For refunds, the refund's id as we keep it (Refund.provider_refund_id).
    refund_id: str
    amount_fen: int
    currency: str
    status: str
    at: datetime | None
    #: The line exactly as the provider gave it (evidence).
    raw: Mapping[str, Any]


@dataclass(frozen=True)
class Statement:
    provider: str
    account: str
    day: date
    lines: tuple[StatementLine, ...]
    #: SHA-256 of what was downloaded.
    sha256: str


class Provider(Protocol):
    name: str

    def create_payment(self, merchant: Merchant, payment: NewPayment) -> Checkout: ...

    def query_payment(self, merchant: Merchant, order_no: str) -> Intent: ...

    def close_payment(self, merchant: Merchant, order_no: str) -> Intent | None: ...

    def refund(self, merchant: Merchant, request: RefundRequest) -> RefundResult: ...

    def query_refund(
        self, merchant: Merchant, order_no: str, refund_id: str
    ) -> StatementLine | None: ...

    def parse_notification(
        self, merchant: Merchant, headers: Mapping[str, str], body: bytes
    ) -> Notice: ...

    def acknowledge(self) -> tuple[str, int, dict[str, str]]: ...

    def refuse(self, reason: str, status: int) -> tuple[str, int, dict[str, str]]: ...

    def download_statement(self, merchant: Merchant, day: date) -> Statement: ...
