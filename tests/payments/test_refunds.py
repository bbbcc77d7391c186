"""Refunds by an organization's finance member: partial, full, never too much."""

from __future__ import annotations

import sqlalchemy as sa

from charity.extensions import db
from charity.models import Refund
from charity.services.ledger import campaign_raised_fen
from tests.support.payments import event, give, log_in_finance, pay, post_event, post_refund


def test_partial_then_full_refund(client, campaign, mail_outbox):
    donation = give(client, campaign)
    pay(client, donation)
    mail_outbox.clear()
    log_in_finance(client, campaign.organization)

    assert post_refund(client, donation, "30").status_code == 302
    db.session.refresh(donation)
    assert donation.status == "partially_refunded" and donation.refunded_fen == 3000
    assert campaign_raised_fen(db.session, campaign.id) == 5800

    assert post_refund(client, donation, "58").status_code == 302
    db.session.refresh(donation)
    assert donation.status == "refunded" and donation.refunded_fen == 8800
    assert campaign_raised_fen(db.session, campaign.id) == 0
    assert [m["To"] for m in mail_outbox] == ["donor@example.org"] * 2
    listing = client.get(f"/orgs/{campaign.organization_id}/donations")
    assert donation.receipt_number in listing.get_data(as_text=True)


def test_over_refund_refused_and_nothing_changes(client, campaign):
    donation = give(client, campaign)
    pay(client, donation)
    log_in_finance(client, campaign.organization, role="owner")

    for amount in ("88.01", "0", "-1", "abc"):
        assert post_refund(client, donation, amount).status_code == 400
    assert post_refund(client, donation, "50", reason="").status_code == 400
    assert post_refund(client, donation, "88").status_code == 302
    assert post_refund(client, donation, "1").status_code == 400

    db.session.refresh(donation)
    assert donation.refunded_fen == 8800
    count = sa.select(sa.func.count()).select_from(Refund).where(Refund.donation_id == donation.id)
    assert db.session.scalar(count) == 1


def test_refund_webhooks_for_our_refund_change_nothing(client, campaign):
    donation = give(client, campaign)
    pay(client, donation)
    log_in_finance(client, campaign.organization)
    post_refund(client, donation, "20")
    refund = db.session.scalars(sa.select(Refund).where(Refund.donation_id == donation.id)).one()
    obj = {
        "id": refund.provider_refund_id,
        "object": "refund",
        "amount": 2000,
        "currency": "cny",
        "payment_intent": donation.stripe_payment_intent_id,
        "charge": donation.stripe_charge_id,
        "status": "succeeded",
    }
    charge = {
        "id": donation.stripe_charge_id,
        "object": "charge",
        "currency": "cny",
        "amount_refunded": 2000,
        "payment_intent": donation.stripe_payment_intent_id,
        "refunds": {"data": [obj]},
    }
    for payload in (event("charge.refunded", charge), event("refund.updated", obj)):
        assert post_event(client, payload).json["status"] == "unchanged"
    db.session.refresh(donation)
    assert donation.refunded_fen == 2000


def test_only_finance_or_owner_may_refund(client, campaign):
    donation = give(client, campaign)
    pay(client, donation)
    log_in_finance(client, campaign.organization, role="editor")
    assert post_refund(client, donation, "10").status_code == 403
    assert client.get(f"/orgs/{campaign.organization_id}/donations").status_code == 403


def test_pending_donation_cannot_be_refunded(client, campaign):
    donation = give(client, campaign)
    log_in_finance(client, campaign.organization)
    assert post_refund(client, donation, "10").status_code == 400
