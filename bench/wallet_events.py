"""WeChat Pay and Alipay notifications for the webhook bench: keys, pending donations and
signed deliveries, made here with ``cryptography`` and psycopg (none of the app's code).

The bench plays the provider: it makes a WeChat Pay merchant (platform public-key mode,
微信支付公钥: the SDK verifies with it and needs no certificate download) and an Alipay
app, with keys for this run, and the app stores them as an owner would
(``merchant_accounts.store_credentials``, sealed with PAYMENT_SECRETS_KEY). Each
delivery is what the provider sends:

* WeChat Pay v3 ``TRANSACTION.SUCCESS``: a JSON body whose ``resource`` is the transaction
  AES-256-GCM encrypted with the API v3 key, and ``Wechatpay-Timestamp/-Nonce/-Signature/
  -Serial`` headers (RSA-SHA256 over "timestamp\\nnonce\\nbody\\n" with the platform key);
* Alipay async notify: a form, ``trade_status=TRADE_SUCCESS``, RSA2 (SHA256withRSA) over
  the sorted parameters without ``sign`` and ``sign_type``, with Alipay's key.

The floor (bench/webhook_floor.py) verifies and decrypts the same deliveries by hand with
``verify_wechatpay`` / ``verify_alipay`` below; ours goes through the SDKs.
"""

from __future__ import annotations

import base64
import json
import secrets
import subprocess
import sys
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import psycopg
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from psycopg import sql

from bench.webhook_events import bench_campaign
from charity.core.clock import CST

PROVIDERS = ("wechatpay", "alipay")
CHANNELS = {"wechatpay": "online_wechatpay", "alipay": "online_alipay"}
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Pending:
    donation_id: int
    amount_fen: int
    order_no: str


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _private_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _sign(key: rsa.RSAPrivateKey, message: bytes) -> str:
    return base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


