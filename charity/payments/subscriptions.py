"""Stripe Subscriptions for monthly gifts: Customer, Product + Plan (not Prices), Invoice.

Part of the one place that talks to Stripe (``charity.payments``): calls go through its
``call_stripe`` wrapper, so errors arrive as our PaymentError family, and objects leave as plain
dataclasses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import stripe

from charity.payments.stripe import PaymentError, call_stripe, plain


@dataclass(frozen=True)
class Invoice:
    """What we read from an invoice."""

    id: str
    subscription: str | None
    status: str
    amount_paid: int
    amount_due: int
    currency: str
    payment_intent: str | None
    attempt_count: int

    @property
    def paid(self) -> bool:
        return self.status == "paid"


@dataclass(frozen=True)
class Subscription:
    id: str
    status: str
    latest_invoice: str | None


def _id(value: Any) -> str | None:
    if isinstance(value, Mapping):
        return value.get("id")
    return value


def invoice_from_object(obj: Mapping[str, Any]) -> Invoice:
    subscription = obj.get("subscription")
    if subscription is None:
        parent = obj.get("parent") or {}
        subscription = (parent.get("subscription_details") or {}).get("subscription")
    return Invoice(
        id=obj["id"],
        subscription=_id(subscription),
        status=str(obj.get("status") or ""),
        amount_paid=int(obj.get("amount_paid") or 0),
        amount_due=int(obj.get("amount_due") or 0),
        currency=str(obj.get("currency") or "").upper(),
        payment_intent=_id(obj.get("payment_intent")),
        attempt_count=int(obj.get("attempt_count") or 0),
    )


def _subscription(obj: Any) -> Subscription:
    obj = plain(obj)
    return Subscription(
        id=obj["id"], status=obj["status"], latest_invoice=_id(obj.get("latest_invoice"))
    )


def create_setup_intent(*, account: str, recurring_gift_id: int) -> tuple[str, str]:
    """A SetupIntent for a card to be charged monthly, off session: (id, client secret)."""
    obj = plain(
        call_stripe(
            stripe.SetupIntent.create,
            usage="off_session",
            metadata={"recurring_gift_id": str(recurring_gift_id)},
            stripe_account=account,
        )
    )
    return obj["id"], obj["client_secret"]


def setup_intent_payment_method(
    *, account: str, setup_intent_id: str, recurring_gift_id: int
) -> str | None:
    """The card set up for this monthly gift, once its SetupIntent succeeded."""
    obj = plain(call_stripe(stripe.SetupIntent.retrieve, setup_intent_id, stripe_account=account))
    if obj["status"] != "succeeded":
        return None
    if (obj.get("metadata") or {}).get("recurring_gift_id") != str(recurring_gift_id):
        return None
    return _id(obj.get("payment_method"))


def create_customer(*, account: str, payment_method: str, recurring_gift_id: int) -> str:
    """A Customer whose default card is ``payment_method`` (no name or email is sent)."""
    obj = plain(
        call_stripe(
            stripe.Customer.create,
            payment_method=payment_method,
            invoice_settings={"default_payment_method": payment_method},
            metadata={"recurring_gift_id": str(recurring_gift_id)},
            stripe_account=account,
        )
    )
    return obj["id"]


def set_default_card(*, account: str, customer: str, payment_method: str) -> None:
    """Make a newly set-up card the one future renewals charge."""
    call_stripe(
        stripe.PaymentMethod.attach, payment_method, customer=customer, stripe_account=account
    )
    call_stripe(
        stripe.Customer.modify,
        customer,
        invoice_settings={"default_payment_method": payment_method},
        stripe_account=account,
    )


def create_monthly_plan(
    *, account: str, amount_fen: int, currency: str, recurring_gift_id: int, name: str
) -> str:
    """A Product and a monthly Plan for this gift's amount: the plan id."""
    product = plain(call_stripe(stripe.Product.create, name=name[:200], stripe_account=account))
    plan = plain(
        call_stripe(
            stripe.Plan.create,
            product=product["id"],
            amount=amount_fen,
            currency=currency.lower(),
            interval="month",
            metadata={"recurring_gift_id": str(recurring_gift_id)},
            stripe_account=account,
        )
    )
    return plan["id"]


def create_subscription(
    *, account: str, customer: str, plan: str, recurring_gift_id: int
) -> Subscription:
    """Subscribe; Stripe invoices and charges the first month at once."""
    obj = call_stripe(
        stripe.Subscription.create,
        customer=customer,
        items=[{"plan": plan}],
        metadata={"recurring_gift_id": str(recurring_gift_id)},
        stripe_account=account,
    )
    return _subscription(obj)


def cancel_subscription(*, account: str, subscription: str) -> None:
    """Cancel now (no further invoices), not at the period's end."""
    call_stripe(stripe.Subscription.cancel, subscription, stripe_account=account)


def retrieve_invoice(*, account: str, invoice_id: str) -> Invoice:
    return invoice_from_object(
        plain(call_stripe(stripe.Invoice.retrieve, invoice_id, stripe_account=account))
    )


def subscription_gift_id(*, account: str | None, subscription: str) -> str:
    """The recurring_gift_id we put in the subscription's metadata ('' when absent)."""
    kwargs = {"stripe_account": account} if account else {}
    try:
        obj = plain(call_stripe(stripe.Subscription.retrieve, subscription, **kwargs))
    except PaymentError as exc:
        if isinstance(exc.__cause__, stripe.InvalidRequestError):
            return ""  # no such subscription at Stripe: not ours
        raise
    return str((obj.get("metadata") or {}).get("recurring_gift_id") or "")


def subscription_status(*, account: str, subscription: str) -> str:
    """The subscription's status at Stripe (``active``, ``past_due``, ``canceled``...)."""
    obj = plain(call_stripe(stripe.Subscription.retrieve, subscription, stripe_account=account))
    return str(obj.get("status") or "")
