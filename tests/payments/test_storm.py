"""The storm: 300 gifts across Stripe, WeChat Pay and Alipay on PostgreSQL, a third of
them refunded at the provider, every notification delivered 2–4 times in a shuffled order
(refunds before their payments' successes included) by 32 concurrent senders to a live
server. Afterwards the books are exact, each payment and each refund is one ledger
transaction, receipts are gapless, nothing is parked, and reconciliation against the
three providers' statements finds zero differences; then a refund deleted by hand from our
database is found by the next reconciliation.
"""

from __future__ import annotations

import random
import threading
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest
import sqlalchemy as sa
import stripe
from werkzeug.serving import make_server

from charity.core.clock import CST
from charity.extensions import db
from charity.models import (
    Donation,
    LedgerEntry,
    LedgerTransaction,
    ParkedEvent,
    Refund,
    utcnow,
)
from charity.services import donations, reconciliation, wallet_payments
from charity.services.ledger import campaign_raised_fen, check_books
from tests.support.factories import CampaignFactory
from tests.support.payments import connect, event, intent_object, sign, sim_call

PER_PROVIDER = 100
SENDERS = 32


@pytest.fixture
def live(wallet_app, committed_db, postgres_only):  # type: ignore[no-untyped-def]
    server = make_server("127.0.0.1", 0, wallet_app, threaded=True)
    server.request_queue_size = 128
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


def _donation(campaign, amount: int, n: int) -> Donation:  # type: ignore[no-untyped-def]
    return donations.create_donation(
        db.session,
        None,
        donations.NewDonation(
            campaign_id=campaign.id,
            amount_fen=amount,
            donor_name=f"捐赠人{n}",
            donor_email=f"donor{n}@example.org",
            is_anonymous=False,
            consent_show_name=False,
            message="",
            receipt_wanted=True,
            max_amount_fen=5_000_000,
        ),
    )


def _wallet_gift(
    campaign, provider: str, amount: int, n: int, live: str, alipay_sim: str
) -> Donation:  # type: ignore[no-untyped-def]
    gift = _donation(campaign, amount, n)
    db.session.commit()
    started = wallet_payments.start_wallet_payment(
        db.session,
        wallet_payments.StartPayment(
            donation_id=gift.id,
            provider=provider,
            method="native" if provider == "wechatpay" else "page",
            site_url=live,
            return_url=f"{live}/donations/{gift.public_token}",
            client_ip="127.0.0.1",
            minutes=15,
        ),
        utcnow(),
    )
    db.session.commit()
    if provider == "alipay":  # the trade exists once the donor opens the cashier
        urllib.request.urlopen(started.checkout.value, timeout=30).close()  # noqa: S310
    return gift


