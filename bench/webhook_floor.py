"""The floor for the webhook bench: a minimal Flask + psycopg endpoint, none of our code.

It does what a confirmation must write, with hand-written SQL in one transaction, on
copies of our tables (``floor_*``, made by ``CREATE TABLE ... (LIKE ... INCLUDING ALL)``:
the same columns, indexes and constraints, so the same index maintenance):

    verify the delivery and parse it: Stripe-Signature HMAC (standard library); WeChat
      Pay v3 RSA-SHA256 signature then AES-256-GCM resource, Alipay RSA2 over the sorted
      parameters (``cryptography``, bench/wallet_events.py), the wallets' order number and
      amount checked against the donation row
    INSERT the event id (provider_events: a redelivery finds it and stops)
    UPDATE the receipt counter of (organization, year) ... RETURNING the number
    UPDATE the donation pending -> succeeded with its receipt number
    INSERT a ledger transaction and its 2 entries
    INSERT the log entry into the sequencer's queue (as ours does with
      AUDITLOG_SEQUENCER=batched, the production and bench default)
    COMMIT

The wallet endpoints share the path ours has (``/payments/<provider>/notify/<account>``)
and read this run's keys from the file FLOOR_WALLET_KEYS names.
Like ours it asks the provider nothing (the signed event is the proof) and renders no receipt.
It runs no sequencer: appending queued entries to the tree is extra work only our side
does during a round (`flask audit sequencer`), so the comparison leans against us.
Served by the same ``gunicorn.conf.py`` as the app:
``gunicorn -c gunicorn.conf.py bench.webhook_floor:app`` with FLOOR_DATABASE_URL set.
"""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime

import psycopg
from flask import Flask, Response, request

from bench import wallet_events as wallet
from bench.webhook_events import psycopg_url, verify
from charity.core.clock import CST

FLOOR_TABLES = (
    "provider_events",
    "donations",
    "receipt_counters",
    "ledger_transactions",
    "ledger_entries",
    "auditlog_queue",
)

app = Flask(__name__)
_local = threading.local()
SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "whsec_bench")


def connection() -> psycopg.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        conn = _local.conn = psycopg.connect(psycopg_url(os.environ["FLOOR_DATABASE_URL"]))
    return conn


def create_floor_tables(conn: psycopg.Connection) -> None:
    """Empty copies of our tables; the head and the counters start where ours are."""
    for table in FLOOR_TABLES:
        conn.execute(f"DROP TABLE IF EXISTS floor_{table}")
        conn.execute(f"CREATE TABLE floor_{table} (LIKE {table} INCLUDING ALL)")
    conn.commit()


@app.post("/stripe/webhook")
def webhook() -> Response:
    payload = request.get_data(cache=False)
    if not verify(payload, request.headers.get("Stripe-Signature", ""), SECRET):
        return Response('{"error":"invalid signature"}', 400, mimetype="application/json")
    event = json.loads(payload)
    intent = event["data"]["object"]
    donation_id = int(intent["metadata"]["donation_id"])
    applied = confirm(
        event["id"], event["type"], event.get("account"), donation_id, None, None,
        {"stripe_charge_id": intent.get("latest_charge")},
    )  # fmt: skip
    status = "applied" if applied else "duplicate"
    return Response(f'{{"status":"{status}"}}', mimetype="application/json")


@app.post("/payments/wechatpay/notify/<int:account_id>")
def wechatpay_notify(account_id: int) -> Response:
    """WeChat Pay v3: RSA-SHA256 over the signed headers and body with the platform public
    key, then the AES-256-GCM resource decrypted with the API v3 key; answered 204."""
    keys = wallet_keys()
    payload = request.get_data(cache=False)
    resource = wallet.verify_wechatpay(
        request.headers, payload, keys["wechatpay_public"], keys["wechatpay"]["apiv3_key"]
    )
    if resource is None or resource.get("trade_state") != "SUCCESS":
        return Response('{"code":"FAIL"}', 400, mimetype="application/json")
    confirm(
        f"wechatpay:{resource['id']}", "payment.succeeded", resource["mchid"],
        int(resource["attach"]), resource["out_trade_no"], int(resource["amount"]["total"]),
        {"provider_transaction_id": resource["transaction_id"],
         "provider_paid_at": datetime.fromisoformat(resource["success_time"])},
    )  # fmt: skip
    return Response(status=204)


