"""WeChat Pay and Alipay gifts through the real SDKs against the local simulators:
orders, notifications (verified, decrypted, applied once in any order), the return page,
declines, expiry and starting again on the same donation."""

from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa

from charity.extensions import db
from charity.models import (
    Donation,
    LedgerTransaction,
    ParkedEvent,
    PaymentOrder,
    ProviderEvent,
    WebhookRejection,
    utcnow,
)
from charity.services import wallet_payments
from charity.services.ledger import campaign_raised_fen
from tests.support.payments import PHONE, deliver, give_with, held, sim_call


def _order(donation: Donation) -> PaymentOrder:
    db.session.refresh(donation)
    return db.session.scalars(
        sa.select(PaymentOrder).where(PaymentOrder.order_no == donation.provider_order_no)
    ).one()


def _transactions(donation: Donation) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(LedgerTransaction)
        .where(LedgerTransaction.donation_id == donation.id)
    )


def _wechat_pay(wechatpay_sim: str, donation: Donation, result: str = "success") -> dict:
    mchid = donation.provider_account
    return sim_call(
        wechatpay_sim, f"/_sim/orders/{mchid}/{donation.provider_order_no}/pay", {"result": result}
    )


def test_wechat_native_qr_page_then_notification_applies_once(
    client, wallet_campaign, wechatpay_sim
):
    donation, response = give_with(client, wallet_campaign, "wechatpay")
    assert response.headers["Location"].endswith(f"/donations/{donation.public_token}/wallet")
    page = client.get(f"/donations/{donation.public_token}/wallet").get_data(as_text=True)
    assert "<svg" in page and "wallet-qr-code" in page
    order = _order(donation)
    assert (order.provider, order.method, order.status) == ("wechatpay", "native", "open")
    assert f'data-code-url="{order.pay_url}"' in page and order.pay_url.startswith("weixin://")
    assert donation.channel == "online_wechatpay"

    _wechat_pay(wechatpay_sim, donation)
    [notification] = held(wechatpay_sim, order.order_no, "TRANSACTION.SUCCESS")
    first = deliver(client, notification)
    assert first.status_code == 204 and first.get_data() == b""
    again = deliver(client, notification)
    assert again.status_code == 204

    db.session.refresh(donation)
    assert donation.status == "succeeded" and donation.receipt_number
    assert donation.provider_transaction_id.startswith("4200")
    assert _transactions(donation) == 1
    assert campaign_raised_fen(db.session, wallet_campaign.id) == 8800
    outcomes = db.session.scalars(sa.select(ProviderEvent.outcome)).all()
    assert outcomes == ["applied"]  # the redelivery was a duplicate, stored once


def test_wechat_status_polling_asks_the_provider_not_the_browser(
    client, wallet_campaign, wechatpay_sim
):
    donation, _ = give_with(client, wallet_campaign, "wechatpay")
    status = client.get(f"/donations/{donation.public_token}/status.json").json
    assert status["status"] == "pending"
    _wechat_pay(wechatpay_sim, donation)
    status = client.get(f"/donations/{donation.public_token}/status.json").json
    assert status["status"] == "succeeded"
    assert status["redirect"] == f"/donations/{donation.public_token}"
    receipt = client.get(status["redirect"]).get_data(as_text=True)
    assert "Thank you for your gift" in receipt and donation.receipt_number in receipt


def test_wechat_h5_on_a_phone_goes_to_the_cashier_and_returns(
    client, wallet_campaign, wechatpay_sim
):
    donation, response = give_with(client, wallet_campaign, "wechatpay", agent=PHONE)
    location = response.headers["Location"]
    assert location.startswith(f"{wechatpay_sim}/_sim/h5?prepay_id=")
    assert "redirect_url=" in location and donation.public_token in location
    assert _order(donation).method == "h5"
    _wechat_pay(wechatpay_sim, donation)
    page = client.get(f"/donations/{donation.public_token}").get_data(as_text=True)
    assert "Thank you for your gift" in page


def test_alipay_page_pay_return_and_async_notify(client, wallet_campaign, alipay_sim):
    import urllib.request

    donation, response = give_with(client, wallet_campaign, "alipay")
    location = response.headers["Location"]
    assert location.startswith(f"{alipay_sim}/gateway.do?") and "alipay.trade.page.pay" in location
    cashier = urllib.request.urlopen(location, timeout=10).read().decode()  # noqa: S310
    assert "确认付款" in cashier and "¥88.00" in cashier
    order = _order(donation)
    assert (order.method, donation.channel) == ("page", "online_alipay")
    pending = client.get(f"/donations/{donation.public_token}").get_data(as_text=True)
    assert "not complete yet" in pending

    sim_call(alipay_sim, f"/_sim/trades/{donation.provider_account}/{order.order_no}/pay", {})
    [notification] = held(alipay_sim, order.order_no, "TRADE_SUCCESS")
    answer = deliver(client, notification)
    assert (answer.status_code, answer.get_data(as_text=True)) == (200, "success")
    assert deliver(client, notification).get_data(as_text=True) == "success"
    db.session.refresh(donation)
    assert donation.status == "succeeded" and _transactions(donation) == 1


