"""Apply verified Stripe events to our records, each at most once.

Each event id is stored once in ``provider_events`` (primary key; the wallets' notification
ids are stored there too, prefixed): a redelivery or a concurrent duplicate finds it and
does nothing. Each PaymentIntent is applied at most once through
``donations.confirm_payment`` (row lock + status). Nothing is dropped: a refund whose
payment's success has not arrived yet is parked and applied with it, and an event whose
amount, currency, account, metadata or PaymentIntent id do not match our record is parked
``unresolved`` (charity.services.parking), logged at ERROR level and answered 200 (a
redelivery cannot fix it: a finance member must look). A signed event that does not parse
is a MalformedEventError: the endpoint answers 400.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import NoResultFound
from sqlalchemy.orm import Session

from charity import payments
from charity.models import Donation, Organization
from charity.services import donations, parking
from charity.services.provider_events import event_row, set_outcome, store_event

REFUND_EVENTS = ("charge.refunded", "refund.updated", "charge.refund.updated", "refund.created")


@dataclass(frozen=True)
class Applied:
    """What became of a stored event: applied, unchanged, ignored or refused."""

    id: str
    type: str
    outcome: str
    detail: str = ""


#: A Stripe event type's handler: applies the verified event, answers its outcome.
Handler = Callable[[Session, Mapping[str, Any]], str]


class MalformedEventError(ValueError):
    """A verified event that lacks what its type must carry."""


def apply_event(session: Session, event: Mapping[str, Any]) -> Applied | None:
    """Store and apply one verified event; None for a duplicate. The caller commits.

    A payment's success (the usual delivery) has its event row stored by the donation's
    row-lock statement (``_store_and_confirm``); every other event is stored first."""
    event_id, event_type = event["id"], str(event.get("type", ""))
    handler = _HANDLERS.get(event_type)
    stored_with_lock = handler is _payment_succeeded
    if not stored_with_lock and not store_event(session, event):
        return None
    if handler is None:
        result = Applied(event_id, event_type, "ignored")
    else:
        try:
            if stored_with_lock:
                stored_outcome = _store_and_confirm(session, event)
                if stored_outcome is None:
                    return None
                outcome = stored_outcome
            elif handler in _CHECK_BEFORE_WRITING:
                outcome = handler(session, event)
            else:
                with session.begin_nested():
                    outcome = handler(session, event)
            result = Applied(event_id, event_type, outcome)
        except donations.PaymentMismatchError as exc:
            _park_mismatch(session, event, str(exc))
            result = Applied(event_id, event_type, "parked", str(exc)[:500])
            current_app.logger.error("Stripe event %s parked: %s", event_id, exc)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise MalformedEventError(f"{event_type} {event_id}: {exc!r}") from exc
    if result.outcome != "applied":
        set_outcome(session, event_id, result.outcome, result.detail)
    return result


def _park_mismatch(session: Session, event: Mapping[str, Any], reason: str) -> None:
    """An event that can never apply by itself: kept for a finance member."""
    account = event.get("account")
    obj = (event.get("data") or {}).get("object") or {}
    organization_id = (
        session.scalar(sa.select(Organization.id).where(Organization.stripe_account_id == account))
        if account
        else None
    )
    raw_id = str((obj.get("metadata") or {}).get("donation_id", ""))
    donation_id = int(raw_id) if raw_id.isdigit() and len(raw_id) < 19 else None
    if donation_id is not None and session.get(Donation, donation_id) is None:
        donation_id = None
    if organization_id is None and donation_id is not None:
        organization_id = session.scalar(
            sa.select(Donation.organization_id).where(Donation.id == donation_id)
        )
    amount = obj.get("amount")
    parking.park(
        session,
        provider="stripe",
        key=str(event["id"]),
        kind=str(event.get("type", ""))[:20],
        status="unresolved",
        reason=reason,
        organization_id=organization_id,
        donation_id=donation_id,
        amount_fen=amount if isinstance(amount, int) else 0,
        currency=str(obj.get("currency") or "cny").upper()[:3],
    )


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


def _store_and_confirm(session: Session, event: Mapping[str, Any]) -> str | None:
    """``_payment_succeeded`` with the event row stored by ``confirm_payment``'s row-lock
    statement (``event=``); None for a duplicate (nothing locked, nothing changed). An
    event that names no donation is stored first, as any other, and parked."""
    obj = _obj(event)
    try:
        donation_id = _donation_id(obj)
    except donations.PaymentMismatchError:
        if not store_event(session, event):
            return None
        raise
    intent = payments.intent_from_event_object(obj)
    applied = donations.confirm_payment(
        session, donation_id, intent, event.get("account"), event=event_row(event)
    )
    if applied is None:
        return None
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
    outcomes = set()
    for refund in _refunds_in(obj):
        if refund.get("status") not in ("succeeded", "pending"):
            continue
        outcomes.add(
            donations.record_provider_refund(
                session, donation.id, "stripe", str(refund["id"]), int(refund["amount"])
            )
        )
    for outcome in ("applied", "parked"):
        if outcome in outcomes:
            return outcome
    return "unchanged"


#: The one-off gift's events; charity.wiring registers them with the monthly gifts' ones.
PAYMENT_HANDLERS: dict[str, Handler] = {
    "payment_intent.succeeded": _payment_succeeded,
    "payment_intent.payment_failed": _payment_failed,
    **dict.fromkeys(REFUND_EVENTS, _refund_event),
}
#: event type -> handler, filled by ``register_handlers`` (charity.wiring).
_HANDLERS: dict[str, Handler] = {}


def register_handlers(handlers: Mapping[str, Handler]) -> None:
    _HANDLERS.update(handlers)


def handled_event_types() -> list[str]:
    return sorted(_HANDLERS)


#: Handlers that make every check before their first write, so a refusal leaves nothing
#: to undo: they run without a savepoint (two statements and a round trip fewer).
_CHECK_BEFORE_WRITING = {_payment_succeeded}
