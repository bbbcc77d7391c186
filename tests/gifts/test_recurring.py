"""Monthly gifts on the real Stripe SDK against localstripe: the first month, renewals by
signed invoice events, a failed renewal, cancellation; duplicates and reordering."""

from __future__ import annotations

import sqlalchemy as sa
import stripe

from charity.extensions import db
from charity.models import AuditEntry, Donation, LedgerTransaction, RecurringFailure
from charity.services.ledger import campaign_raised_fen
from tests.support.gifts import give_monthly, invoice_object, renewal_invoice, set_up_card
from tests.support.payments import event, post_event

DECLINED = "4000000000000341"


def _donations(gift) -> list[Donation]:  # type: ignore[no-untyped-def]
    return list(
        db.session.scalars(
            sa.select(Donation).where(Donation.recurring_gift_id == gift.id).order_by(Donation.id)
        )
    )


def _count(model, *where) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def _logged(donations) -> int:  # type: ignore[no-untyped-def]
    return _count(
        AuditEntry,
        AuditEntry.event_type == "donation.succeeded",
        AuditEntry.subject_id.in_([d.id for d in donations]),
    )


def test_monthly_gift_renewals_failure_and_cancel(client, campaign, mail_outbox):
    gift = give_monthly(client, campaign)
    assert gift.status == "pending" and gift.amount_fen == 5000

    answer = set_up_card(client, gift)

    assert answer.status_code == 200, answer.get_data(as_text=True)
    db.session.refresh(gift)
    assert gift.status == "active" and gift.stripe_subscription_id.startswith("sub_")
    subscription = stripe.Subscription.retrieve(
        gift.stripe_subscription_id, stripe_account=gift.stripe_account_id
    )
    assert subscription.status == "active"
    assert subscription.to_dict()["items"]["data"][0]["plan"]["interval"] == "month"
    [first] = _donations(gift)
    assert first.channel == "recurring" and first.status == "succeeded"
    assert first.receipt_number and first.stripe_invoice_id
    first_invoice = invoice_object(gift, first.stripe_invoice_id)
    # Stripe's own event for the first invoice arrives afterwards: nothing changes.
    assert (
        post_event(client, event("invoice.payment_succeeded", first_invoice)).json["status"]
        == "unchanged"
    )

    renewal = renewal_invoice(gift)
    payload = event("invoice.payment_succeeded", renewal)
    assert post_event(client, payload).json["status"] == "applied"
    assert post_event(client, payload).json["status"] == "duplicate"
    assert post_event(client, event("invoice.paid", renewal)).json["status"] == "unchanged"

    first_db, second = _donations(gift)
    assert second.stripe_invoice_id == renewal["id"] and second.status == "succeeded"
    assert second.receipt_number and second.receipt_number != first_db.receipt_number
    assert second.donor_commitment != first_db.donor_commitment  # a salt per gift
    assert _count(LedgerTransaction, LedgerTransaction.donation_id.in_([first.id, second.id])) == 2
    assert _logged([first_db, second]) == 2
    assert campaign_raised_fen(db.session, campaign.id) == 2 * 5000
    assert len([m for m in mail_outbox if m["To"] == "monthly@example.org"]) == 2  # two receipts

    failed = renewal_invoice(gift, card=DECLINED)
    assert failed["status"] == "open"
    failed_payload = event("invoice.payment_failed", failed)
    assert post_event(client, failed_payload).json["status"] == "applied"
    assert post_event(client, event("invoice.payment_failed", failed)).json["status"] == (
        "unchanged"
    )
    db.session.refresh(gift)
    assert gift.status == "past_due"
    assert _count(RecurringFailure, RecurringFailure.recurring_gift_id == gift.id) == 1
    notice = mail_outbox[-1]
    assert notice["To"] == "monthly@example.org"
    assert f"/monthly/{gift.public_token}/pay" in notice.get_body(("plain",)).get_content()
    assert len(_donations(gift)) == 2

    # Out of order: a stale "failed" for an invoice already paid changes nothing.
    assert post_event(client, event("invoice.payment_failed", renewal)).json["status"] == (
        "unchanged"
    )
    assert _count(RecurringFailure, RecurringFailure.recurring_gift_id == gift.id) == 1

    response = client.post(f"/monthly/{gift.public_token}/cancel", data={"confirmed": "yes"})
    assert response.status_code == 303
    db.session.refresh(gift)
    assert gift.status == "canceled" and gift.canceled_at is not None
    subscription = stripe.Subscription.retrieve(
        gift.stripe_subscription_id, stripe_account=gift.stripe_account_id
    )
    assert subscription.status == "canceled"
    page = client.get(f"/monthly/{gift.public_token}").get_data(as_text=True)
    assert "No further payments" in page and first_db.receipt_number in page
    assert len(_donations(gift)) == 2
    assert campaign_raised_fen(db.session, campaign.id) == 2 * 5000


