"""Stripe: the one module that talks to Stripe (cards, overseas donors).

Everything else uses these functions and our own exceptions; nothing else imports
``stripe``. Donations are direct charges on the receiving organization's own account
(``stripe_account=``), so every call about a donation names that account.

The card step is a SetupIntent confirmed in the browser (Stripe.js ``confirmCardSetup``)
followed by a server-side confirm of the PaymentIntent with the resulting payment method:
a flow both real Stripe.js and localstripe's stand-in support. Stripe's Idempotency-Key is
not relied on (localstripe ignores it): callers make their own calls idempotent with row
locks and stored ids.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import stripe
from flask import current_app

from charity.core.clock import CST
from charity.payments.base import (
    CardDeclinedError,
    Checkout,
    Intent,
    Merchant,
    NewPayment,
    Notice,
    PaymentError,
    PaymentUnavailableError,
    RefundRequest,
    RefundResult,
    Statement,
    StatementLine,
    WebhookSignatureError,
)
from charity.payments.declines import decline_message

#: Seconds a webhook signature stays valid (Stripe's own default).
WEBHOOK_TOLERANCE = 300

__all__ = [
    "CardDeclinedError",
    "Intent",
    "PaymentError",
    "PaymentUnavailableError",
    "WebhookSignatureError",
]


def _configure() -> None:
    config = current_app.config
    stripe.api_key = config["STRIPE_SECRET_KEY"]
    if config.get("STRIPE_API_BASE"):
        stripe.api_base = config["STRIPE_API_BASE"]
    stripe.max_network_retries = 0


def call_stripe(function: Any, *args: Any, **kwargs: Any) -> Any:
    _configure()
    try:
        return function(*args, **kwargs)
    except stripe.CardError as exc:
        # Stripe's English text never reaches a donor: our catalog's words for its code.
        decline_code = getattr(getattr(exc, "error", None), "decline_code", None)
        code = decline_code or exc.code or "card_declined"
        raise CardDeclinedError(decline_message(decline_code, exc.code), code) from exc
    except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
        raise PaymentUnavailableError(str(exc)) from exc
    except stripe.StripeError as exc:
        raise PaymentError(exc.user_message or str(exc), exc.code or "") from exc


def plain(obj: Any) -> dict[str, Any]:
    """Stripe objects as plain dicts (stripe-python 15+ objects are not dicts)."""
    return obj if isinstance(obj, dict) else obj.to_dict()


def _intent(obj: Any) -> Intent:
    obj = plain(obj)
    latest = obj.get("latest_charge")
    if isinstance(latest, Mapping):
        latest = latest.get("id")
    error = obj.get("last_payment_error") or {}
    return Intent(
        id=obj["id"],
        status=obj["status"],
        amount=int(obj["amount"]),
        currency=str(obj["currency"]).upper(),
        metadata=dict(obj.get("metadata") or {}),
        client_secret=obj.get("client_secret") or "",
        latest_charge=latest,
        failure_message=(
            decline_message(error.get("decline_code"), error.get("code"))
            if isinstance(error, Mapping) and error
            else ""
        ),
    )


def intent_from_event_object(obj: Mapping[str, Any]) -> Intent:
    """An Intent from a webhook's ``data.object`` (already signature-verified)."""
    return _intent(obj)


def create_payment_intent(
    *, account: str, amount_fen: int, currency: str, donation_id: int, description: str
) -> Intent:
    obj = call_stripe(
        stripe.PaymentIntent.create,
        amount=amount_fen,
        currency=currency.lower(),
        metadata={"donation_id": str(donation_id)},
        payment_method_types=["card"],
        stripe_account=account,
    )
    del description  # real Stripe accepts it; localstripe refuses unknown fields
    return _intent(obj)


def retrieve_payment_intent(*, account: str, intent_id: str) -> Intent:
    return _intent(call_stripe(stripe.PaymentIntent.retrieve, intent_id, stripe_account=account))


def cancel_payment_intent(*, account: str, intent_id: str) -> None:
    try:
        call_stripe(stripe.PaymentIntent.cancel, intent_id, stripe_account=account)
    except PaymentError:
        current_app.logger.warning("could not cancel PaymentIntent %s", intent_id)


