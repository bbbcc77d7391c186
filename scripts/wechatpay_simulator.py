"""A local WeChat Pay API v3 (微信支付 APIv3) for development and tests.

    python scripts/wechatpay_simulator.py --port 0 [--quiet]

It speaks the real wire protocol, so the real SDK (``wechatpayv3``) signs, verifies,
encrypts and decrypts for real against it, with keys generated for this run:

* every /v3/ request must carry a valid ``Authorization: WECHATPAY2-SHA256-RSA2048 ...``
  (RSA-SHA256 over method, path with query, timestamp, nonce and body, made with the
  merchant's API certificate key; a stale timestamp or a bad signature is 401 SIGN_ERROR);
* every answer is signed (``Wechatpay-Signature`` and friends) with the platform
  certificate's key, or with the platform public key (微信支付公钥) when the request names
  its id in ``Wechatpay-Serial`` or the merchant was made in public-key mode;
* ``GET /v3/certificates`` serves the platform certificate, AES-256-GCM encrypted with
  the merchant's API v3 key;
* orders: ``POST /v3/pay/transactions/{native,h5,jsapi}``, query by ``out-trade-no`` or
  ``id``, ``.../close``; refunds: ``POST /v3/refund/domestic/refunds`` and its query;
  bills: ``GET /v3/bill/tradebill`` (ALL, SUCCESS, REFUND; plain or GZIP) and the file
  download;
* notifications (``TRANSACTION.SUCCESS``, ``REFUND.SUCCESS``) are POSTed to the order's
  ``notify_url`` with an AES-256-GCM ``resource`` and signed headers; 200/204 is success.

The donor's side: Native orders get ``code_url = weixin://wxpay/bizpayurl?pr=<token>``;
``/_sim/scan?code_url=...`` stands in for scanning it (a 支付 button, and one that makes
the payment fail). H5 orders get an ``h5_url`` on the simulator; the merchant appends
``&redirect_url=`` as with the real one and the donor comes back there after paying.

Control API (besides the notification controls of scripts/simulator_base.py):

    POST /_sim/merchants   {"mode": "certificate" | "public_key"} -> a new merchant's
                           credentials: mchid, appid, apiv3_key, cert_serial_no,
                           private_key (PEM), platform public key and its id
    GET  /_sim/orders/<mchid>/<out_trade_no>           the order as the simulator has it
    POST /_sim/orders/<mchid>/<out_trade_no>/pay       {"result": "success" | "fail"}
    POST /_sim/refunds     {"mchid", "out_trade_no", "out_refund_no", "amount"}: a refund
                           made in the merchant platform (商户平台), not through our API

Deviations, on purpose: bills for the current day are served (the real one publishes a
day's bill after 10:00 the next day), so tests need not wait a day; notifications are
retried for seconds, not a day.
"""

from __future__ import annotations

import argparse
import base64
import csv
import gzip
import hashlib
import io
import secrets
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import NameOID
from flask import Flask, Response, jsonify, redirect, request
from markupsafe import escape
from simulator_base import Outbox, control_routes, json_body, page, serve

CST = timezone(timedelta(hours=8))
SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"
#: Seconds a request's Authorization timestamp may differ from the simulator's clock.
CLOCK_SKEW = 300
#: Trade types as the API names them (H5 is MWEB in queries, bills and notifications).
TRADE_TYPES = {"native": "NATIVE", "h5": "MWEB", "jsapi": "JSAPI"}


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(CST).isoformat(timespec="seconds")


def _now() -> datetime:
    return datetime.now(CST)


def _pem_private(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _pem_public(key: rsa.RSAPublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _sign(key: rsa.RSAPrivateKey, message: str) -> str:
    signature = key.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode()


def _aes_encrypt(key: str, plaintext: str, associated_data: str) -> dict[str, str]:
    nonce = secrets.token_hex(6)  # 12 characters: the API's nonce is a 12-byte string
    sealed = AESGCM(key.encode()).encrypt(
        nonce.encode(), plaintext.encode(), associated_data.encode()
    )
    return {
        "algorithm": "AEAD_AES_256_GCM",
        "nonce": nonce,
        "associated_data": associated_data,
        "ciphertext": base64.b64encode(sealed).decode(),
    }


@dataclass
class Platform:
    """The platform's two keys: the certificate's (平台证书) and the public key (微信支付公钥)."""

    cert_key: rsa.RSAPrivateKey
    certificate: x509.Certificate
    public_key_key: rsa.RSAPrivateKey
    public_key_id: str

    @property
    def cert_serial(self) -> str:
        return format(self.certificate.serial_number, "X")

    @classmethod
    def generate(cls) -> Platform:
        key = _new_key()
        name = x509.Name(
            [x509.NameAttribute(NameOID.COMMON_NAME, "Tenpay.com Root CA (simulator)")]
        )
        now = datetime.now(UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=5 * 365))
            .sign(key, hashes.SHA256())
        )
        return cls(key, certificate, _new_key(), "PUB_KEY_ID_" + secrets.token_hex(16).upper())