def test_renewals_applied_in_reverse_order(client, campaign):
    gift = give_monthly(client, campaign, amount="2000")
    assert set_up_card(client, gift).status_code == 200
    db.session.refresh(gift)
    later_a = renewal_invoice(gift)
    later_b = renewal_invoice(gift)

    for obj in (later_b, later_a, later_b, later_a):
        post_event(client, event("invoice.payment_succeeded", obj))

    assert [d.stripe_invoice_id for d in _donations(gift)][1:] == [later_b["id"], later_a["id"]]
    assert len(_donations(gift)) == 3
    assert campaign_raised_fen(db.session, campaign.id) == 3 * 2000


def test_invoice_events_that_do_not_match_are_parked(client, campaign):
    gift = give_monthly(client, campaign)
    assert set_up_card(client, gift).status_code == 200
    db.session.refresh(gift)
    renewal = renewal_invoice(gift)
    cases = [
        {**renewal, "amount_due": 1, "amount_paid": 1},
        {**renewal, "currency": "usd"},
        {**renewal, "subscription": "sub_unknown", "parent": None},
    ]
    for obj in cases:
        assert post_event(client, event("invoice.payment_succeeded", obj)).json["status"] == (
            "parked"
        )
    other_account = event("invoice.payment_succeeded", renewal, account="acct_someone_else")
    assert post_event(client, other_account).json["status"] == "parked"
    assert len(_donations(gift)) == 1


def test_declined_first_month_leaves_no_subscription(client, campaign):
    gift = give_monthly(client, campaign)

    answer = set_up_card(client, gift, number=DECLINED)

    assert answer.status_code == 402 and answer.json["client_secret"]
    db.session.refresh(gift)
    assert gift.status == "pending" and gift.stripe_subscription_id is None
    assert _donations(gift) == []
    assert set_up_card(client, gift).status_code == 200
    db.session.refresh(gift)
    assert gift.status == "active" and len(_donations(gift)) == 1


def test_monthly_form_refuses_bad_amount(client, campaign):
    response = client.post(
        f"/campaigns/{campaign.id}/donate",
        data={
            "amount": "custom",
            "custom_amount": "0.5",
            "frequency": "monthly",
            "donor_name": "x",
            "donor_email": "x@example.org",
        },
    )
    assert response.status_code == 400
    assert _count(Donation) == 0


def test_account_lists_monthly_gifts_and_cancels(client, campaign, login):
    from tests.support.factories import UserFactory

    user = UserFactory()
    login(user)
    gift = give_monthly(client, campaign)
    assert gift.donor_user_id == user.id
    assert set_up_card(client, gift).status_code == 200
    page = client.get("/account/gifts").get_data(as_text=True)
    assert f"/monthly/{gift.public_token}/cancel" in page
    assert (
        client.post(f"/monthly/{gift.public_token}/cancel", data={"confirmed": "yes"}).status_code
        == 303
    )
    db.session.refresh(gift)
    assert gift.status == "canceled"


def test_subscription_made_but_never_stored_is_adopted_from_the_webhook(client, campaign):
    """Stripe subscribed and charged, but our set-up request died before its commit: the
    invoice event finds the gift by the subscription's metadata and records the money."""
    gift = give_monthly(client, campaign)
    account = gift.stripe_account_id
    method = stripe.PaymentMethod.create(
        type="card",
        card={"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"},
        stripe_account=account,
    )
    customer = stripe.Customer.create(
        payment_method=method.id,
        invoice_settings={"default_payment_method": method.id},
        stripe_account=account,
    )
    product = stripe.Product.create(name="Monthly gift", stripe_account=account)
    plan = stripe.Plan.create(
        product=product.id, amount=5000, currency="cny", interval="month", stripe_account=account
    )
    sub = stripe.Subscription.create(
        customer=customer.id,
        items=[{"plan": plan.id}],
        metadata={"recurring_gift_id": str(gift.id)},
        stripe_account=account,
    )
    invoice = invoice_object(gift, sub.latest_invoice)

    assert post_event(client, event("invoice.payment_succeeded", invoice)).json["status"] == (
        "applied"
    )

    db.session.refresh(gift)
    assert gift.status == "active" and gift.stripe_subscription_id == sub.id
    [donation] = _donations(gift)
    assert donation.status == "succeeded" and donation.receipt_number

    # A subscription that is not ours (no or foreign metadata) is refused.
    stranger = stripe.Subscription.create(
        customer=customer.id, items=[{"plan": plan.id}], stripe_account=account
    )
    foreign = invoice_object(gift, stranger.latest_invoice)
    assert post_event(client, event("invoice.payment_succeeded", foreign)).json["status"] == (
        "parked"
    )
    assert len(_donations(gift)) == 1