@app.post("/payments/alipay/notify/<int:account_id>")
def alipay_notify(account_id: int) -> Response:
    """Alipay: RSA2 over the sorted parameters with Alipay's public key; answered
    ``success``."""
    keys = wallet_keys()
    params = wallet.verify_alipay(request.get_data(cache=False), keys["alipay_public"])
    if params is None or params.get("trade_status") != "TRADE_SUCCESS":
        return Response("fail", 400, mimetype="text/plain")
    whole, _, cents = params["total_amount"].partition(".")
    paid = datetime.strptime(params["gmt_payment"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=CST)
    confirm(
        f"alipay:{params['notify_id']}", "payment.succeeded", params["app_id"],
        int(params["passback_params"]), params["out_trade_no"],
        int(whole) * 100 + int((cents + "00")[:2]),
        {"provider_transaction_id": params["trade_no"], "provider_paid_at": paid},
    )  # fmt: skip
    return Response("success", mimetype="text/plain")


def wallet_keys() -> dict:
    keys = getattr(_local, "wallet_keys", None)
    if keys is None:
        with open(os.environ["FLOOR_WALLET_KEYS"]) as source:
            keys = json.load(source)
        keys["wechatpay_public"] = wallet.load_public(keys["wechatpay"]["platform_public_key"])
        keys["alipay_public"] = wallet.load_public(keys["alipay"]["alipay_public_key"])
        _local.wallet_keys = keys
    return keys


def confirm(
    event_id: str,
    event_type: str,
    account: str | None,
    donation_id: int,
    order_no: str | None,
    amount_paid: int | None,
    provider_ids: dict,
) -> bool:
    """The writes of one confirmation, in one transaction; False for a redelivery. A wallet
    payment is checked against the order and amount of our record, as ours does."""
    now = datetime.now(UTC)
    conn = connection()
    with conn.transaction():
        stored = conn.execute(
            "INSERT INTO floor_provider_events (id, type, account, outcome, detail, received_at) "
            "VALUES (%s, %s, %s, 'applied', '', %s) ON CONFLICT DO NOTHING RETURNING id",
            (event_id, event_type, account, now),
        ).fetchone()
        if stored is None:
            return False
        org_id, amount, our_order = conn.execute(
            "SELECT organization_id, amount_fen, provider_order_no FROM floor_donations "
            "WHERE id = %s AND status = 'pending' FOR UPDATE",
            (donation_id,),
        ).fetchone()
        if order_no is not None and (order_no != our_order or amount_paid != amount):
            raise ValueError(f"donation {donation_id}: not its order or amount")
        (seq,) = conn.execute(
            "INSERT INTO floor_receipt_counters (organization_id, year, last_seq) "
            "VALUES (%s, %s, 1) ON CONFLICT (organization_id, year) "
            "DO UPDATE SET last_seq = floor_receipt_counters.last_seq + 1 RETURNING last_seq",
            (org_id, now.year),
        ).fetchone()
        columns = "".join(f", {name} = %s" for name in provider_ids)
        conn.execute(
            f"UPDATE floor_donations SET status = 'succeeded', succeeded_at = %s{columns}, "  # noqa: S608 - fixed names
            "receipt_year = %s, receipt_seq = %s, receipt_number = %s WHERE id = %s",
            (now, *provider_ids.values(), now.year, seq, f"F{org_id}-{now.year}-{seq:06d}",
             donation_id),
        )  # fmt: skip
        (tx_id,) = conn.execute(
            "INSERT INTO floor_ledger_transactions (kind, source_key, donation_id, description, "
            "created_at) VALUES ('donation', %s, %s, %s, %s) RETURNING id",
            (f"donation:{donation_id}", donation_id, f"Donation {donation_id}", now),
        ).fetchone()
        conn.cursor().executemany(
            "INSERT INTO floor_ledger_entries (transaction_id, account_id, amount_fen, currency) "
            "VALUES (%s, %s, %s, 'CNY')",
            [(tx_id, 1, amount), (tx_id, 2, -amount)],
        )
        entry = json.dumps({"type": "donation.succeeded", "donation": donation_id})
        conn.execute(
            "INSERT INTO floor_auditlog_queue (payload, event_type, organization_id, "
            "subject_table, subject_id, created_at) "
            "VALUES (%s, 'donation.succeeded', %s, 'donations', %s, %s)",
            (entry, org_id, donation_id, now),
        )
    return True