@dataclass
class Merchant:
    mchid: str
    appid: str
    apiv3_key: str
    serial_no: str
    public_key: rsa.RSAPublicKey
    mode: str


@dataclass
class Order:
    mchid: str
    appid: str
    out_trade_no: str
    description: str
    total: int
    currency: str
    notify_url: str
    trade_type: str
    time_expire: datetime | None
    attach: str
    token: str
    state: str = "NOTPAY"
    transaction_id: str = ""
    success_time: datetime | None = None
    openid: str = ""
    refunded: int = 0
    created: datetime = field(default_factory=_now)

    def resource(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "appid": self.appid,
            "mchid": self.mchid,
            "out_trade_no": self.out_trade_no,
            "trade_type": self.trade_type,
            "trade_state": self.state,
            "trade_state_desc": STATE_DESCRIPTIONS[self.state],
            "attach": self.attach,
            "amount": {"total": self.total, "currency": self.currency},
        }
        if self.transaction_id:
            body.update(
                transaction_id=self.transaction_id,
                bank_type="OTHERS",
                success_time=_rfc3339(self.success_time or _now()),
                payer={"openid": self.openid},
            )
            body["amount"].update(payer_total=self.total, payer_currency=self.currency)
        return body


STATE_DESCRIPTIONS = {
    "NOTPAY": "未支付",
    "SUCCESS": "支付成功",
    "REFUND": "转入退款",
    "CLOSED": "已关闭",
    "PAYERROR": "支付失败",
}


@dataclass
class Refund:
    order: Order
    out_refund_no: str
    refund_id: str
    amount: int
    reason: str
    notify_url: str
    created: datetime
    status: str = "SUCCESS"
    success_time: datetime | None = None

    def resource(self) -> dict[str, Any]:
        return {
            "refund_id": self.refund_id,
            "out_refund_no": self.out_refund_no,
            "transaction_id": self.order.transaction_id,
            "out_trade_no": self.order.out_trade_no,
            "channel": "ORIGINAL",
            "user_received_account": "支付用户零钱",
            "create_time": _rfc3339(self.created),
            "success_time": _rfc3339(self.success_time or self.created),
            "status": self.status,
            "amount": {
                "total": self.order.total,
                "refund": self.amount,
                "payer_total": self.order.total,
                "payer_refund": self.amount,
                "settlement_refund": self.amount,
                "settlement_total": self.order.total,
                "discount_refund": 0,
                "currency": self.order.currency,
            },
        }


def _refund_notification(refund: Refund) -> dict[str, Any]:
    """A refund notification's resource: its own shape (refund_status, mchid)."""
    return {
        "mchid": refund.order.mchid,
        "out_trade_no": refund.order.out_trade_no,
        "transaction_id": refund.order.transaction_id,
        "out_refund_no": refund.out_refund_no,
        "refund_id": refund.refund_id,
        "refund_status": refund.status,
        "success_time": _rfc3339(refund.success_time or refund.created),
        "user_received_account": "支付用户零钱",
        "amount": {
            "total": refund.order.total,
            "refund": refund.amount,
            "payer_total": refund.order.total,
            "payer_refund": refund.amount,
        },
    }