def _verify(public: rsa.RSAPublicKey, signature: str, message: bytes) -> bool:
    try:
        public.verify(base64.b64decode(signature), message, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


def make_keys() -> dict[str, Any]:
    """This run's accounts: what the organization enters (``values``) and what only the
    provider holds (the platform's and Alipay's private keys), all PEM text."""
    platform, alipay_key = _new_key(), _new_key()
    wechat = {
        "mchid": str(1900000000 + secrets.randbelow(99999)),
        "appid": "wx" + secrets.token_hex(8),
        "cert_serial_no": secrets.token_hex(20).upper(),
        "private_key": _private_pem(_new_key()),
        "apiv3_key": secrets.token_hex(16),
        "platform_public_key_id": "PUB_KEY_ID_" + secrets.token_hex(16).upper(),
        "platform_public_key": _public_pem(platform),
    }
    alipay = {
        "app_id": "2021" + "".join(secrets.choice("0123456789") for _ in range(12)),
        "app_private_key": _private_pem(_new_key()),
        "alipay_public_key": _public_pem(alipay_key),
    }
    return {
        "wechatpay": wechat,
        "alipay": alipay,
        "wechatpay_platform_private_key": _private_pem(platform),
        "alipay_private_key": _private_pem(alipay_key),
    }


CONNECT_SCRIPT = r"""
import json, sys
import sqlalchemy as sa
from charity import create_app
from charity.extensions import db
from charity.models import Organization
from charity.services import merchant_accounts
from config import load_config
keys = json.load(open(sys.argv[1]))
app = create_app(load_config())
with app.app_context():
    organization = db.session.get(Organization, int(sys.argv[2]))
    ids = {}
    for provider in ("wechatpay", "alipay"):
        account = merchant_accounts.store_credentials(
            db.session, organization, provider, keys[provider], None)
        ids[provider] = account.id
    db.session.commit()
    print(json.dumps(ids))
"""


def connect(env: dict[str, str], keys: dict[str, Any], keys_path: Path, org_id: int) -> dict:
    """Store the accounts through the app (sealed); returns {provider: account id}."""
    keys_path.write_text(json.dumps(keys))
    keys_path.chmod(0o600)
    completed = subprocess.run(
        [sys.executable, "-c", CONNECT_SCRIPT, str(keys_path), str(org_id)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return {k: int(v) for k, v in json.loads(completed.stdout.strip().splitlines()[-1]).items()}


def create_pending(
    conn: psycopg.Connection,
    count: int,
    provider: str,
    account_id: int,
    account: str,
    table: str = "donations",
) -> list[Pending]:
    """``count`` pending wallet donations with an open order, as starting the payment
    leaves them (the order number is what the provider knows: out_trade_no)."""
    campaign_id, org_id, _stripe = bench_campaign(conn)
    query = sql.SQL(
        """
        WITH ids AS (
            SELECT nextval('donations_id_seq') AS id FROM generate_series(1, %(n)s)
        )
        INSERT INTO {} (
            id, organization_id, campaign_id, amount_fen, currency, refunded_fen, channel,
            status, is_anonymous, consent_show_name, message, payment_provider,
            merchant_account_id, provider_account, provider_order_no, public_token,
            failure_message, receipt_waived, has_parked_events, created_at,
            message_hidden_reason, message_reports
        )
        SELECT id, %(org)s, %(campaign)s, 100 + (id %% 97) * 100, 'CNY', 0, %(channel)s,
               'pending', true, false, '', %(provider)s, %(account_id)s, %(account)s,
               'G' || id || 'T1Rbench', 'bench' || id || md5(random()::text), '', false,
               false, now(), '', 0
        FROM ids
        RETURNING id, amount_fen, provider_order_no
        """
    ).format(sql.Identifier(table))
    rows = conn.execute(
        query,
        {
            "n": count,
            "org": org_id,
            "campaign": campaign_id,
            "channel": CHANNELS[provider],
            "provider": provider,
            "account_id": account_id,
            "account": account,
        },
    ).fetchall()
    conn.commit()
    return [Pending(*row) for row in rows]


class Signer:
    """Makes signed deliveries as the provider would, for one run's keys."""

    def __init__(self, keys: dict[str, Any]) -> None:
        self.wechat = keys["wechatpay"]
        self.alipay = keys["alipay"]
        self.platform_key = serialization.load_pem_private_key(
            keys["wechatpay_platform_private_key"].encode(), password=None
        )
        self.alipay_key = serialization.load_pem_private_key(
            keys["alipay_private_key"].encode(), password=None
        )

    def delivery(self, provider: str, pending: Pending) -> tuple[dict[str, str], str]:
        """(headers, body) of one success notification."""
        if provider == "wechatpay":
            return self.wechatpay(pending)
        return self.alipay_notify(pending)

    def wechatpay(self, pending: Pending) -> tuple[dict[str, str], str]:
        now = datetime.now(CST).isoformat(timespec="seconds")
        transaction = {
            "appid": self.wechat["appid"],
            "mchid": self.wechat["mchid"],
            "out_trade_no": pending.order_no,
            "transaction_id": f"4200{pending.donation_id:024d}",
            "trade_type": "NATIVE",
            "trade_state": "SUCCESS",
            "trade_state_desc": "支付成功",
            "bank_type": "OTHERS",
            "attach": str(pending.donation_id),
            "success_time": now,
            "payer": {"openid": "o" + secrets.token_hex(13)},
            "amount": {
                "total": pending.amount_fen,
                "payer_total": pending.amount_fen,
                "currency": "CNY",
                "payer_currency": "CNY",
            },
        }
        nonce = secrets.token_hex(6)
        sealed = AESGCM(self.wechat["apiv3_key"].encode()).encrypt(
            nonce.encode(), _json(transaction).encode(), b"transaction"
        )
        body = _json(
            {
                "id": str(uuid.uuid4()),
                "create_time": now,
                "resource_type": "encrypt-resource",
                "event_type": "TRANSACTION.SUCCESS",
                "summary": "支付成功",
                "resource": {
                    "original_type": "transaction",
                    "algorithm": "AEAD_AES_256_GCM",
                    "ciphertext": base64.b64encode(sealed).decode(),
                    "associated_data": "transaction",
                    "nonce": nonce,
                },
            }
        )
        stamp, signing_nonce = str(int(datetime.now().timestamp())), uuid.uuid4().hex.upper()
        signature = _sign(self.platform_key, f"{stamp}\n{signing_nonce}\n{body}\n".encode())
        headers = {
            "Content-Type": "application/json",
            "Wechatpay-Timestamp": stamp,
            "Wechatpay-Nonce": signing_nonce,
            "Wechatpay-Signature": signature,
            "Wechatpay-Serial": self.wechat["platform_public_key_id"],
            "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
        }
        return headers, body

    def alipay_notify(self, pending: Pending) -> tuple[dict[str, str], str]:
        now = datetime.now(CST).strftime("%Y-%m-%d %H:%M:%S")
        total = f"{pending.amount_fen // 100}.{pending.amount_fen % 100:02d}"
        params = {
            "notify_time": now,
            "notify_type": "trade_status_sync",
            "notify_id": secrets.token_hex(16),
            "charset": "utf-8",
            "version": "1.0",
            "sign_type": "RSA2",
            "app_id": self.alipay["app_id"],
            "auth_app_id": self.alipay["app_id"],
            "seller_id": "2088000000000001",
            "out_trade_no": pending.order_no,
            "trade_no": f"2026{pending.donation_id:024d}",
            "trade_status": "TRADE_SUCCESS",
            "total_amount": total,
            "receipt_amount": total,
            "buyer_pay_amount": total,
            "subject": "捐赠 · bench",
            "gmt_create": now,
            "gmt_payment": now,
            "buyer_id": "2088" + f"{pending.donation_id:012d}"[-12:],
            "passback_params": str(pending.donation_id),
        }
        params["sign"] = _sign(self.alipay_key, alipay_content(params).encode())
        headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
        return headers, urlencode(params)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def alipay_content(params: dict[str, str]) -> str:
    """What Alipay signs: the sorted parameters but ``sign`` and ``sign_type``."""
    return "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k not in ("sign", "sign_type"))


# --- the floor's side: verification by hand ------------------------------------------------


def load_public(pem: str) -> rsa.RSAPublicKey:
    return serialization.load_pem_public_key(pem.encode())  # type: ignore[return-value]


def verify_wechatpay(
    headers: Any, body: bytes, public: rsa.RSAPublicKey, apiv3_key: str
) -> dict[str, Any] | None:
    """The notification's decrypted resource, or None if it does not verify."""
    message = (
        (
            f"{headers.get('Wechatpay-Timestamp', '')}\n{headers.get('Wechatpay-Nonce', '')}\n"
        ).encode()
        + body
        + b"\n"
    )
    if not _verify(public, headers.get("Wechatpay-Signature", ""), message):
        return None
    envelope = json.loads(body)
    resource = envelope["resource"]
    plain = AESGCM(apiv3_key.encode()).decrypt(
        resource["nonce"].encode(),
        base64.b64decode(resource["ciphertext"]),
        resource.get("associated_data", "").encode(),
    )
    return {"id": envelope["id"], "type": envelope["event_type"], **json.loads(plain)}


def verify_alipay(body: bytes, public: rsa.RSAPublicKey) -> dict[str, str] | None:
    params = dict(parse_qsl(body.decode(), keep_blank_values=True))
    signature = params.pop("sign", "")
    if not _verify(public, signature, alipay_content(params).encode()):
        return None
    return params
