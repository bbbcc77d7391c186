"""The webhook bench's pieces: deliveries the app's own verification accepts, the stub."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request

import pytest

from bench import stripe_stub
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