class Simulator:
    """All state of one run, behind one lock."""

    def __init__(self) -> None:
        self.platform = Platform.generate()
        self.merchants: dict[str, Merchant] = {}
        self.orders: dict[tuple[str, str], Order] = {}
        self.by_token: dict[str, Order] = {}
        self.refunds: dict[tuple[str, str], Refund] = {}
        self.bills: dict[str, bytes] = {}
        self.lock = threading.RLock()
        self.outbox = Outbox(lambda status, _text: status in (200, 204))
        self._serial = 4200000000

    def next_id(self, prefix: str) -> str:
        with self.lock:
            self._serial += 1
            return f"{prefix}{_now():%Y%m%d}{self._serial:010d}"

    # --- keys and signatures ---

    def new_merchant(self, mode: str, appid: str | None) -> dict[str, str]:
        key = _new_key()
        with self.lock:
            mchid = str(1900000000 + len(self.merchants) + 1)
            merchant = Merchant(
                mchid=mchid,
                appid=appid or "wx" + secrets.token_hex(8),
                apiv3_key=secrets.token_hex(16),
                serial_no=secrets.token_hex(20).upper(),
                public_key=key.public_key(),
                mode=mode,
            )
            self.merchants[mchid] = merchant
        return {
            "mchid": merchant.mchid,
            "appid": merchant.appid,
            "apiv3_key": merchant.apiv3_key,
            "cert_serial_no": merchant.serial_no,
            "private_key": _pem_private(key),
            "platform_public_key": _pem_public(self.platform.public_key_key.public_key()),
            "platform_public_key_id": self.platform.public_key_id,
            "platform_certificate_serial": self.platform.cert_serial,
            "mode": mode,
        }

    def signer_for(self, merchant: Merchant | None, requested: str = "") -> tuple[str, Any]:
        """(serial, key) to sign with: the public key when asked for or in that mode."""
        if requested == self.platform.public_key_id or (merchant and merchant.mode == "public_key"):
            return self.platform.public_key_id, self.platform.public_key_key
        return self.platform.cert_serial, self.platform.cert_key

    def signed_headers(self, body: str, serial: str, key: rsa.RSAPrivateKey) -> dict[str, str]:
        timestamp, nonce = str(int(time.time())), uuid.uuid4().hex.upper()
        return {
            "Wechatpay-Timestamp": timestamp,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Signature": _sign(key, f"{timestamp}\n{nonce}\n{body}\n"),
            "Wechatpay-Serial": serial,
            "Wechatpay-Signature-Type": SIGNATURE_TYPE,
        }

    def authenticate(self) -> Merchant | str:
        """The merchant whose signature this request carries, or the reason it has none."""
        header = request.headers.get("Authorization", "")
        scheme, _, rest = header.partition(" ")
        if scheme != SIGNATURE_TYPE:
            return "Authorization is not WECHATPAY2-SHA256-RSA2048"
        fields = {}
        for part in rest.split(","):
            name, _, value = part.strip().partition("=")
            fields[name] = value.strip('"')
        merchant = self.merchants.get(fields.get("mchid", ""))
        if merchant is None:
            return "unknown mchid"
        if fields.get("serial_no", "").upper() != merchant.serial_no:
            return "serial_no is not the merchant's API certificate"
        try:
            if abs(time.time() - int(fields.get("timestamp", "0"))) > CLOCK_SKEW:
                return "timestamp out of range"
            path = request.path + (
                f"?{request.query_string.decode()}" if request.query_string else ""
            )
            message = (
                f"{request.method}\n{path}\n{fields['timestamp']}\n{fields['nonce_str']}\n"
                f"{request.get_data(as_text=True)}\n"
            )
            merchant.public_key.verify(
                base64.b64decode(fields.get("signature", "")),
                message.encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except (InvalidSignature, KeyError, ValueError):
            return "signature does not verify"
        return merchant

    def answer(self, merchant: Merchant | None, status: int, payload: Any = None) -> Response:
        body = "" if payload is None else _json(payload)
        serial, key = self.signer_for(merchant, request.headers.get("Wechatpay-Serial", ""))
        response = Response(body, status=status, mimetype="application/json")
        response.headers.update(self.signed_headers(body, serial, key))
        return response

    # --- notifications ---

    def notify(self, merchant: Merchant, url: str, event: str, kind: str, resource: dict) -> None:
        body = _json(
            {
                "id": str(uuid.uuid4()),
                "create_time": _rfc3339(_now()),
                "resource_type": "encrypt-resource",
                "event_type": event,
                "summary": "支付成功" if kind == "transaction" else "退款成功",
                "resource": {
                    "original_type": kind,
                    **_aes_encrypt(merchant.apiv3_key, _json(resource), kind),
                },
            }
        )
        serial, key = self.signer_for(merchant)
        headers = {"Content-Type": "application/json", **self.signed_headers(body, serial, key)}
        self.outbox.add(event, resource.get("out_trade_no", ""), url, headers, body.encode())

    # --- what the donor and the merchant do ---

    def pay(self, order: Order, result: str) -> str:
        """The donor pays (or the payment fails); '' when done, else why not."""
        with self.lock:
            if order.state != "NOTPAY":
                return "订单状态为" + STATE_DESCRIPTIONS[order.state]
            if order.time_expire and _now() > order.time_expire:
                return "订单已过期"
            if result == "fail":
                order.state = "PAYERROR"
                return ""
            order.state = "SUCCESS"
            order.transaction_id = self.next_id("4200")
            order.success_time = _now()
            order.openid = "o" + secrets.token_urlsafe(20)[:27]
        merchant = self.merchants[order.mchid]
        self.notify(
            merchant, order.notify_url, "TRANSACTION.SUCCESS", "transaction", order.resource()
        )
        return ""

    def refund(
        self, order: Order, out_refund_no: str, amount: int, reason: str, url: str
    ) -> Refund | str:
        with self.lock:
            existing = self.refunds.get((order.mchid, out_refund_no))
            if existing is not None:
                return existing
            if order.state not in ("SUCCESS", "REFUND"):
                return "订单未支付，不能退款"
            if not 0 < amount <= order.total - order.refunded:
                return "退款金额超过订单可退金额"
            now = _now()
            refund = Refund(order, out_refund_no, self.next_id("5030"), amount, reason, url, now)
            refund.success_time = now
            order.refunded += amount
            order.state = "REFUND"
            self.refunds[(order.mchid, out_refund_no)] = refund
        merchant = self.merchants[order.mchid]
        self.notify(merchant, url, "REFUND.SUCCESS", "refund", _refund_notification(refund))
        return refund

    def bill(self, merchant: Merchant, day: str, bill_type: str) -> bytes | None:
        with self.lock:
            orders = [o for o in self.orders.values() if o.mchid == merchant.mchid]
            refunds = [r for r in self.refunds.values() if r.order.mchid == merchant.mchid]
        paid = [o for o in orders if o.success_time and o.success_time.date().isoformat() == day]
        refunded = [r for r in refunds if (r.success_time or r.created).date().isoformat() == day]
        rows = ([] if bill_type == "REFUND" else [_paid_row(o) for o in paid]) + (
            [] if bill_type == "SUCCESS" else [_refund_row(r, bill_type) for r in refunded]
        )
        if not rows:
            return None
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        header = REFUND_BILL_HEADER if bill_type == "REFUND" else TRADE_BILL_HEADER
        writer.writerow(header)
        for row in sorted(rows, key=lambda r: r["交易时间"]):
            writer.writerow(["`" + str(row.get(name, "")) for name in header])
        paid_total = sum(o.total for o in paid) if bill_type != "REFUND" else 0
        refund_total = sum(r.amount for r in refunded) if bill_type != "SUCCESS" else 0
        writer.writerow(
            [
                "总交易单数",
                "应结订单总金额",
                "退款总金额",
                "充值券退款总金额",
                "手续费总金额",
                "订单总金额",
                "申请退款总金额",
            ]
        )
        writer.writerow(
            [
                "`" + str(len(rows)),
                "`" + _yuan(paid_total),
                "`" + _yuan(refund_total),
                "`0.00",
                "`0.00000",
                "`" + _yuan(paid_total),
                "`" + _yuan(refund_total),
            ]
        )
        return out.getvalue().encode("utf-8")


TRADE_BILL_HEADER = [
    "交易时间",
    "公众账号ID",
    "商户号",
    "特约商户号",
    "设备号",
    "微信订单号",
    "商户订单号",
    "用户标识",
    "交易类型",
    "交易状态",
    "付款银行",
    "货币种类",
    "应结订单金额",
    "代金券金额",
    "微信退款单号",
    "商户退款单号",
    "退款金额",
    "充值券退款金额",
    "退款类型",
    "退款状态",
    "商品名称",
    "商户数据包",
    "手续费",
    "费率",
    "订单金额",
    "申请退款金额",
    "费率备注",
]
REFUND_BILL_HEADER = [
    "交易时间",
    "公众账号ID",
    "商户号",
    "特约商户号",
    "设备号",
    "微信订单号",
    "商户订单号",
    "用户标识",
    "交易类型",
    "交易状态",
    "付款银行",
    "货币种类",
    "应结订单金额",
    "代金券金额",
    "退款申请时间",
    "退款成功时间",
    "微信退款单号",
    "商户退款单号",
    "退款金额",
    "充值券退款金额",
    "退款类型",
    "退款状态",
    "商品名称",
    "商户数据包",
    "手续费",
    "费率",
    "订单金额",
    "申请退款金额",
    "费率备注",
]


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def _stamp(moment: datetime | None) -> str:
    return (moment or _now()).astimezone(CST).strftime("%Y-%m-%d %H:%M:%S")


def _order_row(order: Order) -> dict[str, str]:
    return {
        "公众账号ID": order.appid,
        "商户号": order.mchid,
        "特约商户号": "0",
        "微信订单号": order.transaction_id,
        "商户订单号": order.out_trade_no,
        "用户标识": order.openid,
        "交易类型": order.trade_type,
        "付款银行": "OTHERS",
        "货币种类": order.currency,
        "代金券金额": "0.00",
        "商品名称": order.description,
        "商户数据包": order.attach,
        "手续费": "0.00000",
        "费率": "0.00%",
        "订单金额": _yuan(order.total),
    }


def _paid_row(order: Order) -> dict[str, str]:
    return {
        **_order_row(order),
        "交易时间": _stamp(order.success_time),
        "交易状态": "SUCCESS",
        "应结订单金额": _yuan(order.total),
        "退款金额": "0.00",
        "充值券退款金额": "0.00",
        "申请退款金额": "0.00",
    }


def _refund_row(refund: Refund, bill_type: str) -> dict[str, str]:
    row = {
        **_order_row(refund.order),
        "交易时间": _stamp(
            refund.success_time if bill_type == "ALL" else refund.order.success_time
        ),
        "交易状态": "REFUND",
        "应结订单金额": "0.00",
        "微信退款单号": refund.refund_id,
        "商户退款单号": refund.out_refund_no,
        "退款金额": _yuan(refund.amount),
        "充值券退款金额": "0.00",
        "退款类型": "ORIGINAL",
        "退款状态": refund.status,
        "申请退款金额": _yuan(refund.amount),
        "退款申请时间": _stamp(refund.created),
        "退款成功时间": _stamp(refund.success_time),
    }
    return row


def _json(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _error(
    sim: Simulator, merchant: Merchant | None, status: int, code: str, message: str
) -> Response:
    return sim.answer(merchant, status, {"code": code, "message": message})


def create_app() -> Flask:
    app = Flask(__name__)
    sim = Simulator()
    app.extensions["wechatpay_simulator"] = sim
    control_routes(app, sim.outbox)

    def merchant_or_401() -> Merchant | Response:
        merchant = sim.authenticate()
        if isinstance(merchant, str):
            return _error(sim, None, 401, "SIGN_ERROR", merchant)
        return merchant

    @app.get("/v3/certificates")
    def certificates():  # type: ignore[no-untyped-def]
        merchant = merchant_or_401()
        if isinstance(merchant, Response):
            return merchant
        cert = sim.platform.certificate
        pem = cert.public_bytes(serialization.Encoding.PEM).decode()
        return sim.answer(
            merchant,
            200,
            {
                "data": [
                    {
                        "serial_no": sim.platform.cert_serial,
                        "effective_time": _rfc3339(cert.not_valid_before_utc),
                        "expire_time": _rfc3339(cert.not_valid_after_utc),
                        "encrypt_certificate": _aes_encrypt(merchant.apiv3_key, pem, "certificate"),
                    }
                ]
            },
        )

    @app.post("/v3/pay/transactions/<kind>")
    def create_order(kind: str):  # type: ignore[no-untyped-def]
        merchant = merchant_or_401()
        if isinstance(merchant, Response):
            return merchant
        if kind not in TRADE_TYPES:
            return _error(sim, merchant, 404, "NOT_FOUND", "无此接口")
        data = json_body()
        problem = _order_problem(merchant, data, kind)
        if problem:
            return _error(sim, merchant, 400, "PARAM_ERROR", problem)
        amount = data["amount"]
        expire = _parse_time(data.get("time_expire"))
        with sim.lock:
            key = (merchant.mchid, data["out_trade_no"])
            order = sim.orders.get(key)
            if order is not None:
                if order.state == "SUCCESS" or order.state == "REFUND":
                    return _error(sim, merchant, 400, "ORDERPAID", "该订单已支付")
                if order.state == "CLOSED":
                    return _error(sim, merchant, 400, "ORDER_CLOSED", "该订单已关闭")
                if order.total != amount["total"] or order.trade_type != TRADE_TYPES[kind]:
                    return _error(sim, merchant, 400, "INVALID_REQUEST", "201 商户订单号重复")
            else:
                order = Order(
                    mchid=merchant.mchid,
                    appid=data["appid"],
                    out_trade_no=data["out_trade_no"],
                    description=data["description"],
                    total=amount["total"],
                    currency=amount.get("currency", "CNY"),
                    notify_url=data["notify_url"],
                    trade_type=TRADE_TYPES[kind],
                    time_expire=expire,
                    attach=data.get("attach", ""),
                    token=secrets.token_urlsafe(16),
                )
                sim.orders[key] = order
                sim.by_token[order.token] = order
        base = app.config["BASE_URL"]
        if kind == "native":
            return sim.answer(
                merchant, 200, {"code_url": f"weixin://wxpay/bizpayurl?pr={order.token}"}
            )
        if kind == "h5":
            query = urlencode({"prepay_id": "wx" + order.token, "package": "2150917749"})
            return sim.answer(merchant, 200, {"h5_url": f"{base}/_sim/h5?{query}"})
        return sim.answer(merchant, 200, {"prepay_id": "wx" + order.token})

    @app.get("/v3/pay/transactions/out-trade-no/<out_trade_no>")
    @app.get("/v3/pay/transactions/id/<transaction_id>")
    def query_order(out_trade_no: str = "", transaction_id: str = ""):  # type: ignore[no-untyped-def]
        merchant = merchant_or_401()
        if isinstance(merchant, Response):
            return merchant
        order = _find(sim, merchant, out_trade_no, transaction_id)
        if order is None:
            return _error(sim, merchant, 404, "ORDER_NOT_EXIST", "订单不存在")
        return sim.answer(merchant, 200, order.resource())

    @app.post("/v3/pay/transactions/out-trade-no/<out_trade_no>/close")
    def close_order(out_trade_no: str):  # type: ignore[no-untyped-def]
        merchant = merchant_or_401()
        if isinstance(merchant, Response):
            return merchant
        order = _find(sim, merchant, out_trade_no, "")
        if order is None:
            return _error(sim, merchant, 404, "ORDER_NOT_EXIST", "订单不存在")
        with sim.lock:
            if order.state in ("SUCCESS", "REFUND"):
                return _error(sim, merchant, 400, "ORDERPAID", "该订单已支付")
            order.state = "CLOSED"
        return sim.answer(merchant, 204)

    @app.post("/v3/refund/domestic/refunds")
    def create_refund():  # type: ignore[no-untyped-def]
        merchant = merchant_or_401()
        if isinstance(merchant, Response):
            return merchant
        data = json_body()
        amount = data.get("amount") or {}
        order = _find(sim, merchant, data.get("out_trade_no", ""), data.get("transaction_id", ""))
        if order is None:
            return _error(sim, merchant, 404, "RESOURCE_NOT_EXISTS", "订单不存在")
        if not data.get("out_refund_no") or not isinstance(amount.get("refund"), int):
            return _error(sim, merchant, 400, "PARAM_ERROR", "缺少参数")
        if amount.get("total") != order.total:
            return _error(sim, merchant, 400, "INVALID_REQUEST", "订单金额与原订单不一致")
        made = sim.refund(
            order,
            data["out_refund_no"],
            amount["refund"],
            data.get("reason", ""),
            data.get("notify_url") or order.notify_url,
        )
        if isinstance(made, str):
            return _error(sim, merchant, 400, "INVALID_REQUEST", made)
        return sim.answer(merchant, 200, made.resource())

    @app.get("/v3/refund/domestic/refunds/<out_refund_no>")
    def query_refund(out_refund_no: str):  # type: ignore[no-untyped-def]
        merchant = merchant_or_401()
        if isinstance(merchant, Response):
            return merchant
        refund = sim.refunds.get((merchant.mchid, out_refund_no))
        if refund is None:
            return _error(sim, merchant, 404, "RESOURCE_NOT_EXISTS", "退款单不存在")
        return sim.answer(merchant, 200, refund.resource())

    @app.get("/v3/bill/tradebill")
    def trade_bill():  # type: ignore[no-untyped-def]
        merchant = merchant_or_401()
        if isinstance(merchant, Response):
            return merchant
        day = request.args.get("bill_date", "")
        bill_type = request.args.get("bill_type", "ALL")
        try:
            if datetime.strptime(day, "%Y-%m-%d").date() > _now().date():
                return _error(sim, merchant, 400, "INVALID_REQUEST", "账单日期不能晚于今天")
        except ValueError:
            return _error(sim, merchant, 400, "PARAM_ERROR", "bill_date 格式为 YYYY-MM-DD")
        if bill_type not in ("ALL", "SUCCESS", "REFUND"):
            return _error(sim, merchant, 400, "PARAM_ERROR", "bill_type 无效")
        content = sim.bill(merchant, day, bill_type)
        if content is None:
            return _error(sim, merchant, 400, "NO_STATEMENT_EXIST", "No statement exist")
        if request.args.get("tar_type") == "GZIP":
            content = gzip.compress(content)
        token = secrets.token_urlsafe(16)
        with sim.lock:
            sim.bills[token] = content
        return sim.answer(
            merchant,
            200,
            {
                "hash_type": "SHA1",
                "hash_value": hashlib.sha1(content).hexdigest(),  # noqa: S324 - the API's own choice
                "download_url": f"{app.config['BASE_URL']}/v3/billdownload/file?token={token}",
            },
        )

    @app.get("/v3/billdownload/file")
    def bill_file():  # type: ignore[no-untyped-def]
        merchant = merchant_or_401()
        if isinstance(merchant, Response):
            return merchant
        content = sim.bills.get(request.args.get("token", ""))
        if content is None:
            return _error(sim, merchant, 404, "RESOURCE_NOT_EXISTS", "账单不存在")
        return Response(content, mimetype="application/octet-stream")

    # --- the donor's side: the stand-ins for scanning the code and for the H5 page ---

    @app.get("/_sim/scan")
    def scan():  # type: ignore[no-untyped-def]
        code_url = request.args.get("code_url", "")
        token = parse_qs(urlparse(code_url).query).get("pr", [""])[0]
        return _cashier(sim, sim.by_token.get(token), f"/_sim/scan/{token}", "")

    @app.post("/_sim/scan/<token>")
    def scan_pay(token: str):  # type: ignore[no-untyped-def]
        order = sim.by_token.get(token)
        problem = sim.pay(order, request.form.get("result", "success")) if order else "订单不存在"
        return _result_page(problem, request.form.get("result", "success"), "")

    @app.get("/_sim/h5")
    def h5():  # type: ignore[no-untyped-def]
        token = request.args.get("prepay_id", "")[2:]
        return _cashier(
            sim, sim.by_token.get(token), f"/_sim/h5/{token}", request.args.get("redirect_url", "")
        )

    @app.post("/_sim/h5/<token>")
    def h5_pay(token: str):  # type: ignore[no-untyped-def]
        order = sim.by_token.get(token)
        result = request.form.get("result", "success")
        problem = sim.pay(order, result) if order else "订单不存在"
        back = request.form.get("redirect_url", "")
        if not problem and back.startswith(("http://127.0.0.1", "http://localhost")):
            return redirect(back, 303)
        return _result_page(problem, result, back)

    # --- control API ---

    @app.post("/_sim/merchants")
    def new_merchant():  # type: ignore[no-untyped-def]
        options = json_body()
        mode = options.get("mode", "certificate")
        if mode not in ("certificate", "public_key"):
            return jsonify(error="mode is certificate or public_key"), 400
        return jsonify(sim.new_merchant(mode, options.get("appid")))

    @app.get("/_sim/orders/<mchid>/<out_trade_no>")
    def sim_order(mchid: str, out_trade_no: str):  # type: ignore[no-untyped-def]
        order = sim.orders.get((mchid, out_trade_no))
        if order is None:
            return jsonify(error="no such order"), 404
        return jsonify(order=order.resource(), token=order.token, refunded=order.refunded)

    @app.post("/_sim/orders/<mchid>/<out_trade_no>/pay")
    def sim_pay(mchid: str, out_trade_no: str):  # type: ignore[no-untyped-def]
        order = sim.orders.get((mchid, out_trade_no))
        if order is None:
            return jsonify(error="no such order"), 404
        problem = sim.pay(order, json_body().get("result", "success"))
        if problem:
            return jsonify(error=problem), 409
        return jsonify(order=order.resource())

    @app.post("/_sim/refunds")
    def sim_refund():  # type: ignore[no-untyped-def]
        data = json_body()
        order = sim.orders.get((str(data.get("mchid")), str(data.get("out_trade_no"))))
        if order is None:
            return jsonify(error="no such order"), 404
        made = sim.refund(
            order,
            str(data.get("out_refund_no") or sim.next_id("MP")),
            int(data.get("amount", order.total)),
            "商户平台退款",
            order.notify_url,
        )
        if isinstance(made, str):
            return jsonify(error=made), 409
        return jsonify(refund=made.resource())

    return app


def _order_problem(merchant: Merchant, data: dict, kind: str) -> str:
    amount = data.get("amount")
    if data.get("mchid") != merchant.mchid:
        return "mchid 与签名商户不一致"
    if data.get("appid") != merchant.appid:
        return "appid 与商户号不匹配"
    for name in ("description", "out_trade_no", "notify_url"):
        if not isinstance(data.get(name), str) or not data[name]:
            return f"缺少参数 {name}"
    if not 6 <= len(data["out_trade_no"]) <= 32:
        return "out_trade_no 长度为 6-32"
    if (
        not isinstance(amount, dict)
        or not isinstance(amount.get("total"), int)
        or amount["total"] <= 0
    ):
        return "amount.total 必须为正整数（分）"
    if kind == "h5" and not (data.get("scene_info") or {}).get("h5_info"):
        return "H5 下单需要 scene_info.h5_info"
    if kind == "jsapi" and not (data.get("payer") or {}).get("openid"):
        return "JSAPI 下单需要 payer.openid"
    if data.get("time_expire") and _parse_time(data["time_expire"]) is None:
        return "time_expire 格式为 RFC 3339"
    return ""


def _parse_time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _find(
    sim: Simulator, merchant: Merchant, out_trade_no: str, transaction_id: str
) -> Order | None:
    with sim.lock:
        if out_trade_no:
            return sim.orders.get((merchant.mchid, out_trade_no))
        for order in sim.orders.values():
            if (
                order.mchid == merchant.mchid
                and transaction_id
                and order.transaction_id == transaction_id
            ):
                return order
    return None


def _cashier(sim: Simulator, order: Order | None, action: str, back: str) -> Response:
    if order is None:
        return page("微信支付（模拟器）", "<p>订单不存在。</p>")
    merchant_name = escape(order.description)
    form = f"""<form method="post" action="{escape(action)}">
<input type="hidden" name="redirect_url" value="{escape(back)}">
<button type="submit" name="result" value="success">确认支付</button>
<button type="submit" name="result" value="fail">模拟支付失败</button></form>"""
    state = "" if order.state == "NOTPAY" else f"<p>订单状态：{STATE_DESCRIPTIONS[order.state]}</p>"
    return page(
        "微信支付（模拟器）",
        f"""<p>{merchant_name}</p><p class="amount">¥{_yuan(order.total)}</p>
<p class="note">商户号 {escape(order.mchid)} · 订单 {escape(order.out_trade_no)}</p>
{state}{form if order.state == "NOTPAY" else ""}
<p class="note">这一页代替微信扫码：按钮代替在手机上确认支付。</p>""",
    )


def _result_page(problem: str, result: str, back: str) -> Response:
    if problem:
        text = f"<p role='alert'>无法支付：{escape(problem)}</p>"
    elif result == "fail":
        text = "<p role='alert'>支付失败（模拟）。</p>"
    else:
        text = "<p role='status'>支付成功</p>"
    if back:
        text += f'<p><a href="{escape(back)}">返回商户</a></p>'
    return page("微信支付（模拟器）", text)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8430)
    parser.add_argument("--quiet", action="store_true", help="no access log")
    args = parser.parse_args()
    serve(create_app(), "wechatpay", args.port, args.quiet)
    return 0


if __name__ == "__main__":
    sys.exit(main())
