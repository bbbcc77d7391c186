"""Reconciliation against each provider's own statement: WeChat Pay's trade and refund
bills, Alipay's 业务明细, Stripe's charges and refunds (localstripe, through our wrapper's
day listings), compared line by line with the books."""

from __future__ import annotations

import urllib.request
from datetime import datetime, timedelta

import sqlalchemy as sa

from charity.core.clock import CST
from charity.extensions import db
from charity.models import (
    Donation,
    LedgerEntry,
    LedgerTransaction,
    Membership,
    ParkedEvent,
    ReconciliationDifference,
    Refund,
)
from charity.services import reconciliation
from tests.support.factories import CampaignFactory, UserFactory
from tests.support.payments import connect, give, give_with, pay, sim_call


def _today():  # type: ignore[no-untyped-def]
    return datetime.now(CST).date()


def _paid_with(client, campaign, method: str, wechatpay_sim: str, alipay_sim: str) -> Donation:  # type: ignore[no-untyped-def]
    donation, response = give_with(client, campaign, method)
    db.session.refresh(donation)
    if method == "wechatpay":
        path = f"/_sim/orders/{donation.provider_account}/{donation.provider_order_no}/pay"
        sim_call(wechatpay_sim, path, {})
    else:
        urllib.request.urlopen(response.headers["Location"], timeout=10).close()  # noqa: S310
        path = f"/_sim/trades/{donation.provider_account}/{donation.provider_order_no}/pay"
        sim_call(alipay_sim, path, {})
    status = client.get(f"/donations/{donation.public_token}/status.json").json["status"]
    assert status == "succeeded"
    return donation


def _refund(client, login, finance, donation: Donation, yuan: str):  # type: ignore[no-untyped-def]
    login(finance)
    url = f"/orgs/{donation.organization_id}/donations/{donation.id}/refund"
    response = client.post(url, data={"amount": yuan, "reason": "Donor asked"})
    login(None)
    assert response.status_code == 302, response.get_data(as_text=True)[:1500]


def _fresh_campaign(wechatpay_sim: str, alipay_sim: str):  # type: ignore[no-untyped-def]
    """Its own merchants, so the simulators' statements hold this test's money only."""
    campaign = CampaignFactory()
    connect(campaign.organization, "wechatpay", sim_call(wechatpay_sim, "/_sim/merchants", {}))
    connect(campaign.organization, "alipay", sim_call(alipay_sim, "/_sim/apps", {}))
    finance = UserFactory()
    db.session.add(Membership(user=finance, organization=campaign.organization, role="finance"))
    db.session.commit()
    return campaign, finance


