"""Giving to a fund through the campaigns' payment path (real Stripe SDK, localstripe),
following the gift on the receipt page, and refunds that would touch spent money."""

from __future__ import annotations

import sqlalchemy as sa

from charity.extensions import db
from charity.models import Donation, LedgerAccount
from charity.services import disbursements as svc
from charity.services.allocation import check_allocations
from charity.services.ledger import check_books
from charity.services.pools import Pool, pool_balance
from tests.support.factories import CampaignFactory, log_in
from tests.support.funds import day, gift
from tests.support.payments import pay


def _give(client, fund, amount: str = "custom", custom: str = "100") -> Donation:  # type: ignore[no-untyped-def]
    data = {
        "amount": amount,
        "custom_amount": custom,
        "donor_name": "王小明",
        "donor_email": "donor@example.org",
        "receipt_wanted": "y",
    }
    response = client.post(f"/funds/{fund.id}/donate", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    token = response.headers["Location"].rstrip("/").split("/")[-2]
    return db.session.scalars(sa.select(Donation).where(Donation.public_token == token)).one()


def _spend(people, fund, evidence, amount_fen: int):  # type: ignore[no-untyped-def]
    command = svc.DisbursementRequest(
        Pool("fund", fund.id),
        amount_fen,
        "medical_supplies",
        "社区卫生站医疗物资",
        "organization",
        "北京街道社区卫生服务中心",
        evidence,
    )
    d = svc.request_disbursement(db.session, people.finance, command)
    svc.approve_disbursement(db.session, people.committee[0], d.id)
    svc.execute_disbursement(db.session, people.finance2, d.id, "BANK-7")
    db.session.commit()
    return d


def test_gift_to_fund_is_paid_traced_and_refund_limited(
    stripe_app, client, people, fund, evidence, recorded_events
):
    assert client.get(f"/funds/{fund.id}/donate").status_code == 200
    donation = _give(client, fund)
    assert (donation.fund_id, donation.campaign_id) == (fund.id, None)
    assert pay(client, donation).status_code == 200
    db.session.refresh(donation)
    assert donation.status == "succeeded"
    account = db.session.scalars(
        sa.select(LedgerAccount).where(LedgerAccount.fund_id == fund.id)
    ).first()
    assert account is not None
    assert pool_balance(db.session, Pool("fund", fund.id)) == 10000
    (succeeded,) = [e for e in recorded_events if e.type == "donation.succeeded"]
    assert succeeded.data["fund_id"] == fund.id and succeeded.data["campaign_id"] is None

    d = _spend(people, fund, evidence, 6000)
    receipt = client.get(f"/donations/{donation.public_token}").get_data(as_text=True)
    assert "¥60.00 →" in receipt and "社区卫生站医疗物资" in receipt
    assert "¥40.00" in receipt and d.executed_at.strftime("%Y") in receipt
    assert fund.name in receipt

    log_in(client, people.finance)
    url = f"/orgs/{fund.organization_id}/donations/{donation.id}/refund"
    response = client.post(url, data={"amount": "40.01", "reason": "捐赠人要求"})
    assert response.status_code == 400, response.headers.get("Location")
    assert "unspent" in response.get_data(as_text=True)
    assert client.post(url, data={"amount": "40", "reason": "捐赠人要求"}).status_code == 302
    db.session.refresh(donation)
    assert donation.refunded_fen == 4000
    assert pool_balance(db.session, Pool("fund", fund.id)) == 0
    problems, _notes = check_books(db.session)
    assert [p for p in problems if "log entries" not in p] == []
    assert check_allocations(db.session) == []


def test_closed_fund_takes_no_gifts(stripe_app, client, people, fund):
    fund.status = "closed"
    db.session.commit()
    response = client.post(
        f"/funds/{fund.id}/donate",
        data={"amount": "8800", "donor_name": "王", "donor_email": "a@example.org"},
    )
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Donation)) == 0


def test_campaign_gifts_traced_on_receipt_too(stripe_app, client, people, evidence):
    campaign = CampaignFactory(organization=people.host)
    donation = gift(campaign, 5000, day(1))
    command = svc.DisbursementRequest(
        Pool("campaign", campaign.id), 2000, "food", "午餐食材", "organization", "某小学", evidence
    )
    d = svc.request_disbursement(db.session, people.finance, command)
    svc.approve_disbursement(db.session, people.owner, d.id)
    svc.execute_disbursement(db.session, people.finance2, d.id, "B-2")
    db.session.commit()
    receipt = client.get(f"/donations/{donation.public_token}").get_data(as_text=True)
    assert "¥20.00 →" in receipt and "¥30.00" in receipt