def test_alipay_wap_on_a_phone(client, wallet_campaign, alipay_sim):
    donation, response = give_with(client, wallet_campaign, "alipay", agent=PHONE)
    assert "alipay.trade.wap.pay" in response.headers["Location"]
    assert _order(donation).method == "wap"


def test_wallet_first_on_the_donate_page(client, wallet_campaign):
    page = client.get(f"/campaigns/{wallet_campaign.id}/donate", headers={"User-Agent": PHONE})
    html = page.get_data(as_text=True)
    positions = [html.index(f'value="{name}"') for name in ("wechatpay", "alipay", "stripe")]
    assert positions == sorted(positions)
    assert '<input checked id="method-0" name="method" type="radio" value="wechatpay">' in html


def test_refund_notification_before_success_waits_and_applies_once(
    client, wallet_campaign, wechatpay_sim
):
    donation, _ = give_with(client, wallet_campaign, "wechatpay")
    order = _order(donation)
    _wechat_pay(wechatpay_sim, donation)
    sim_call(
        wechatpay_sim,
        "/_sim/refunds",
        {"mchid": donation.provider_account, "out_trade_no": order.order_no, "amount": 3000},
    )
    [paid] = held(wechatpay_sim, order.order_no, "TRANSACTION.SUCCESS")
    [refund] = held(wechatpay_sim, order.order_no, "REFUND.SUCCESS")
    for notification in (refund, refund):  # early, and twice
        assert deliver(client, notification).status_code == 204
    db.session.refresh(donation)
    assert donation.status == "pending" and donation.refunded_fen == 0
    [parked] = db.session.scalars(sa.select(ParkedEvent)).all()
    assert (parked.status, parked.amount_fen) == ("waiting", 3000)

    for notification in (paid, refund, paid):
        assert deliver(client, notification).status_code == 204
    db.session.refresh(donation)
    assert (donation.status, donation.refunded_fen) == ("partially_refunded", 3000)
    assert _transactions(donation) == 2  # the gift and the refund, once each
    assert db.session.scalar(sa.select(ParkedEvent.status)) == "applied"
    assert campaign_raised_fen(db.session, wallet_campaign.id) == 5800


def test_alipay_refund_before_success_is_parked_then_applied(client, wallet_campaign, alipay_sim):
    import urllib.request

    donation, response = give_with(client, wallet_campaign, "alipay")
    urllib.request.urlopen(response.headers["Location"], timeout=10).close()  # noqa: S310
    order = _order(donation)
    app_id = donation.provider_account
    sim_call(alipay_sim, f"/_sim/trades/{app_id}/{order.order_no}/pay", {})
    sim_call(
        alipay_sim,
        "/_sim/refunds",
        {"app_id": app_id, "out_trade_no": order.order_no, "amount": 8800},
    )
    [paid] = held(alipay_sim, order.order_no, "TRADE_SUCCESS")
    [refund] = held(alipay_sim, order.order_no, "refund")
    assert deliver(client, refund).get_data(as_text=True) == "success"
    assert deliver(client, paid).get_data(as_text=True) == "success"
    db.session.refresh(donation)
    assert (donation.status, donation.refunded_fen) == ("refunded", 8800)
    assert _transactions(donation) == 2


def test_our_refund_goes_through_each_wallet_and_its_notification_is_known(
    client, wallet_campaign, wechatpay_sim, alipay_sim, login
):
    from charity.models import Membership
    from tests.support.factories import UserFactory

    finance = UserFactory()
    db.session.add(
        Membership(user=finance, organization=wallet_campaign.organization, role="finance")
    )
    db.session.commit()
    for method, sim in (("wechatpay", wechatpay_sim), ("alipay", alipay_sim)):
        donation, response = give_with(client, wallet_campaign, method)
        if method == "alipay":
            import urllib.request

            urllib.request.urlopen(response.headers["Location"], timeout=10).close()  # noqa: S310
            sim_call(
                sim, f"/_sim/trades/{donation.provider_account}/{_order(donation).order_no}/pay", {}
            )
        else:
            _wechat_pay(sim, donation)
        assert (
            client.get(f"/donations/{donation.public_token}/status.json").json["status"]
            == "succeeded"
        )
        login(finance)
        url = f"/orgs/{wallet_campaign.organization_id}/donations/{donation.id}/refund"
        too_much = client.post(url, data={"amount": "100", "reason": "too much"})
        assert too_much.status_code == 400
        made = client.post(url, data={"amount": "20", "reason": "Donor asked"})
        assert made.status_code == 302, made.get_data(as_text=True)[:1500]
        login(None)
        db.session.refresh(donation)
        assert donation.refunded_fen == 2000
        kind = "REFUND.SUCCESS" if method == "wechatpay" else "refund"
        [notification] = held(sim, _order(donation).order_no, kind)
        assert deliver(client, notification).status_code in (200, 204)
        db.session.refresh(donation)
        assert donation.refunded_fen == 2000 and _transactions(donation) == 2


