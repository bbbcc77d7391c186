"""Apply verified Stripe events to our records, each at most once.

Each event id is stored once in ``stripe_events`` (primary key): a redelivery or a
concurrent duplicate finds it and does nothing. Each PaymentIntent is applied at most
once through ``mark_donation_succeeded`` (row lock + status). Events whose amount,
currency, account, metadata or PaymentIntent id do not match our record are refused:
stored with outcome ``refused`` and logged at ERROR level, and answered 200 so that
Stripe does not retry a delivery that can never succeed (a human must look).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from charity import payments
from charity.models import Donation, StripeEvent
from charity.services import donations

REFUND_EVENTS = ("charge.refunded", "refund.updated", "charge.refund.updated", "refund.created")


def store_event(session: Session, event: Mapping[str, Any]) -> StripeEvent | None:
    """Record the event id; None when it was already recorded (a duplicate)."""
    row = StripeEvent(id=event["id"], type=event.get("type", ""), account=event.get("account"))
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        return None
    return row


def apply_event(session: Session, event: Mapping[str, Any]) -> StripeEvent | None:
    """Store and apply one verified event; None for a duplicate. The caller commits."""
    row = store_event(session, event)
    if row is None:
        return None
    handler = _HANDLERS.get(row.type)
    if handler is None:
        row.outcome = "ignored"
        return row
    try:
        with session.begin_nested():
            row.outcome = handler(session, event)
    except donations.PaymentMismatchError as exc:
        row.outcome, row.detail = "refused", str(exc)[:500]
        current_app.logger.error("Stripe event %s refused: %s", row.id, exc)
    return row


def _obj(event: Mapping[str, Any]) -> Mapping[str, Any]:
    return event["data"]["object"]


def _donation_for_intent(session: Session, obj: Mapping[str, Any]) -> Donation:
    raw_id = (obj.get("metadata") or {}).get("donation_id", "")
    donation = session.get(Donation, int(raw_id)) if str(raw_id).isdigit() else None
    if donation is None:
        raise donations.PaymentMismatchError(
            f"payment intent {obj.get('id')}: no donation {raw_id!r}"
        )
    return donation


def _payment_succeeded(session: Session, event: Mapping[str, Any]) -> str:
    obj = _obj(event)
    donation = _donation_for_intent(session, obj)
    account = event.get("account")
    # Cross-check the signed payload first, then trust only what Stripe tells us now.
    donations.check_intent(donation, payments.intent_from_event_object(obj), account)
    intent = payments.retrieve_payment_intent(
        account=donation.stripe_account_id or "", intent_id=obj["id"]
    )
    applied = donations.mark_donation_succeeded(session, donation, intent, account)
    return "applied" if applied else "unchanged"


def _payment_failed(session: Session, event: Mapping[str, Any]) -> str:
    obj = _obj(event)
    donation = _donation_for_intent(session, obj)
    intent = payments.intent_from_event_object(obj)
    return "applied" if donations.record_payment_failure(session, donation, intent) else "unchanged"


def _donation_for_refund(session: Session, obj: Mapping[str, Any]) -> Donation:
    intent_id = obj.get("payment_intent")
    charge_id = obj.get("charge") if obj.get("object") == "refund" else obj.get("id")
    conditions = []
    if intent_id:
        conditions.append(Donation.stripe_payment_intent_id == intent_id)
    if charge_id:
        conditions.append(Donation.stripe_charge_id == charge_id)
    donation = (
        session.scalar(sa.select(Donation).where(sa.or_(*conditions))) if conditions else None
    )
    if donation is None:
        raise donations.PaymentMismatchError(
            f"refund event for unknown payment {intent_id or charge_id}"
        )
    return donation


def _refunds_in(obj: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    if obj.get("object") == "refund":
        return [obj]
    return list((obj.get("refunds") or {}).get("data") or [])


def _refund_event(session: Session, event: Mapping[str, Any]) -> str:
    obj = _obj(event)
    donation = _donation_for_refund(session, obj)
    account = event.get("account")
    if account is not None and account != donation.stripe_account_id:
        raise donations.PaymentMismatchError(
            f"donation {donation.id}: refund from account {account}"
        )
    if str(obj.get("currency", donation.currency)).upper() != donation.currency:
        raise donations.PaymentMismatchError(f"donation {donation.id}: refund currency mismatch")
    recorded = 0
    for refund in _refunds_in(obj):
        if refund.get("status") not in ("succeeded", "pending"):
            continue
        made = donations.record_stripe_refund(
            session, donation.id, refund["id"], int(refund["amount"])
        )
        recorded += made is not None
    return "applied" if recorded else "unchanged"


_HANDLERS = {
    "payment_intent.succeeded": _payment_succeeded,
    "payment_intent.payment_failed": _payment_failed,
    **dict.fromkeys(REFUND_EVENTS, _refund_event),
}

# --- gifts: monthly gifts (invoice and subscription events) ---
from charity.services import recurring  # noqa: E402 - after the one-off handlers

_HANDLERS.update(recurring.WEBHOOK_HANDLERS)
# --- end gifts ---