def test_three_providers_reconcile_to_zero_then_a_deleted_refund_is_found_and_applied(
    client, login, wallet_app, db_session, wechatpay_sim, alipay_sim
):
    campaign, finance = _fresh_campaign(wechatpay_sim, alipay_sim)
    card = give(client, campaign, method="stripe")
    assert pay(client, card).status_code == 200
    wechat = _paid_with(client, campaign, "wechatpay", wechatpay_sim, alipay_sim)
    alipay = _paid_with(client, campaign, "alipay", wechatpay_sim, alipay_sim)
    for gift in (card, wechat, alipay):
        _refund(client, login, finance, gift, "8")

    runs = reconciliation.reconcile_day(db.session, _today(), campaign.organization_id)
    db.session.commit()
    assert sorted(run.provider for run in runs) == ["alipay", "stripe", "wechatpay"]
    for run in runs:
        assert (run.status, run.difference_count) == ("ok", 0), (
            run.provider,
            run.error,
            [(d.kind, d.reference) for d in run.differences],
        )
        assert (run.their_lines, run.our_lines) == (2, 2)
        assert len(run.statement_sha256) == 64

    # A refund lost from our side (its row and its ledger transaction deleted by hand).
    lost = db.session.scalars(sa.select(Refund).where(Refund.donation_id == wechat.id)).one()
    transaction_id = db.session.scalar(
        sa.select(LedgerTransaction.id).where(LedgerTransaction.refund_id == lost.id)
    )
    db.session.execute(sa.delete(LedgerEntry).where(LedgerEntry.transaction_id == transaction_id))
    db.session.execute(sa.delete(LedgerTransaction).where(LedgerTransaction.id == transaction_id))
    db.session.execute(sa.delete(Refund).where(Refund.id == lost.id))
    db.session.execute(
        sa.update(Donation)
        .where(Donation.id == wechat.id)
        .values(refunded_fen=0, status="succeeded")
    )
    db.session.commit()

    day, org = _today().isoformat(), str(campaign.organization_id)
    result = wallet_app.test_cli_runner().invoke(
        args=["payments", "reconcile", "--date", day, "--org", org]
    )
    assert result.exit_code == 1, result.output
    assert (
        f"DIFFERENCE theirs_only refund {lost.provider_refund_id}: theirs 800 ours None"
        in result.output
    )
    [difference] = db.session.scalars(
        sa.select(ReconciliationDifference).where(ReconciliationDifference.resolved_at.is_(None))
    ).all()
    assert (difference.kind, difference.donation_id) == ("theirs_only", wechat.id)
    assert "商户退款单号" in difference.their_line  # the bill's own line, as evidence

    regulator = UserFactory(platform_role="regulator")
    db.session.commit()
    login(regulator)
    dashboard = client.get("/regulator/").get_data(as_text=True)
    table = dashboard.split('id="t-reconciliation"')[1].split("</table>")[0]
    assert campaign.organization.name in table and "8.00" in table
    login(finance)
    run_url = f"/orgs/{campaign.organization_id}/reconciliation/{difference.run_id}"
    page = client.get(run_url).get_data(as_text=True)
    assert (
        "Only in the provider&#39;s statement" in page or "Only in the provider's statement" in page
    )
    applied = client.post(
        f"{run_url}/differences/{difference.id}/apply", data={"reason": "Bill shows it"}
    )
    assert applied.status_code == 303
    db.session.refresh(wechat)
    assert wechat.refunded_fen == 800
    assert db.session.get(ReconciliationDifference, difference.id).resolved_by_id == finance.id

    again = reconciliation.reconcile_day(db.session, _today(), campaign.organization_id)
    assert [run.difference_count for run in again] == [0, 0, 0]


def test_ledger_check_reports_parked_events_and_unreconciled_days(
    wallet_app, db_session, wechatpay_sim, alipay_sim
):
    from charity.services.parking import check_parked

    now = datetime.now(CST)
    campaign, _finance = _fresh_campaign(wechatpay_sim, alipay_sim)
    db.session.add(
        ParkedEvent(
            provider="wechatpay",
            event_key="refund:RFX",
            kind="refund",
            status="unresolved",
            reason="the provider says the refund failed",
            organization_id=campaign.organization_id,
            amount_fen=100,
        )
    )
    db.session.commit()
    problems, _notes = check_parked(db.session, now, 1)
    assert any("refund:RFX" in problem for problem in problems)

    # A card gift recorded yesterday (CST) that no run has reconciled.
    yesterday = now - timedelta(days=1)
    account = campaign.organization.stripe_account_id
    db.session.execute(
        sa.insert(Donation).values(
            organization_id=campaign.organization_id,
            campaign_id=campaign.id,
            amount_fen=500,
            currency="CNY",
            channel="online_card",
            status="succeeded",
            stripe_account_id=account,
            succeeded_at=yesterday,
            public_token="reconcile-test-token",
            receipt_waived=True,
        )
    )
    db.session.commit()
    problems, _ = reconciliation.check_reconciled(db.session, now, 30)
    assert [p for p in problems if account in p] == [
        f"unreconciled day: stripe account {account} on {yesterday.date()} "
        f"(run `flask payments reconcile --date {yesterday.date()}`)"
    ]