def test_decline_then_start_again_on_the_same_donation(client, wallet_campaign, wechatpay_sim):
    donation, _ = give_with(client, wallet_campaign, "wechatpay")
    first = _order(donation)
    _wechat_pay(wechatpay_sim, donation, result="fail")
    status = client.get(f"/donations/{donation.public_token}/status.json").json
    assert status["status"] == "pending" and status["failure"]
    page = client.get(f"/donations/{donation.public_token}").get_data(as_text=True)
    assert "Pay again" in page and 'value="alipay"' in page
    again = client.post(f"/donations/{donation.public_token}/wallet", data={"provider": "alipay"})
    assert again.status_code == 303 and "alipay.trade.page.pay" in again.headers["Location"]
    second = _order(donation)
    assert second.order_no != first.order_no and second.provider == "alipay"
    assert db.session.get(PaymentOrder, first.id).status == "failed"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Donation)) == 1


def test_unpaid_orders_close_after_their_time_and_the_donor_starts_again(
    client, wallet_campaign, wechatpay_sim
):
    donation, _ = give_with(client, wallet_campaign, "wechatpay")
    order = _order(donation)
    later = utcnow() + timedelta(minutes=16)
    assert wallet_payments.close_expired_orders(db.session, later) == 1
    db.session.commit()
    assert db.session.get(PaymentOrder, order.id).status == "closed"
    at_provider = sim_call(
        wechatpay_sim, f"/_sim/orders/{donation.provider_account}/{order.order_no}"
    )
    assert at_provider["order"]["trade_state"] == "CLOSED"
    paying_late = sim_call  # the closed order can no longer be paid at the provider
    try:
        paying_late(
            wechatpay_sim, f"/_sim/orders/{donation.provider_account}/{order.order_no}/pay", {}
        )
        raise AssertionError("a closed order was paid")
    except Exception as error:  # urllib's HTTPError 409
        assert "409" in str(error)
    again = client.post(
        f"/donations/{donation.public_token}/wallet", data={"provider": "wechatpay"}
    )
    assert again.status_code == 303
    assert _order(donation).order_no != order.order_no


def test_forged_and_malformed_notifications_are_400_and_change_nothing(
    client, wallet_campaign, wechatpay_sim, alipay_sim
):
    donation, _ = give_with(client, wallet_campaign, "wechatpay")
    _wechat_pay(wechatpay_sim, donation)
    [notification] = held(wechatpay_sim, _order(donation).order_no, "TRANSACTION.SUCCESS")
    forged = {**notification, "body": notification["body"].replace('"id":"', '"id":"x', 1)}
    assert deliver(client, forged).status_code == 400
    no_headers = {**notification, "headers": {"Content-Type": "application/json"}}
    assert deliver(client, no_headers).status_code == 400
    odd_serial = {**notification, "headers": {**notification["headers"], "Wechatpay-Serial": "zz"}}
    assert deliver(client, odd_serial).status_code == 400
    account_id = donation.merchant_account_id
    assert client.post(f"/payments/alipay/notify/{account_id}", data=b"a=%zz&&").status_code in (
        400,
        404,
    )
    assert client.post("/payments/wechatpay/notify/999999", data=b"{}").status_code == 404
    db.session.refresh(donation)
    assert donation.status == "pending"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WebhookRejection)) >= 3
    body = json.loads(deliver(client, forged).get_data(as_text=True))
    assert body["code"] == "FAIL"


def test_public_key_mode_merchant(client, wallet_app, db_session, sim_credentials, wechatpay_sim):
    from tests.support.factories import CampaignFactory
    from tests.support.payments import connect

    campaign = CampaignFactory()
    connect(campaign.organization, "wechatpay", sim_credentials["wechatpay_public_key"])
    db.session.commit()
    donation, _ = give_with(client, campaign, "wechatpay")
    _wechat_pay(wechatpay_sim, donation)
    [notification] = held(wechatpay_sim, _order(donation).order_no, "TRANSACTION.SUCCESS")
    assert notification["headers"]["Wechatpay-Serial"].startswith("PUB_KEY_ID_")
    assert deliver(client, notification).status_code == 204
    db.session.refresh(donation)
    assert donation.status == "succeeded"
