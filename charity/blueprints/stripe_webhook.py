"""POST /stripe/webhook: the only CSRF-exempt form endpoint (Stripe signs instead).

- No or a bad/stale ``Stripe-Signature`` → 400, recorded in ``webhook_rejections``.
- A verified event is stored once by id and applied (charity.payments.webhooks); a
  duplicate → 200 and nothing happens.
- A verified event that does not match our records (amount, currency, account, metadata)
  → 200, parked ``unresolved`` for finance members and logged at ERROR: retrying cannot
  fix it. A refund before its payment's success is parked and applied with the success.
- A verified event that does not parse (a signed but malformed event) → 400, nothing kept.
"""

from __future__ import annotations

import hashlib
import time

from flask import Blueprint, current_app, jsonify, request

from charity import payments
from charity.core import uow
from charity.extensions import csrf, db
from charity.models import WebhookRejection
from charity.ops import metrics
from charity.payments.webhooks import MalformedEventError, apply_event

bp = Blueprint("stripe_webhook", __name__)


@bp.post("/stripe/webhook")
@csrf.exempt
def receive():
    payload = request.get_data(cache=False)
    try:
        event = payments.construct_webhook_event(
            payload,
            request.headers.get("Stripe-Signature"),
            current_app.config["STRIPE_WEBHOOK_SECRET"],
        )
    except payments.WebhookSignatureError as exc:
        return _reject(str(exc), payload)
    if not isinstance(event.get("id"), str) or "data" not in event:
        return _reject("not a Stripe event", payload)
    try:
        row = apply_event(db.session, event)
    except payments.PaymentError as exc:
        # Stripe could not be asked to confirm the object: nothing stored, Stripe retries.
        uow.discard()
        current_app.logger.warning("Stripe webhook %s deferred: %s", event.get("id"), exc)
        return jsonify(error="payment service unavailable"), 503
    except MalformedEventError as exc:
        return _reject(f"malformed event: {exc}", payload, "malformed event")
    outcome = row.outcome if row is not None else "duplicate"  # read before commit expires it
    if row is not None and isinstance(event.get("created"), int):
        metrics.observe_webhook_lag(time.time() - event["created"])
    return jsonify(status=outcome)


def _reject(reason: str, payload: bytes, answer: str = "invalid signature"):  # type: ignore[no-untyped-def]
    current_app.logger.warning("Stripe webhook rejected: %s", reason)
    uow.discard()
    db.session.add(
        WebhookRejection(
            reason=reason[:300],
            remote_addr=(request.remote_addr or "")[:64],
            payload_sha256=hashlib.sha256(payload).hexdigest(),
        )
    )
    return jsonify(error=answer), 400
