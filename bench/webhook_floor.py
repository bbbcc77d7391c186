"""The floor for the webhook bench: a minimal Flask + psycopg endpoint, none of our code.

It does what a confirmation must write, with hand-written SQL in one transaction, on
copies of our tables (``floor_*``, made by ``CREATE TABLE ... (LIKE ... INCLUDING ALL)``:
the same columns, indexes and constraints, so the same index maintenance):

    verify the Stripe-Signature HMAC (standard library), parse the JSON
    INSERT the event id (provider_events: a redelivery finds it and stops)
    UPDATE the receipt counter of (organization, year) ... RETURNING the number
    UPDATE the donation pending -> succeeded with its receipt number
    INSERT a ledger transaction and its 2 entries
    INSERT the log entry into the sequencer's queue (as ours does with
      AUDITLOG_SEQUENCER=batched, the production and bench default)
    COMMIT

Like ours it asks Stripe nothing (the signed event is the proof) and renders no receipt.
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

from bench.webhook_events import psycopg_url, verify

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
    now = datetime.now(UTC)
    conn = connection()
    with conn.transaction():
        stored = conn.execute(
            "INSERT INTO floor_provider_events (id, type, account, outcome, detail, received_at) "
            "VALUES (%s, %s, %s, 'applied', '', %s) ON CONFLICT DO NOTHING RETURNING id",
            (event["id"], event["type"], event.get("account"), now),
        ).fetchone()
        if stored is None:
            return Response('{"status":"duplicate"}', mimetype="application/json")
        org_id, amount = conn.execute(
            "SELECT organization_id, amount_fen FROM floor_donations "
            "WHERE id = %s AND status = 'pending' FOR UPDATE",
            (donation_id,),
        ).fetchone()
        (seq,) = conn.execute(
            "INSERT INTO floor_receipt_counters (organization_id, year, last_seq) "
            "VALUES (%s, %s, 1) ON CONFLICT (organization_id, year) "
            "DO UPDATE SET last_seq = floor_receipt_counters.last_seq + 1 RETURNING last_seq",
            (org_id, now.year),
        ).fetchone()
        conn.execute(
            "UPDATE floor_donations SET status = 'succeeded', succeeded_at = %s, "
            "stripe_charge_id = %s, receipt_year = %s, receipt_seq = %s, receipt_number = %s "
            "WHERE id = %s",
            (now, intent.get("latest_charge"), now.year, seq, f"F{org_id}-{now.year}-{seq:06d}",
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
    return Response('{"status":"applied"}', mimetype="application/json")