def create_setup_intent(*, account: str, donation_id: int) -> tuple[str, str]:
    """A SetupIntent for the browser's card step: (id, client secret)."""
    obj = call_stripe(
        stripe.SetupIntent.create,
        usage="on_session",
        metadata={"donation_id": str(donation_id)},
        stripe_account=account,
    )
    obj = plain(obj)
    return obj["id"], obj["client_secret"]


def setup_intent_payment_method(
    *, account: str, setup_intent_id: str, donation_id: int
) -> str | None:
    """The card the donor entered, once this donation's SetupIntent succeeded in the browser."""
    obj = plain(call_stripe(stripe.SetupIntent.retrieve, setup_intent_id, stripe_account=account))
    if obj["status"] != "succeeded":
        return None
    if (obj.get("metadata") or {}).get("donation_id") != str(donation_id):
        return None
    method = obj.get("payment_method")
    return method.get("id") if isinstance(method, Mapping) else method


def setup_intent_card(
    *, account: str, setup_intent_id: str, metadata_key: str, metadata_value: str
) -> tuple[str, str] | None:
    """(payment method id, card fingerprint) of a SetupIntent that succeeded in the browser
    for this donation or monthly gift, or None. The fingerprint is the same for the same
    card number at every attempt: the per-card rate limit is keyed on it (issue 15 point 3).
    """
    obj = plain(
        call_stripe(
            stripe.SetupIntent.retrieve,
            setup_intent_id,
            expand=["payment_method"],
            stripe_account=account,
        )
    )
    if obj["status"] != "succeeded":
        return None
    if (obj.get("metadata") or {}).get(metadata_key) != metadata_value:
        return None
    method = obj.get("payment_method")
    if isinstance(method, Mapping):
        card = method.get("card") or {}
        return str(method.get("id")), str(card.get("fingerprint") or method.get("id"))
    if not method:
        return None
    return str(method), str(method)


def confirm_payment_intent(*, account: str, intent_id: str, payment_method: str) -> Intent:
    """Attach the card and confirm, server-side. A decline raises CardDeclinedError."""
    call_stripe(
        stripe.PaymentIntent.modify,
        intent_id,
        payment_method=payment_method,
        stripe_account=account,
    )
    obj = call_stripe(stripe.PaymentIntent.confirm, intent_id, stripe_account=account)
    return _intent(obj)


def create_refund(
    *, account: str, intent_id: str, amount_fen: int, refund_id: int
) -> tuple[str, str]:
    """Refund part of a PaymentIntent: (stripe refund id, status)."""
    obj = call_stripe(
        stripe.Refund.create,
        payment_intent=intent_id,
        amount=amount_fen,
        metadata={"refund_id": str(refund_id)},
        stripe_account=account,
    )
    obj = plain(obj)
    return obj["id"], obj["status"]


def create_test_payment_method(*, account: str, card_number: str) -> str:
    """Tests and the demo only: a card payment method (as Stripe.js would create)."""
    obj = call_stripe(
        stripe.PaymentMethod.create,
        type="card",
        card={"number": card_number, "exp_month": 12, "exp_year": 2034, "cvc": "123"},
        stripe_account=account,
    )
    return plain(obj)["id"]


def construct_webhook_event(payload: bytes, signature: str | None, secret: str) -> dict:
    """Verify ``Stripe-Signature`` and parse the event; WebhookSignatureError otherwise.

    The SDK checks the signature (HMAC-SHA256, timestamp tolerance); the body is parsed
    with the standard library into plain dicts: building a StripeObject tree only to turn
    it back into dicts cost more CPU than the rest of a confirmation's Python.
    """
    if not signature:
        raise WebhookSignatureError("missing Stripe-Signature header")
    try:
        text = payload.decode("utf-8")
        stripe.WebhookSignature.verify_header(text, signature, secret, WEBHOOK_TOLERANCE)
        event = json.loads(text)
    except stripe.SignatureVerificationError as exc:
        raise WebhookSignatureError(str(exc)) from exc
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise WebhookSignatureError(f"invalid payload: {exc}") from exc
    if not isinstance(event, dict):
        raise WebhookSignatureError("invalid payload: not a JSON object")
    return event


# --- the provider interface (charity.payments.base) ----------------------------------------


def _day_bounds(day: date) -> tuple[int, int]:
    """A day in China Standard Time as Unix seconds [start, end)."""
    start = datetime.combine(day, time(0), tzinfo=CST)
    return int(start.timestamp()), int((start + timedelta(days=1)).timestamp())


