"""POST /stripe/webhook: signatures, at-most-once, any order, cross-checks, refunds."""

from __future__ import annotations

import json
import time

import sqlalchemy as sa
from psycopg._queries import MAX_CACHED_STATEMENT_LENGTH
from sqlalchemy.dialects.postgresql import psycopg as pg

from charity.extensions import db
from charity.models import LedgerTransaction, ProviderEvent, Refund, WebhookRejection
from charity.services.donations import _STORE_AND_LOCK_PG
from charity.services.ledger import campaign_raised_fen
from tests.support.payments import (
    confirm_at_stripe,
    event,
    give,
    intent_object,
    pay,
    post_event,
    sign,
)


def _transactions(donation) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(LedgerTransaction)
        .where(LedgerTransaction.donation_id == donation.id, LedgerTransaction.kind == "donation")
    )


def test_succeeded_webhook_before_return_page(client, campaign, mail_outbox):
    donation = confirm_at_stripe(client, campaign)
    payload = event("payment_intent.succeeded", intent_object(donation))

    response = post_event(client, payload)

    assert response.status_code == 200 and response.json["status"] == "applied"
    db.session.refresh(donation)
    assert donation.status == "succeeded" and donation.receipt_number
    assert len(mail_outbox) == 1
    client.get(f"/donations/{donation.public_token}")  # the donor returns afterwards
    assert _transactions(donation) == 1
    assert len(mail_outbox) == 1


def test_return_page_before_webhook_then_webhook_changes_nothing(client, campaign):
    donation = confirm_at_stripe(client, campaign)
    client.get(f"/donations/{donation.public_token}")
    db.session.refresh(donation)
    assert donation.status == "succeeded"

    response = post_event(client, event("payment_intent.succeeded", intent_object(donation)))

    assert response.json["status"] == "unchanged"
    assert _transactions(donation) == 1


def test_replayed_event_is_a_duplicate(client, campaign):
    donation = confirm_at_stripe(client, campaign)
    payload = event("payment_intent.succeeded", intent_object(donation))
    assert post_event(client, payload).json["status"] == "applied"

    for _ in range(3):
        assert post_event(client, payload).json["status"] == "duplicate"

    assert _transactions(donation) == 1
    assert campaign_raised_fen(db.session, campaign.id) == donation.amount_fen


def test_unsigned_forged_and_stale_webhooks_are_400_and_recorded(client, campaign):
    donation = confirm_at_stripe(client, campaign)
    payload = event("payment_intent.succeeded", intent_object(donation))
    stale = sign(payload, timestamp=int(time.time()) - 3600)
    forged = sign(payload, secret="whsec_attacker")
    tampered = payload.replace('"amount": 8800', '"amount": 1')

    for body, signature in (
        (payload, None),
        (payload, forged),
        (payload, stale),
        (payload, "t=1,v1=deadbeef"),
        (tampered, sign(payload)),
    ):
        assert post_event(client, body, signature).status_code == 400

    db.session.refresh(donation)
    assert donation.status == "pending"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ProviderEvent)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WebhookRejection)) == 5


def _mutated(donation, **changes):  # type: ignore[no-untyped-def]
    obj = intent_object(donation)
    obj.update(changes)
    return obj


def test_mismatches_are_parked_loudly_and_change_nothing(client, campaign, caplog):
    """Each is answered 200 (a redelivery cannot fix it) and kept, unresolved, for a
    finance member: never a 2xx "refused" with the event lost."""
    from charity.models import ParkedEvent

    donation = confirm_at_stripe(client, campaign)
    cases = [
        event("payment_intent.succeeded", _mutated(donation, amount=1)),
        event("payment_intent.succeeded", _mutated(donation, currency="usd")),
        event("payment_intent.succeeded", intent_object(donation), account="acct_someone_else"),
        event(
            "payment_intent.succeeded",
            _mutated(donation, metadata={"donation_id": str(donation.id + 999)}),
        ),
        event("payment_intent.succeeded", _mutated(donation, metadata={})),
    ]
    for payload in cases:
        response = post_event(client, payload)
        assert response.status_code == 200
        assert response.json["status"] == "parked"

    db.session.refresh(donation)
    assert donation.status == "pending"
    assert _transactions(donation) == 0
    assert [r.levelname for r in caplog.records if "parked" in r.getMessage()].count(
        "ERROR"
    ) == len(cases)
    parked = db.session.scalars(sa.select(ParkedEvent)).all()
    assert [p.status for p in parked] == ["unresolved"] * len(cases)
    outcomes = db.session.scalars(sa.select(ProviderEvent.outcome)).all()
    assert outcomes == ["parked"] * len(cases)

    for payload in cases:  # a redelivery changes nothing, the missing donation's included
        assert post_event(client, payload).json["status"] == "duplicate"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ParkedEvent)) == len(cases)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ProviderEvent)) == len(cases)