def _card_gift(campaign, amount: int, n: int) -> Donation:  # type: ignore[no-untyped-def]
    gift = _donation(campaign, amount, n)
    db.session.commit()
    donations.ensure_payment_intent(db.session, gift.id)
    db.session.commit()
    method = stripe.PaymentMethod.create(
        type="card",
        card={"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"},
        stripe_account=gift.stripe_account_id,
    )
    stripe.PaymentIntent.modify(
        gift.stripe_payment_intent_id,
        payment_method=method.id,
        stripe_account=gift.stripe_account_id,
    )
    stripe.PaymentIntent.confirm(
        gift.stripe_payment_intent_id, stripe_account=gift.stripe_account_id
    )
    return gift


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:  # noqa: S310 - 127.0.0.1
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_storm_of_notifications_from_three_providers(live, wallet_app, wechatpay_sim, alipay_sim):
    rng = random.Random(14)
    campaign = CampaignFactory()
    organization = campaign.organization
    wechat = connect(organization, "wechatpay", sim_call(wechatpay_sim, "/_sim/merchants", {}))
    alipay = connect(organization, "alipay", sim_call(alipay_sim, "/_sim/apps", {}))
    db.session.commit()
    stripe.api_key = wallet_app.config["STRIPE_SECRET_KEY"]
    stripe.api_base = wallet_app.config["STRIPE_API_BASE"]

    gifts: dict[str, list[Donation]] = {"stripe": [], "wechatpay": [], "alipay": []}
    for n in range(PER_PROVIDER * 3):
        provider = ("stripe", "wechatpay", "alipay")[n % 3]
        amount = rng.randrange(100, 50_000)
        if provider == "stripe":
            gifts[provider].append(_card_gift(campaign, amount, n))
        else:
            gifts[provider].append(_wallet_gift(campaign, provider, amount, n, live, alipay_sim))
    for gift in gifts["wechatpay"]:
        sim_call(wechatpay_sim, f"/_sim/orders/{wechat.public_id}/{gift.provider_order_no}/pay", {})
    for gift in gifts["alipay"]:
        sim_call(alipay_sim, f"/_sim/trades/{alipay.public_id}/{gift.provider_order_no}/pay", {})

    # A third of the gifts are (partly) refunded at the provider itself.
    expected_refunds: dict[int, int] = {}
    stripe_deliveries: list[tuple[str, str]] = []
    for provider, batch in gifts.items():
        for gift in batch[::3]:
            amount = rng.randrange(1, gift.amount_fen + 1)
            expected_refunds[gift.id] = amount
            order = {"out_trade_no": gift.provider_order_no, "amount": amount}
            if provider == "wechatpay":
                sim_call(wechatpay_sim, "/_sim/refunds", {"mchid": wechat.public_id, **order})
            elif provider == "alipay":
                sim_call(alipay_sim, "/_sim/refunds", {"app_id": alipay.public_id, **order})
            else:
                refund = stripe.Refund.create(
                    payment_intent=gift.stripe_payment_intent_id,
                    amount=amount,
                    stripe_account=gift.stripe_account_id,
                ).to_dict()
                stripe_deliveries.append(("refund", event("refund.updated", refund)))
    for gift in gifts["stripe"]:
        stripe_deliveries.append(("paid", event("payment_intent.succeeded", intent_object(gift))))

    # Every notification, signed by its provider, 2-4 times, shuffled.
    deliveries: list[tuple[str, str, bytes, dict[str, str]]] = []
    for kind, payload in stripe_deliveries:
        headers = {"Content-Type": "application/json", "Stripe-Signature": sign(payload)}
        deliveries.append((kind, f"{live}/stripe/webhook", payload.encode(), headers))
    for base, account in ((wechatpay_sim, wechat), (alipay_sim, alipay)):
        for note in sim_call(base, "/_sim/notifications")["notifications"]:
            if note["url"].endswith(f"/{account.provider}/notify/{account.id}"):
                kind = (
                    "paid" if note["kind"] in ("TRANSACTION.SUCCESS", "TRADE_SUCCESS") else "refund"
                )
                deliveries.append((kind, note["url"], note["body"].encode(), note["headers"]))
    assert Counter(kind for kind, *_ in deliveries) == {
        "paid": 300,
        "refund": len(expected_refunds),
    }
    storm = [d for d in deliveries for _ in range(rng.randint(2, 4))]
    rng.shuffle(storm)
    refunds_first = [d for d in storm if d[0] == "refund"][:30]
    storm = refunds_first + storm  # some refunds certainly before their successes

    with ThreadPoolExecutor(max_workers=SENDERS) as pool:
        answers = list(pool.map(lambda d: _post(d[1], d[2], d[3]), storm))
    statuses = Counter(status for status, _body in answers)
    assert set(statuses) <= {200, 204}, (statuses, [a for a in answers if a[0] >= 300][:5])
    assert all(
        body == "success"
        for (_k, url, *_), (_s, body) in zip(storm, answers, strict=True)
        if "/alipay/" in url
    )

    amounts = {gift.id: gift.amount_fen for batch in gifts.values() for gift in batch}
    campaign_id, organization_id = campaign.id, organization.id
    db.session.remove()
    rows = {
        d.id: d
        for d in db.session.scalars(sa.select(Donation).where(Donation.campaign_id == campaign_id))
    }
    assert set(rows) == set(amounts)
    for gift_id, row in rows.items():
        assert row.refunded_fen == expected_refunds.get(gift_id, 0), row.id
        assert row.status in ("succeeded", "partially_refunded", "refunded")
    total = sum(amounts.values()) - sum(expected_refunds.values())
    assert campaign_raised_fen(db.session, campaign_id) == total
    kinds = Counter(
        db.session.scalars(
            sa.select(LedgerTransaction.kind).where(LedgerTransaction.donation_id.in_(list(rows)))
        )
    )
    assert kinds == {"donation": 300, "refund": len(expected_refunds)}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Refund)) == len(
        expected_refunds
    )
    seqs = sorted(row.receipt_seq for row in rows.values())
    assert seqs == list(range(1, 301))  # gapless
    assert not db.session.scalars(
        sa.select(ParkedEvent).where(ParkedEvent.status != "applied")
    ).all()
    problems, _notes = check_books(db.session)
    assert problems == []

    today = datetime.now(CST).date()
    runs = reconciliation.reconcile_day(db.session, today, organization_id)
    db.session.commit()
    assert {(r.provider, r.status, r.difference_count) for r in runs} == {
        ("stripe", "ok", 0), ("wechatpay", "ok", 0), ("alipay", "ok", 0),
    }  # fmt: skip
    assert sum(r.their_lines for r in runs) == 300 + len(expected_refunds)

    # Then a refund disappears from our side: the next reconciliation finds it.
    lost = db.session.scalars(
        sa.select(Refund).where(Refund.payment_provider == "alipay").order_by(Refund.id)
    ).first()
    tx = db.session.scalar(
        sa.select(LedgerTransaction.id).where(LedgerTransaction.refund_id == lost.id)
    )
    db.session.execute(sa.delete(LedgerEntry).where(LedgerEntry.transaction_id == tx))
    db.session.execute(sa.delete(LedgerTransaction).where(LedgerTransaction.id == tx))
    db.session.execute(sa.delete(Refund).where(Refund.id == lost.id))
    db.session.commit()
    runs = reconciliation.reconcile_day(db.session, today, organization_id)
    found = [(d.kind, d.line_kind, d.reference, d.donation_id) for r in runs for d in r.differences]
    assert found == [("theirs_only", "refund", lost.provider_refund_id, lost.donation_id)]