def _listing(resource: Any, account: str, day: date) -> list[dict[str, Any]]:
    gte, lt = _day_bounds(day)
    page = call_stripe(
        resource.list, created={"gte": gte, "lt": lt}, limit=100, stripe_account=account
    )
    return [plain(item) for item in page.auto_paging_iter()]


class StripeProvider:
    """Stripe behind the common interface. The card step itself (SetupIntent, Stripe.js)
    stays in the functions above; these serve refunds, the return page and statements."""

    name = "stripe"

    def create_payment(self, merchant: Merchant, payment: NewPayment) -> Checkout:
        intent = create_payment_intent(
            account=merchant.public_id,
            amount_fen=payment.amount_fen,
            currency=payment.currency,
            donation_id=payment.donation_id,
            description=payment.description,
        )
        return Checkout("card", intent.client_secret, {"intent": intent.id})

    def query_payment(self, merchant: Merchant, order_no: str) -> Intent:
        return retrieve_payment_intent(account=merchant.public_id, intent_id=order_no)

    def close_payment(self, merchant: Merchant, order_no: str) -> Intent | None:
        cancel_payment_intent(account=merchant.public_id, intent_id=order_no)
        intent = self.query_payment(merchant, order_no)
        return intent if intent.succeeded else None

    def refund(self, merchant: Merchant, request: RefundRequest) -> RefundResult:
        refund_id, status = create_refund(
            account=merchant.public_id,
            intent_id=request.order_no,
            amount_fen=request.amount_fen,
            refund_id=request.refund_id,
        )
        return RefundResult(refund_id, status)

    def query_refund(
        self, merchant: Merchant, order_no: str, refund_id: str
    ) -> StatementLine | None:
        obj = plain(
            call_stripe(stripe.Refund.retrieve, refund_id, stripe_account=merchant.public_id)
        )
        return _refund_line(obj, order_no)

    def parse_notification(
        self, merchant: Merchant, headers: Mapping[str, str], body: bytes
    ) -> Notice:
        raise NotImplementedError("Stripe events go through charity.payments.webhooks")

    def acknowledge(self) -> tuple[str, int, dict[str, str]]:
        return '{"status":"ok"}', 200, {"Content-Type": "application/json"}

    def refuse(self, reason: str, status: int) -> tuple[str, int, dict[str, str]]:
        return json.dumps({"error": reason}), status, {"Content-Type": "application/json"}

    def download_statement(self, merchant: Merchant, day: date) -> Statement:
        """The day's succeeded charges and refunds on the connected account."""
        charges = _listing(stripe.Charge, merchant.public_id, day)
        refunds = _listing(stripe.Refund, merchant.public_id, day)
        intents = {c["id"]: c.get("payment_intent") or "" for c in charges}
        lines = [
            StatementLine(
                kind="payment",
                order_no=charge.get("payment_intent") or "",
                refund_id="",
                amount_fen=int(charge["amount"]),
                currency=str(charge["currency"]).upper(),
                status=str(charge["status"]),
                at=datetime.fromtimestamp(charge["created"], UTC),
                raw={k: charge.get(k) for k in RAW_CHARGE_FIELDS},
            )
            for charge in charges
            if charge.get("status") == "succeeded"
        ]
        for refund in refunds:
            line = _refund_line(refund, intents.get(refund.get("charge") or "", ""))
            if line is not None:
                lines.append(line)
        digest = hashlib.sha256(
            json.dumps([charges, refunds], sort_keys=True, default=str).encode()
        ).hexdigest()
        return Statement("stripe", merchant.public_id, day, tuple(lines), digest)


RAW_CHARGE_FIELDS = ("id", "payment_intent", "amount", "currency", "status", "created")
RAW_REFUND_FIELDS = ("id", "charge", "payment_intent", "amount", "currency", "status", "created")


def _refund_line(refund: Mapping[str, Any], order_no: str) -> StatementLine | None:
    if refund.get("status") not in ("succeeded", "pending"):
        return None
    return StatementLine(
        kind="refund",
        order_no=refund.get("payment_intent") or order_no,
        refund_id=str(refund["id"]),
        amount_fen=int(refund["amount"]),
        currency=str(refund["currency"]).upper(),
        status=str(refund["status"]),
        at=datetime.fromtimestamp(refund["created"], UTC),
        raw={k: refund.get(k) for k in RAW_REFUND_FIELDS},
    )