def test_event_with_our_account_is_accepted(client, campaign):
    donation = confirm_at_stripe(client, campaign)
    payload = event(
        "payment_intent.succeeded", intent_object(donation), account=donation.stripe_account_id
    )
    assert post_event(client, payload).json["status"] == "applied"


def test_payment_failed_records_message_only(client, campaign):
    """The reason is our catalog's words for Stripe's code, never Stripe's English text."""
    donation = give(client, campaign)
    obj = intent_object(donation)
    obj["last_payment_error"] = {
        "message": "Your card has insufficient funds.",
        "code": "card_declined",
        "decline_code": "insufficient_funds",
    }
    assert post_event(client, event("payment_intent.payment_failed", obj)).status_code == 200
    db.session.refresh(donation)
    assert donation.status == "pending"
    assert donation.failure_message == "The card does not have enough funds."


def test_unknown_event_types_are_stored_and_ignored(client, campaign):
    payload = event("customer.created", {"id": "cus_1", "object": "customer"})
    assert post_event(client, payload).json["status"] == "ignored"


def test_malformed_json_with_valid_signature_is_400(client):
    payload = "{not json"
    assert post_event(client, payload).status_code == 400


def _refund_obj(donation, refund_id: str, amount: int) -> dict:  # type: ignore[no-untyped-def]
    return {
        "id": refund_id,
        "object": "refund",
        "amount": amount,
        "currency": "cny",
        "payment_intent": donation.stripe_payment_intent_id,
        "charge": donation.stripe_charge_id,
        "status": "succeeded",
        "metadata": {},
    }


def test_dashboard_refund_is_recorded_once(client, campaign):
    donation = give(client, campaign)
    pay(client, donation)
    charge = {
        "id": donation.stripe_charge_id,
        "object": "charge",
        "amount": 8800,
        "amount_refunded": 3000,
        "currency": "cny",
        "payment_intent": donation.stripe_payment_intent_id,
        "refunds": {"object": "list", "data": [_refund_obj(donation, "re_dash1", 3000)]},
    }
    refunded = event("charge.refunded", charge)
    updated = event("charge.refund.updated", _refund_obj(donation, "re_dash1", 3000))

    assert post_event(client, refunded).json["status"] == "applied"
    assert post_event(client, refunded).json["status"] == "duplicate"
    assert post_event(client, updated).json["status"] == "unchanged"

    db.session.refresh(donation)
    assert donation.refunded_fen == 3000 and donation.status == "partially_refunded"
    assert campaign_raised_fen(db.session, campaign.id) == 5800
    refunds = db.session.scalars(sa.select(Refund).where(Refund.donation_id == donation.id)).all()
    assert len(refunds) == 1 and refunds[0].created_by_id is None


def test_dashboard_over_refund_is_parked_unresolved(client, campaign):
    from charity.models import ParkedEvent

    donation = give(client, campaign)
    pay(client, donation)
    payload = event("refund.updated", _refund_obj(donation, "re_too_much", 9000))
    assert post_event(client, payload).json["status"] == "parked"
    db.session.refresh(donation)
    assert donation.refunded_fen == 0
    parked = db.session.scalars(sa.select(ParkedEvent)).one()
    assert (parked.status, parked.provider_refund_id, parked.amount_fen) == (
        "unresolved",
        "re_too_much",
        9000,
    )


