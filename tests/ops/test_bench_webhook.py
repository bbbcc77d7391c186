"""The webhook bench's pieces: deliveries the app's own verification accepts, the stub."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request

import pytest

from bench import stripe_stub, wallet_events
from bench.webhook_events import Pending, event_payload, sign, verify
from charity import payments

SECRET = "whsec_bench_test"


def test_signed_deliveries_pass_the_apps_verification():
    payload = event_payload(Pending(donation_id=7, amount_fen=800, account="acct_x"), "evt_1")
    header = sign(payload, SECRET)
    event = payments.construct_webhook_event(payload.encode(), header, SECRET)
    assert event["id"] == "evt_1"
    intent = payments.intent_from_event_object(event["data"]["object"])
    assert (intent.id, intent.amount) == ("pi_bench_7_800", 800)
    assert intent.metadata["donation_id"] == "7"
    assert verify(payload.encode(), header, SECRET)
    assert not verify(payload.encode() + b" ", header, SECRET)
    with pytest.raises(payments.WebhookSignatureError):
        payments.construct_webhook_event(payload.encode(), sign(payload, "whsec_other"), SECRET)


def test_the_stub_answers_for_bench_intents_only():
    server = stripe_stub.serve(0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/v1/payment_intents/"
    try:
        with urllib.request.urlopen(base + "pi_bench_7_800") as response:  # noqa: S310
            intent = json.load(response)
        assert intent["status"] == "succeeded"
        assert intent["amount"] == 800
        assert intent["metadata"] == {"donation_id": "7"}
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(base + "pi_other")  # noqa: S310
        assert error.value.code == 404
        error.value.close()
    finally:
        server.shutdown()
        server.server_close()


def _merchant(provider: str, keys: dict) -> payments.Merchant:
    values = keys[provider]
    if provider == "wechatpay":
        secret = ("private_key", "apiv3_key")
        public_id = values["mchid"]
    else:
        secret = ("app_private_key",)
        public_id = values["app_id"]
    settings = {k: v for k, v in values.items() if k not in secret}
    return payments.Merchant(
        provider, 1, public_id, settings, {k: values[k] for k in secret}, "bench-test"
    )


@pytest.mark.parametrize("provider", ["wechatpay", "alipay"])
def test_wallet_deliveries_pass_the_sdks_and_the_floors_checks(app, provider):
    """The bench plays the provider: what it signs, our SDK path and the floor both accept,
    as the same payment; a changed byte is refused by both."""
    keys = wallet_events.make_keys()
    signer = wallet_events.Signer(keys)
    pending = wallet_events.Pending(donation_id=7, amount_fen=8800, order_no="G7T1Rbench")
    headers, body = signer.delivery(provider, pending)
    handler = payments.provider(provider)
    merchant = _merchant(provider, keys)
    notice = handler.parse_notification(merchant, headers, body.encode())
    assert notice.type == "payment.succeeded" and notice.account == merchant.public_id
    intent = notice.payment
    assert (intent.id, intent.amount, intent.currency) == ("G7T1Rbench", 8800, "CNY")
    assert intent.metadata["donation_id"] == "7" and intent.succeeded and intent.latest_charge

    if provider == "wechatpay":
        public = wallet_events.load_public(keys["wechatpay"]["platform_public_key"])
        apiv3 = keys["wechatpay"]["apiv3_key"]
        resource = wallet_events.verify_wechatpay(headers, body.encode(), public, apiv3)
        assert resource["out_trade_no"] == "G7T1Rbench" and resource["attach"] == "7"
        assert wallet_events.verify_wechatpay(headers, body.encode() + b" ", public, apiv3) is None
    else:
        public = wallet_events.load_public(keys["alipay"]["alipay_public_key"])
        params = wallet_events.verify_alipay(body.encode(), public)
        assert params["out_trade_no"] == "G7T1Rbench" and params["total_amount"] == "88.00"
        tampered = body.replace("total_amount=88.00", "total_amount=8.80")
        assert wallet_events.verify_alipay(tampered.encode(), public) is None
    tampered = body.replace("G7T1Rbench", "G8T1Rbench") if provider == "alipay" else body + " "
    with pytest.raises(payments.NotificationError):
        handler.parse_notification(merchant, headers, tampered.encode())
