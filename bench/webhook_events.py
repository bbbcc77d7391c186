"""Pending donations and their signed ``payment_intent.succeeded`` deliveries, for the
webhook bench and the fault drill. Plain psycopg: none of the app's code.

The intents are the ones ``bench/stripe_stub.py`` answers for (``pi_bench_<id>_<amount>``);
the signature is Stripe's scheme (``t=<unix time>,v1=<HMAC-SHA256 of "t.payload">``), the
same as ``tests/payments/conftest.py::sign``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass

import psycopg
from psycopg import sql

from bench.stripe_stub import intent_id, intent_object


@dataclass(frozen=True)
class Pending:
    donation_id: int
    amount_fen: int
    account: str


def psycopg_url(url: str) -> str:
    """A SQLAlchemy URL (postgresql+psycopg://) as libpq takes it."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def bench_campaign(conn: psycopg.Connection) -> tuple[int, int, str]:
    """(campaign id, organization id, Stripe account) of a published campaign whose
    organization has a Stripe account (the demo data has some)."""
    row = conn.execute(
        "SELECT c.id, o.id, o.stripe_account_id FROM campaigns c "
        "JOIN organizations o ON o.id = c.organization_id "
        "WHERE c.status = 'published' AND o.stripe_account_id IS NOT NULL "
        "ORDER BY c.id LIMIT 1"
    ).fetchone()
    if row is None:
        raise RuntimeError("no published campaign of an organization with a Stripe account")
    return row[0], row[1], row[2]


def create_pending(conn: psycopg.Connection, count: int, table: str = "donations") -> list[Pending]:
    """``count`` pending card donations, as the donate form leaves them, in one statement.

    Without a donor email: the receipt email (whose PDF costs about a second of CPU,
    rendered inline today) is not part of what the bench measures.
    """
    campaign_id, org_id, account = bench_campaign(conn)
    query = sql.SQL(
        """
        WITH ids AS (
            SELECT nextval('donations_id_seq') AS id FROM generate_series(1, %(n)s)
        )
        INSERT INTO {} (
            id, organization_id, campaign_id, amount_fen, currency, refunded_fen, channel,
            status, is_anonymous, consent_show_name, message, stripe_account_id,
            stripe_payment_intent_id, public_token, failure_message, receipt_waived,
            has_parked_events, created_at, message_hidden_reason, message_reports
        )
        SELECT id, %(org)s, %(campaign)s, 100 + (id %% 97) * 100, 'CNY', 0, 'online_card',
               'pending', true, false, '', %(account)s,
               'pi_bench_' || id || '_' || (100 + (id %% 97) * 100),
               'bench' || id || md5(random()::text), '', false, false, now(), '', 0
        FROM ids
        RETURNING id, amount_fen
        """
    ).format(sql.Identifier(table))
    rows = conn.execute(
        query,
        {"n": count, "org": org_id, "campaign": campaign_id, "account": account},
    ).fetchall()
    conn.commit()
    return [Pending(donation_id, amount, account) for donation_id, amount in rows]


def event_payload(pending: Pending, event_id: str | None = None) -> str:
    assert intent_id(pending.donation_id, pending.amount_fen)
    body = {
        "id": event_id or f"evt_bench_{uuid.uuid4().hex[:20]}",
        "object": "event",
        "type": "payment_intent.succeeded",
        "created": int(time.time()),
        "account": pending.account,
        "data": {"object": intent_object(pending.donation_id, pending.amount_fen)},
        "livemode": False,
        "api_version": "2024-06-20",
    }
    return json.dumps(body, separators=(",", ":"))


def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def verify(payload: bytes, header: str, secret: str, tolerance: int = 300) -> bool:
    """Stripe's check, with the standard library only (the floor app uses it)."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        t = int(parts["t"])
    except (KeyError, ValueError):
        return False
    expected = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts.get("v1", "")) and abs(time.time() - t) <= tolerance