def test_live_webhook_from_localstripe_is_verified(client, campaign):
    """localstripe signs with the same scheme: its own payload passes our verification."""
    donation = confirm_at_stripe(client, campaign)
    body = json.dumps({"id": "evt_x", "type": "ping", "data": {"object": {}}})
    assert post_event(client, body).status_code == 200
    assert donation.stripe_payment_intent_id


def test_refund_event_before_the_payments_success_is_parked_then_applied_once(client, campaign):
    """Issue 14: a refund delivered before its payment's success was answered 200
    "refused" and lost. Now it waits and is applied, once, with the success."""
    import stripe

    from charity.models import ParkedEvent

    donation = confirm_at_stripe(client, campaign)
    refund = stripe.Refund.create(
        payment_intent=donation.stripe_payment_intent_id,
        amount=3000,
        stripe_account=donation.stripe_account_id,
    ).to_dict()
    refund_event = event("refund.updated", refund)
    succeeded = event("payment_intent.succeeded", intent_object(donation))

    assert post_event(client, refund_event).json["status"] == "parked"
    assert post_event(client, refund_event).json["status"] == "duplicate"
    db.session.refresh(donation)
    assert (donation.status, donation.refunded_fen) == ("pending", 0)
    assert db.session.scalar(sa.select(ParkedEvent.status)) == "waiting"

    assert post_event(client, succeeded).json["status"] == "applied"
    db.session.refresh(donation)
    assert (donation.status, donation.refunded_fen) == ("partially_refunded", 3000)
    assert db.session.scalar(sa.select(ParkedEvent.status)) == "applied"
    refunds = db.session.scalars(sa.select(Refund)).all()
    assert [(r.provider_refund_id, r.amount_fen) for r in refunds] == [(refund["id"], 3000)]
    # The same refund again (as charge.refunded) changes nothing.
    assert post_event(client, event("refund.updated", refund)).json["status"] == "unchanged"


def test_signed_but_malformed_event_is_400_not_500(client, campaign):
    donation = give(client, campaign)
    obj = intent_object(donation)
    del obj["amount"]
    response = post_event(client, event("payment_intent.succeeded", obj))
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ProviderEvent)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WebhookRejection)) == 1


def test_provider_notifications_skip_the_browser_hooks(client, campaign, app, caplog, monkeypatch):  # type: ignore[no-untyped-def]
    """A provider's server is no browser (charity.core.notifications): the webhook gets no
    session cookie, no browser security headers and, when it succeeded, no request log
    line; it keeps its request id. A page still gets all of them."""
    import logging

    donation = confirm_at_stripe(client, campaign)
    client.get("/?lang=en")  # a browser's session, with a language, in the same client
    monkeypatch.setitem(app.config, "LOG_REQUESTS", True)
    with caplog.at_level(logging.INFO, logger="charity.request"):
        response = post_event(client, event("payment_intent.succeeded", intent_object(donation)))
        rejected = client.post("/stripe/webhook", data="{}", content_type="application/json")
        page = client.get("/")
    assert response.status_code == 200 and response.json["status"] == "applied"
    assert "Set-Cookie" not in response.headers
    assert "Content-Security-Policy" not in response.headers
    assert response.headers.get("X-Request-ID")
    assert rejected.status_code == 400
    assert "Content-Security-Policy" in page.headers
    logged = [r.getMessage() for r in caplog.records if r.name == "charity.request"]
    assert not any("/stripe/webhook 200" in line for line in logged), logged
    assert any("/stripe/webhook 400" in line for line in logged), logged
    assert any(line.startswith("GET / ") for line in logged), logged


def test_the_delivery_s_lock_statement_stays_in_psycopg_s_statement_cache():
    """psycopg converts (and caches the conversion of) statements up to 4 KiB only: a
    longer one is parsed again on every confirmation."""
    sql = str(_STORE_AND_LOCK_PG.compile(dialect=pg.dialect()))
    assert len(sql.encode()) <= MAX_CACHED_STATEMENT_LENGTH
