"""The one place that talks to Stripe.

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

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import stripe
from flask import current_app

#: Seconds a webhook signature stays valid (Stripe's own default).
WEBHOOK_TOLERANCE = 300


class PaymentError(RuntimeError):
    """Stripe refused or could not be reached; ``message`` is safe to show a donor."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class CardDeclinedError(PaymentError):
    """The card was declined; the donor may try another card."""


class PaymentUnavailableError(PaymentError):
    """Stripe could not be reached or answered with a server error."""


class WebhookSignatureError(ValueError):
    """A webhook without a valid, fresh signature."""


@dataclass(frozen=True)
class Intent:
    """What we read from a PaymentIntent: plain values, no Stripe objects leak out."""

    id: str
    status: str
    amount: int
    currency: str
    metadata: Mapping[str, str]
    client_secret: str
    latest_charge: str | None
    failure_message: str

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"


def _configure() -> None:
    config = current_app.config
    stripe.api_key = config["STRIPE_SECRET_KEY"]
    if config.get("STRIPE_API_BASE"):
        stripe.api_base = config["STRIPE_API_BASE"]
    stripe.max_network_retries = 0


def _call(function: Any, *args: Any, **kwargs: Any) -> Any:
    _configure()
    try:
        return function(*args, **kwargs)
    except stripe.CardError as exc:
        raise CardDeclinedError(exc.user_message or str(exc), exc.code or "card_declined") from exc
    except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
        raise PaymentUnavailableError(str(exc)) from exc
    except stripe.StripeError as exc:
        raise PaymentError(exc.user_message or str(exc), exc.code or "") from exc


def _plain(obj: Any) -> dict[str, Any]:
    """Stripe objects as plain dicts (stripe-python 15+ objects are not dicts)."""
    return obj if isinstance(obj, dict) else obj.to_dict()


def _intent(obj: Any) -> Intent:
    obj = _plain(obj)
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
        failure_message=(error.get("message") or "") if isinstance(error, Mapping) else "",
    )


def intent_from_event_object(obj: Mapping[str, Any]) -> Intent:
    """An Intent from a webhook's ``data.object`` (already signature-verified)."""
    return _intent(obj)


def create_payment_intent(
    *, account: str, amount_fen: int, currency: str, donation_id: int, description: str
) -> Intent:
    obj = _call(
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
    return _intent(_call(stripe.PaymentIntent.retrieve, intent_id, stripe_account=account))


def cancel_payment_intent(*, account: str, intent_id: str) -> None:
    try:
        _call(stripe.PaymentIntent.cancel, intent_id, stripe_account=account)
    except PaymentError:
        current_app.logger.warning("could not cancel PaymentIntent %s", intent_id)


def create_setup_intent(*, account: str, donation_id: int) -> tuple[str, str]:
    """A SetupIntent for the browser's card step: (id, client secret)."""
    obj = _call(
        stripe.SetupIntent.create,
        usage="on_session",
        metadata={"donation_id": str(donation_id)},
        stripe_account=account,
    )
    obj = _plain(obj)
    return obj["id"], obj["client_secret"]


def setup_intent_payment_method(
    *, account: str, setup_intent_id: str, donation_id: int
) -> str | None:
    """The card the donor entered, once this donation's SetupIntent succeeded in the browser."""
    obj = _plain(_call(stripe.SetupIntent.retrieve, setup_intent_id, stripe_account=account))
    if obj["status"] != "succeeded":
        return None
    if (obj.get("metadata") or {}).get("donation_id") != str(donation_id):
        return None
    method = obj.get("payment_method")
    return method.get("id") if isinstance(method, Mapping) else method


def confirm_payment_intent(*, account: str, intent_id: str, payment_method: str) -> Intent:
    """Attach the card and confirm, server-side. A decline raises CardDeclinedError."""
    _call(
        stripe.PaymentIntent.modify,
        intent_id,
        payment_method=payment_method,
        stripe_account=account,
    )
    obj = _call(stripe.PaymentIntent.confirm, intent_id, stripe_account=account)
    return _intent(obj)


def create_refund(
    *, account: str, intent_id: str, amount_fen: int, refund_id: int
) -> tuple[str, str]:
    """Refund part of a PaymentIntent: (stripe refund id, status)."""
    obj = _call(
        stripe.Refund.create,
        payment_intent=intent_id,
        amount=amount_fen,
        metadata={"refund_id": str(refund_id)},
        stripe_account=account,
    )
    obj = _plain(obj)
    return obj["id"], obj["status"]


def create_test_payment_method(*, account: str, card_number: str) -> str:
    """Tests and the demo only: a card payment method (as Stripe.js would create)."""
    obj = _call(
        stripe.PaymentMethod.create,
        type="card",
        card={"number": card_number, "exp_month": 12, "exp_year": 2034, "cvc": "123"},
        stripe_account=account,
    )
    return _plain(obj)["id"]


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
