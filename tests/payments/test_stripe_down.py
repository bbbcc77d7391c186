"""When Stripe cannot be reached: the gift is kept, nothing is applied, retries work."""

from __future__ import annotations

import socket

import pytest
import sqlalchemy as sa

from charity.extensions import db
from charity.models import Donation, ProviderEvent
from tests.support.payments import event, intent_object, pay, post_event


@pytest.fixture
def stripe_down(stripe_app):  # type: ignore[no-untyped-def]
    """Point the app at a closed 127.0.0.1 port for the duration of ``with``."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    working = stripe_app.config["STRIPE_API_BASE"]

    class Switch:
        def __enter__(self):  # type: ignore[no-untyped-def]
            stripe_app.config["STRIPE_API_BASE"] = closed

        def __exit__(self, *exc):  # type: ignore[no-untyped-def]
            stripe_app.config["STRIPE_API_BASE"] = working

    yield Switch()
    stripe_app.config["STRIPE_API_BASE"] = working


def test_signed_payment_event_is_applied_while_stripe_api_is_down(client, campaign, stripe_down):
    """The signed event is Stripe's word (guarantee 4): confirming a gift does not wait on
    Stripe's API, which on a giving day may be slow or rate-limited."""
    from tests.support.payments import confirm_at_stripe

    donation = confirm_at_stripe(client, campaign)
    payload = event("payment_intent.succeeded", intent_object(donation))
    with stripe_down:
        response = post_event(client, payload)
    assert response.status_code == 200 and response.json["status"] == "applied"
    db.session.refresh(donation)
    assert donation.status == "succeeded" and donation.receipt_number
    assert post_event(client, payload).json["status"] == "duplicate"  # Stripe's redelivery


def test_invoice_event_is_deferred_with_503_then_applied_on_redelivery(
    client, campaign, stripe_down
):
    """A renewal is checked against Stripe (the invoice and its PaymentIntent): with
    Stripe unreachable nothing is stored and the 503 makes Stripe deliver again."""
    from tests.support.gifts import give_monthly, renewal_invoice, set_up_card

    gift = give_monthly(client, campaign)
    assert set_up_card(client, gift).status_code == 200
    payload = event("invoice.payment_succeeded", renewal_invoice(gift))
    before = db.session.scalar(sa.select(sa.func.count()).select_from(ProviderEvent))
    with stripe_down:
        response = post_event(client, payload)
    assert response.status_code == 503
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ProviderEvent)) == before

    assert post_event(client, payload).json["status"] == "applied"  # Stripe's retry
    renewals = db.session.scalars(
        sa.select(Donation).where(
            Donation.recurring_gift_id == gift.id, Donation.status == "succeeded"
        )
    ).all()
    assert len(renewals) == 2


def test_gift_is_kept_when_stripe_is_down_and_can_be_paid_later(client, campaign, stripe_down):
    with stripe_down:
        response = client.post(
            f"/campaigns/{campaign.id}/donate",
            data={"amount": "8800", "donor_name": "王", "donor_email": "a@example.org"},
        )
        assert response.status_code == 302
        donation = db.session.scalars(sa.select(Donation)).one()
        assert donation.stripe_payment_intent_id is None
        page = client.get(f"/donations/{donation.public_token}/pay")
        assert page.status_code == 503
    assert pay(client, donation).json["status"] == "succeeded"
