"""localstripe delivers its own signed webhooks to a live server of the app under test."""

from __future__ import annotations

import contextlib
import threading
import time
import urllib.parse
import urllib.request

import pytest
import sqlalchemy as sa
import stripe
from werkzeug.serving import make_server

from charity.extensions import db
from charity.models import Donation, LedgerTransaction, ProviderEvent
from charity.services import donations
from tests.support.factories import CampaignFactory
from tests.support.payments import SECRET, running_localstripe


@pytest.fixture
def live(stripe_app, committed_db):  # type: ignore[no-untyped-def]
    """A fresh localstripe whose webhook points at a live server of the app."""
    server = make_server("127.0.0.1", 0, stripe_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    shared_base = stripe_app.config["STRIPE_API_BASE"]
    with running_localstripe() as base:
        data = urllib.parse.urlencode(
            {"url": f"http://127.0.0.1:{server.server_port}/stripe/webhook", "secret": SECRET}
        ).encode()
        urllib.request.urlopen(f"{base}/_config/webhooks/live", data=data, timeout=10).close()  # noqa: S310
        stripe_app.config["STRIPE_API_BASE"] = base
        try:
            yield base
        finally:
            stripe_app.config["STRIPE_API_BASE"] = shared_base
            server.shutdown()
            thread.join()


def _pending_donation(app) -> Donation:  # type: ignore[no-untyped-def]
    campaign = CampaignFactory()
    db.session.commit()
    command = donations.NewDonation(
        campaign_id=campaign.id,
        amount_fen=8800,
        donor_name="王小明",
        donor_email="donor@example.org",
        is_anonymous=False,
        consent_show_name=True,
        message="",
        receipt_wanted=True,
        max_amount_fen=app.config["DONATION_MAX_FEN"],
    )
    donation = donations.create_donation(db.session, None, command)
    db.session.commit()
    donations.ensure_payment_intent(db.session, donation.id)
    db.session.commit()
    return donation


def _pay_at_stripe(donation: Donation, number: str) -> None:
    """The card step as Stripe would run it (no call to our server)."""
    method = stripe.PaymentMethod.create(
        type="card",
        card={"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"},
        stripe_account=donation.stripe_account_id,
    ).to_dict()["id"]
    stripe.PaymentIntent.modify(
        donation.stripe_payment_intent_id,
        payment_method=method,
        stripe_account=donation.stripe_account_id,
    )
    with contextlib.suppress(stripe.CardError):  # a decline is what one test wants
        stripe.PaymentIntent.confirm(
            donation.stripe_payment_intent_id, stripe_account=donation.stripe_account_id
        )


def _wait_for_event(event_type: str) -> ProviderEvent:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        db.session.rollback()
        row = db.session.scalar(sa.select(ProviderEvent).where(ProviderEvent.type == event_type))
        if row is not None:
            return row
        time.sleep(0.1)
    raise AssertionError(f"no {event_type} webhook arrived")


def test_localstripe_success_webhook_makes_the_gift_succeed(stripe_app, live):
    donation = _pending_donation(stripe_app)
    _pay_at_stripe(donation, "4242424242424242")

    row = _wait_for_event("payment_intent.succeeded")

    assert row.outcome == "applied"
    db.session.rollback()
    donation = db.session.get(Donation, donation.id)
    assert donation.status == "succeeded" and donation.receipt_number
    count = sa.select(sa.func.count()).select_from(LedgerTransaction)
    assert db.session.scalar(count) == 1


def test_localstripe_failure_webhook_records_the_decline(stripe_app, live):
    donation = _pending_donation(stripe_app)
    _pay_at_stripe(donation, "4000000000000341")

    row = _wait_for_event("payment_intent.payment_failed")

    assert row.outcome == "applied"
    db.session.rollback()
    donation = db.session.get(Donation, donation.id)
    assert donation.status == "pending" and "declined" in donation.failure_message
