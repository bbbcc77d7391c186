"""Public log events (no personal data, recomputable commitment), CSRF, who may give."""

from __future__ import annotations

import hashlib
import json

import pytest
import sqlalchemy as sa

from charity.core import events
from charity.extensions import db
from charity.models import Donation
from tests.support.factories import PASSWORD, CampaignFactory, UserFactory
from tests.support.payments import event, give, intent_object, pay, post_event


@pytest.fixture
def recorded():  # type: ignore[no-untyped-def]
    seen: list[events.Event] = []

    def handler(_session, recorded_event):  # type: ignore[no-untyped-def]
        seen.append(recorded_event)

    events.subscribe(handler)
    yield seen
    events.unsubscribe(handler)


def test_succeeded_event_has_no_personal_data_and_a_recomputable_commitment(
    client, campaign, recorded
):
    donation = give(client, campaign, donor_name="王小明", donor_email="Wang@Example.org")
    pay(client, donation)

    (succeeded,) = [e for e in recorded if e.type == "donation.succeeded"]
    data = dict(succeeded.data)
    assert succeeded.subject_table == "donations" and succeeded.subject_id == donation.id
    assert data["amount_fen"] == 8800 and data["currency"] == "CNY"
    assert data["org_uscc"] == campaign.organization.uscc
    assert data["receipt_number"] == donation.receipt_number
    text = json.dumps(data, ensure_ascii=False)
    assert "王小明" not in text and "example.org" not in text.lower()

    # What the receipt page shows is enough to recompute the public commitment.
    page = client.get(f"/donations/{donation.public_token}").get_data(as_text=True)
    salt = donation.commitment_salt
    donor_json = '{"email":"wang@example.org","name":"王小明"}'
    assert salt in page
    assert donor_json.replace('"', "&#34;") in page or donor_json in page
    recomputed = hashlib.sha256(bytes.fromhex(salt) + donor_json.encode()).hexdigest()
    assert recomputed == data["donor_commitment"] == donation.donor_commitment


def test_payload_builder_keeps_the_commitment_after_erasure(client, campaign):
    donation = give(client, campaign)
    pay(client, donation)
    before = events.build_payload(db.session, "donation.succeeded", donation.id)
    donation.donor_name = donation.donor_email = donation.commitment_salt = None
    db.session.flush()
    assert events.build_payload(db.session, "donation.succeeded", donation.id) == before


def test_refund_records_one_refund_event(client, campaign, recorded):
    from tests.support.payments import log_in_finance, post_refund

    donation = give(client, campaign)
    pay(client, donation)
    log_in_finance(client, campaign.organization)
    post_refund(client, donation, "10")
    (refunded,) = [e for e in recorded if e.type == "donation.refunded"]
    assert refunded.subject_table == "refunds"
    assert refunded.data["refund_amount_fen"] == 1000
    assert refunded.data["donation_id"] == donation.id


@pytest.fixture
def csrf_on(app):  # type: ignore[no-untyped-def]
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


def test_webhook_is_the_only_csrf_exempt_endpoint(client, campaign, csrf_on):
    response = client.post(
        f"/campaigns/{campaign.id}/donate",
        data={"amount": "8800", "donor_name": "王", "donor_email": "a@example.org"},
    )
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Donation)) == 0
    confirm = client.post("/donations/whatever/confirm", data={"setup_intent": "seti_x"})
    assert confirm.status_code == 400
    payload = event("customer.created", {"id": "cus_1", "object": "customer"})
    assert post_event(client, payload).status_code == 200


def test_confirm_without_csrf_token_is_refused(client, campaign, app):
    donation = give(client, campaign)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post(
            f"/donations/{donation.public_token}/confirm", data={"setup_intent": "seti_x"}
        )
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 400
    assert donation.status == "pending"


def test_draft_and_closed_campaigns_take_no_gifts(client, stripe_app):
    for status in ("draft", "closed"):
        campaign = CampaignFactory(status=status)
        response = client.post(
            f"/campaigns/{campaign.id}/donate",
            data={"amount": "8800", "donor_name": "王", "donor_email": "a@example.org"},
        )
        assert response.status_code in (400, 404)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Donation)) == 0


def test_org_without_stripe_account_takes_no_gifts(client, stripe_app):
    campaign = CampaignFactory(organization__stripe_account_id=None)
    response = client.post(
        f"/campaigns/{campaign.id}/donate",
        data={"amount": "8800", "donor_name": "王", "donor_email": "a@example.org"},
    )
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Donation)) == 0


def test_logged_in_donor_sees_their_gifts(client, campaign):
    user = UserFactory()
    client.post("/account/login", data={"email": user.email, "password": PASSWORD})
    form = client.get(f"/campaigns/{campaign.id}/donate").get_data(as_text=True)
    assert user.email in form
    donation = give(client, campaign, donor_email=user.email)
    pay(client, donation)
    assert donation.donor_user_id == user.id
    old = client.get("/donations/mine")  # the old address leads to the one 我的捐赠 page
    assert old.status_code == 301 and old.headers["Location"].endswith("/account/gifts")
    mine = client.get("/account/gifts").get_data(as_text=True)
    assert donation.public_token in mine


def test_unknown_receipt_token_is_404(client, stripe_app):
    assert client.get("/donations/not-a-token").status_code == 404
    assert client.get("/donations/not-a-token/receipt.pdf").status_code == 404


def test_stale_intent_webhook_after_retry_is_parked_for_finance(client, campaign):
    """A succeeded event for a replaced PaymentIntent id never counts, and is never lost:
    money taken on a replaced intent is parked for a finance member to refund."""
    from charity.models import ParkedEvent

    donation = give(client, campaign)
    old = intent_object(donation)
    pay(client, donation, "4000000000000341")
    pay(client, donation)
    old["status"] = "succeeded"
    response = post_event(client, event("payment_intent.succeeded", old))
    assert response.status_code == 200 and response.json["status"] == "parked"
    parked = db.session.scalars(sa.select(ParkedEvent)).one()
    assert (parked.status, parked.donation_id) == ("unresolved", donation.id)
    assert parked.organization_id == campaign.organization_id
    assert "is not" in parked.reason


def test_setup_intent_of_another_donation_is_not_used(client, campaign):
    from tests.support.payments import browser_sets_up_card

    first = give(client, campaign)
    second = give(client, campaign)
    html = client.get(f"/donations/{first.public_token}/pay").get_data(as_text=True)
    secret = html.split('data-client-secret="')[1].split('"')[0]
    seti = browser_sets_up_card(first.stripe_account_id, secret, "4242424242424242")
    response = client.post(f"/donations/{second.public_token}/confirm", data={"setup_intent": seti})
    assert response.status_code == 402
    assert second.status == "pending" and first.status == "pending"
