"""Apply verified Stripe events to our records, each at most once.

Each event id is stored once in ``stripe_events`` (primary key): a redelivery or a
concurrent duplicate finds it and does nothing. Each PaymentIntent is applied at most
once through ``donations.confirm_payment`` (row lock + status). Events whose amount,
currency, account, metadata or PaymentIntent id do not match our record are refused:
stored with outcome ``refused`` and logged at ERROR level, and answered 200 so that
Stripe does not retry a delivery that can never succeed (a human must look).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import NoResultFound
from sqlalchemy.orm import Session

from charity import payments
from charity.core.db import dialect_insert
from charity.models import Donation, StripeEvent
from charity.services import donations

REFUND_EVENTS = ("charge.refunded", "refund.updated", "charge.refund.updated", "refund.created")


@dataclass(frozen=True)
class Applied:
    """What became of a stored event: applied, unchanged, ignored or refused."""

    id: str
    type: str
    outcome: str
    detail: str = ""


_events = StripeEvent.__table__
#: INSERT ... ON CONFLICT DO NOTHING RETURNING id, built once per dialect.
_store_statements: dict[str, sa.Insert] = {}


def store_event(session: Session, event: Mapping[str, Any]) -> bool:
    """Record the event id (one INSERT ... ON CONFLICT DO NOTHING, no savepoint);
    False when it was already recorded: a redelivery or a concurrent duplicate.

    The row says "applied" from the start (what almost every delivery ends as);
    ``apply_event`` corrects it in the same transaction when the outcome differs, so no
    one ever reads the provisional value."""
    dialect = session.get_bind().dialect.name
    statement = _store_statements.get(dialect)
    if statement is None:
        statement = _store_statements[dialect] = (
            dialect_insert(session)(_events).on_conflict_do_nothing().returning(_events.c.id)
        )
    stored = (
        session.connection()
        .execute(
            statement,
            {
                "id": event["id"],
                "type": str(event.get("type", ""))[:100],
                "account": event.get("account"),
                "outcome": "applied",
                "detail": "",
                "received_at": datetime.now(UTC),
            },
        )
        .first()
    )
    return stored is not None


def apply_event(session: Session, event: Mapping[str, Any]) -> Applied | None:
    """Store and apply one verified event; None for a duplicate. The caller commits."""
    if not store_event(session, event):
        return None
    event_id, event_type = event["id"], str(event.get("type", ""))
    handler = _HANDLERS.get(event_type)
    if handler is None:
        result = Applied(event_id, event_type, "ignored")
    else:
        try:
            if handler in _CHECK_BEFORE_WRITING:
                outcome = handler(session, event)
            else:
                with session.begin_nested():
                    outcome = handler(session, event)
            result = Applied(event_id, event_type, outcome)
        except donations.PaymentMismatchError as exc:
            result = Applied(event_id, event_type, "refused", str(exc)[:500])
            current_app.logger.error("Stripe event %s refused: %s", event_id, exc)
    if result.outcome != "applied":
        session.execute(
            sa.update(_events)
            .where(_events.c.id == event_id)
            .values(outcome=result.outcome, detail=result.detail)
        )
    return result


def _obj(event: Mapping[str, Any]) -> Mapping[str, Any]:
    return event["data"]["object"]


def _donation_id(obj: Mapping[str, Any]) -> int:
    """The donation id in the PaymentIntent's metadata; PaymentMismatchError if there is none."""
    raw_id = str((obj.get("metadata") or {}).get("donation_id", ""))
    if not (raw_id.isdigit() and len(raw_id) < 19):
        raise donations.PaymentMismatchError(
            f"payment intent {obj.get('id')}: no donation {raw_id!r}"
        )
    return int(raw_id)


def _donation_for_intent(session: Session, obj: Mapping[str, Any]) -> Donation:
    """The donation the PaymentIntent names, row-locked (one SELECT ... FOR UPDATE)."""
    donation_id = _donation_id(obj)
    try:
        return donations.lock_donation(session, donation_id)
    except NoResultFound:
        raise donations.PaymentMismatchError(
            f"payment intent {obj.get('id')}: no donation {donation_id}"
        ) from None


def _payment_succeeded(session: Session, event: Mapping[str, Any]) -> str:
    obj = _obj(event)
    donation_id = _donation_id(obj)
    # The event is signed by Stripe: it IS Stripe telling us the payment succeeded
    # (guarantee 4), so nothing is fetched back. confirm_payment cross-checks intent id,
    # amount, currency, metadata, account and status before it writes anything.
    intent = payments.intent_from_event_object(obj)
    applied = donations.confirm_payment(session, donation_id, intent, event.get("account"))
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

#: Handlers that make every check before their first write, so a refusal leaves nothing
#: to undo: they run without a savepoint (two statements and a round trip fewer).
_CHECK_BEFORE_WRITING = {_payment_succeeded}

# --- gifts: monthly gifts (invoice and subscription events) ---
from charity.services import recurring  # noqa: E402 - after the one-off handlers

_HANDLERS.update(recurring.WEBHOOK_HANDLERS)
# --- end gifts ---
