"""The burst (PostgreSQL): 500 successful gifts delivered as signed Stripe webhooks by
parallel senders to a live server, against a 1:1 matching pool that runs out mid-burst,
with refunds (full and partial) of 60 matched gifts arriving during the burst.

Afterwards: the pool's allocated total is exactly its cap, every gift succeeded once and
was matched at most once, only one gift ever got a partial match from the pool's last
yuan, every refund released exactly its share of its match, and `flask ledger check`
(books, matches, releases, log entries) finds nothing wrong.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from charity.core.clock import today_cst
from charity.extensions import db
from charity.models import Donation, Match, MatchingPool, MatchRelease, Refund
from charity.services import donations, givingdays, ledger
from tests.support.factories import (
    CampaignFactory,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
)
from tests.support.payments import event, sign

GIFTS = 500
REFUNDED = 60
SENDERS = 16
TOTAL_FEN = 500_000  # ¥5,000: the burst asks for about ¥15,000 of matching
CAP_PER_GIFT = 5_000


def _gift_amount(n: int) -> int:
    return 1_000 + (n * 37) % 5_000  # ¥10.00 to ¥59.99


def _intent(donation: Donation) -> dict:
    """The PaymentIntent as Stripe signs it in the event (what the webhook trusts)."""
    return {
        "id": donation.stripe_payment_intent_id,
        "object": "payment_intent",
        "amount": donation.amount_fen,
        "currency": "cny",
        "status": "succeeded",
        "metadata": {"donation_id": str(donation.id)},
        "latest_charge": f"ch_burst_{donation.id}",
    }


def _refund(donation: Donation, amount: int) -> dict:
    return {
        "id": f"re_burst_{donation.id}",
        "object": "refund",
        "amount": amount,
        "currency": "cny",
        "status": "succeeded",
        "payment_intent": donation.stripe_payment_intent_id,
        "charge": f"ch_burst_{donation.id}",
    }


@pytest.fixture
def live(stripe_app, committed_db, postgres_only):  # type: ignore[no-untyped-def]
    server = make_server("127.0.0.1", 0, stripe_app, threaded=True)
    server.request_queue_size = 128
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/stripe/webhook"
    finally:
        server.shutdown()
        thread.join()


def test_500_gifts_race_for_a_pool_that_runs_out(stripe_app, committed_db, live):  # type: ignore[no-untyped-def]
    admin = UserFactory(platform_role="admin")
    campaign = CampaignFactory()
    owner = MembershipFactory(organization=campaign.organization, role="owner").user
    host = OrganizationFactory()
    event_ = givingdays.create_event(
        db.session,
        admin,
        givingdays.NewEvent(
            "6·30 广东扶贫济困日", "", today_cst() - timedelta(days=1), today_cst()
        ),
    )
    entry = givingdays.apply_campaign(db.session, owner, event_.id, campaign.id)
    givingdays.decide_campaign(db.session, admin, entry.id, accept=True)
    pool = givingdays.create_pool(
        db.session,
        admin,
        givingdays.NewPool(
            event_id=event_.id,
            organization_id=host.id,
            sponsor_name="示例科技有限公司",
            total_fen=TOTAL_FEN,
            cap_per_gift_fen=CAP_PER_GIFT,
        ),
    )
    gifts = []
    for n in range(GIFTS):
        gift = donations.create_donation(
            db.session,
            None,
            donations.NewDonation(
                campaign_id=campaign.id,
                amount_fen=_gift_amount(n),
                donor_name=f"捐赠人{n}",
                donor_email=f"burst{n}@example.org",
                is_anonymous=True,
                consent_show_name=False,
                message="",
                receipt_wanted=n % 2 == 0,
                max_amount_fen=10**9,
            ),
        )
        gifts.append(gift)
    db.session.flush()
    for gift in gifts:
        gift.stripe_payment_intent_id = f"pi_burst_{gift.id}"
    db.session.commit()
    pool_id, account = pool.id, campaign.organization.stripe_account_id
    # Refund the 60 earliest gifts in the queue (all matched: the pool lasts ~100 gifts),
    # half fully, half partly (a third of the gift), each right after its success, while
    # the other senders go on; the last 300 gifts come after every refund.
    refund_amount = {
        g.id: (g.amount_fen if i % 2 == 0 else g.amount_fen // 3)
        for i, g in enumerate(gifts[:REFUNDED])
    }
    jobs = [(g, refund_amount.get(g.id)) for g in gifts]
    plain = {g.id: (_intent(g), g) for g in gifts}

    def post(payload: str) -> int:
        request = urllib.request.Request(  # noqa: S310 - our own 127.0.0.1 server
            live,
            data=payload.encode(),
            headers={"Content-Type": "application/json", "Stripe-Signature": sign(payload)},
        )
        with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
            return response.status

    def deliver(job) -> list[int]:  # type: ignore[no-untyped-def]
        gift, refund = job
        obj, _ = plain[gift.id]
        statuses = [post(event("payment_intent.succeeded", obj, account))]
        if refund is not None:
            statuses.append(post(event("refund.created", _refund(gift, refund), account)))
        return statuses

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=SENDERS) as senders:
        results = list(senders.map(deliver, jobs))
    elapsed = time.monotonic() - started
    assert all(status == 200 for statuses in results for status in statuses), results

    session = db.session
    session.expire_all()
    rows = session.scalars(sa.select(Donation).where(Donation.campaign_id == campaign.id)).all()
    assert len(rows) == GIFTS
    assert all(d.succeeded_at is not None for d in rows)
    final = session.get(MatchingPool, pool_id)
    matches = session.scalars(sa.select(Match).where(Match.pool_id == pool_id)).all()
    # The pool is exactly used up, never more.
    assert final.allocated_fen == TOTAL_FEN
    assert sum(m.net_fen for m in matches) == TOTAL_FEN
    # Every match once: one per gift at most, each with its one ledger line and entry.
    assert len({m.donation_id for m in matches}) == len(matches)
    wanted = {d.id: min(d.amount_fen, CAP_PER_GIFT) for d in rows}
    partial = [m for m in matches if m.amount_fen < wanted[m.donation_id]]
    assert len(partial) <= 1  # the pool's last yuan
    # Refunds released exactly their share.
    refunds = session.scalars(sa.select(Refund)).all()
    assert len(refunds) == REFUNDED
    by_gift = {m.donation_id: m for m in matches}
    for refund in refunds:
        gift = refund.donation
        match = by_gift[gift.id]
        keep = match.amount_fen * (gift.amount_fen - gift.refunded_fen) // gift.amount_fen
        assert match.released_fen == match.amount_fen - keep
        released = session.scalars(
            sa.select(MatchRelease).where(MatchRelease.refund_id == refund.id)
        ).all()
        assert sum(r.amount_fen for r in released) == match.released_fen
    assert sum(m.released_fen for m in matches) > 0
    # Totals: raised is the donors' money net of refunds; matched is what the pool gave.
    net = sum(d.amount_fen - d.refunded_fen for d in rows)
    assert ledger.campaign_raised_fen(session, campaign.id) == net
    assert givingdays.campaign_matched_fen(session, campaign.id) == TOTAL_FEN
    assert ledger.check_books(session)[0] == []
    result = stripe_app.test_cli_runner().invoke(args=["ledger", "check"])
    assert result.exit_code == 0, result.stdout + result.stderr
    print(json.dumps({"gifts": GIFTS, "refunds": REFUNDED, "seconds": round(elapsed, 1)}))
