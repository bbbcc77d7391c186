"""WeChat Pay API v3 (微信支付), through the maintained SDK ``wechatpayv3``.

Each organization pays into its own 商户号 (direct merchant mode): Native (a QR code the
donor scans, on a desktop), H5 (a phone browser hands over to the WeChat app) and JSAPI
(inside WeChat, with the donor's openid under the organization's official account; see
docs/gifts.md for that seam). The SDK signs every request with the merchant's API
certificate key, verifies every answer and notification against the platform
certificate (downloaded from ``/v3/certificates``, decrypted with the API v3 key) or the
platform public key (微信支付公钥), and decrypts the AES-256-GCM notification resource.

Gateway: the SDK fixes ``https://api.mch.weixin.qq.com`` in ``Core._gate_way``;
``WECHATPAY_API_BASE`` (development and tests only: production refuses it) points it at
scripts/wechatpay_simulator.py. The SDK version is pinned and
tests/payments/test_sdk_pins.py fails if the attribute moves.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import secrets
import threading
import time
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

import requests
from cryptography.hazmat.primitives import serialization
from flask import current_app
from wechatpayv3 import WeChatPay, WeChatPayType

from charity.core.clock import CST
from charity.payments.base import (
    Checkout,
    Intent,
    Merchant,
    NewPayment,
    Notice,
    NotificationError,
    PaymentError,
    PaymentUnavailableError,
    RefundNotice,
    RefundRequest,
    RefundResult,
    Statement,
    StatementLine,
)
from charity.payments.declines import WALLET_MESSAGES

PAY_TYPES = {"native": WeChatPayType.NATIVE, "h5": WeChatPayType.H5, "jsapi": WeChatPayType.JSAPI}
#: trade_state -> our status words (Intent.status).
STATES = {
    "SUCCESS": "succeeded",
    "REFUND": "succeeded",  # paid, then (partly) refunded
    "PAYERROR": "failed",
    "CLOSED": "closed",
    "REVOKED": "closed",
}
#: The key name the bootstrap constructor is given so that it does not go to the network.
_BOOTSTRAP_KEY_ID = "CHARITY-BOOTSTRAP-NOT-A-PLATFORM-KEY"

_clients: dict[tuple[int, str, str], WeChatPay] = {}
_clients_lock = threading.Lock()


def gateway() -> str:
    return current_app.config.get("WECHATPAY_API_BASE") or ""


def _new_client(merchant: Merchant) -> WeChatPay:
    settings, keys = merchant.settings, merchant.secrets
    options: dict[str, Any] = {
        "wechatpay_type": WeChatPayType.NATIVE,
        "mchid": merchant.public_id,
        "private_key": keys["private_key"],
        "cert_serial_no": settings["cert_serial_no"],
        "appid": settings["appid"],
        "apiv3_key": keys["apiv3_key"],
        "timeout": (5, 20),
    }
    if settings.get("platform_public_key_id"):
        client = WeChatPay(
            **options,
            public_key=settings["platform_public_key"],
            public_key_id=settings["platform_public_key_id"],
        )
        _point_at_gateway(client)
        return client
    # Platform-certificate mode. The SDK's constructor would fetch /v3/certificates from
    # its hard-coded gateway before we could point it anywhere, so it is built with the
    # merchant's own public key as a stand-in (no network), pointed at the gateway, and
    # then made to download the platform certificates itself.
    own_key = _public_pem(keys["private_key"])
    client = WeChatPay(**options, public_key=own_key, public_key_id=_BOOTSTRAP_KEY_ID)
    _point_at_gateway(client)
    core = client._core
    core._public_key, core._public_key_id = None, None
    try:
        core._update_certificates()
    except requests.RequestException as error:
        raise PaymentUnavailableError(f"WeChat Pay certificates: {error}") from error
    if not core._certificates:
        raise PaymentError("WeChat Pay gave no platform certificate (check the API v3 key)")
    return client


def _point_at_gateway(client: WeChatPay) -> None:
    if gateway():
        client._core._gate_way = gateway().rstrip("/")


def _public_pem(private_pem: str) -> str:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def client_for(merchant: Merchant) -> WeChatPay:
    """The merchant's SDK client, built once per process and credentials."""
    key = (merchant.account_id, merchant.fingerprint, gateway())
    client = _clients.get(key)
    if client is None:
        client = _new_client(merchant)
        with _clients_lock:
            _clients[key] = client
    return client


def forget_clients(account_id: int) -> None:
    """Drop cached clients of an account whose credentials changed."""
    with _clients_lock:
        for key in [k for k in _clients if k[0] == account_id]:
            del _clients[key]


def _call(function: Any, *args: Any, **kwargs: Any) -> tuple[int, Any]:
    try:
        code, message = function(*args, **kwargs)
    except requests.RequestException as error:
        raise PaymentUnavailableError(f"WeChat Pay unreachable: {error}") from error
    except Exception as error:  # the SDK raises bare Exceptions (e.g. a bad signature)
        raise PaymentError(f"WeChat Pay: {error}") from error
    if code >= 500:
        raise PaymentUnavailableError(f"WeChat Pay answered {code}")
    return code, message


def _answer(code: int, message: Any) -> dict[str, Any]:
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    try:
        value = json.loads(message) if message else {}
    except ValueError:
        value = {"message": str(message)[:200]}
    return value if isinstance(value, dict) else {}


def _failed(code: int, answer: Mapping[str, Any]) -> PaymentError:
    return PaymentError(
        str(answer.get("message") or f"WeChat Pay answered {code}"), str(answer.get("code", ""))
    )


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(CST).isoformat(timespec="seconds")


def _time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)).astimezone(UTC) if value else None
    except ValueError:
        return None


def intent_from_transaction(resource: Mapping[str, Any]) -> Intent:
    """An Intent from a transaction object (a query's answer, a notification's resource);
    KeyError/TypeError/ValueError for one that lacks what a transaction has."""
    amount = resource["amount"]
    return Intent(
        id=str(resource["out_trade_no"]),
        status=STATES.get(str(resource["trade_state"]), "pending"),
        amount=int(amount["total"]),
        currency=str(amount.get("currency") or "CNY").upper(),
        metadata={"donation_id": str(resource.get("attach") or "")},
        client_secret="",
        latest_charge=resource.get("transaction_id"),
        # WeChat's own trade_state_desc is not shown: our words for the state.
        failure_message=WALLET_MESSAGES.get(STATES.get(str(resource["trade_state"]), ""), ""),
        provider="wechatpay",
        account=str(resource["mchid"]),
        paid_at=_time(resource.get("success_time")),
    )


class WeChatPayProvider:
    name = "wechatpay"

    def create_payment(self, merchant: Merchant, payment: NewPayment) -> Checkout:
        client = client_for(merchant)
        options: dict[str, Any] = {
            "description": payment.description[:127],
            "out_trade_no": payment.order_no,
            "amount": {"total": payment.amount_fen, "currency": payment.currency},
            "time_expire": _rfc3339(payment.expires_at),
            "attach": str(payment.donation_id),
            "notify_url": payment.notify_url,
            "pay_type": PAY_TYPES[payment.method],
        }
        if payment.method == "h5":
            options["scene_info"] = {
                "payer_client_ip": payment.client_ip,
                "h5_info": {"type": "Wap"},
            }
        if payment.method == "jsapi":
            options["payer"] = {"openid": payment.openid}
        code, message = _call(client.pay, **options)
        answer = _answer(code, message)
        if code != 200:
            raise _failed(code, answer)
        if payment.method == "native":
            return Checkout("qr", str(answer["code_url"]))
        if payment.method == "h5":
            back = quote(payment.return_url, safe="")
            return Checkout("redirect", f"{answer['h5_url']}&redirect_url={back}")
        return Checkout(
            "jsapi", str(answer["prepay_id"]), self._jsapi_params(client, merchant, answer)
        )

    def _jsapi_params(
        self, client: WeChatPay, merchant: Merchant, answer: Mapping[str, Any]
    ) -> dict[str, str]:
        """What WeixinJSBridge.invoke('getBrandWCPayRequest', ...) takes, signed."""
        stamp, nonce = str(int(time.time())), secrets.token_hex(16)
        package = f"prepay_id={answer['prepay_id']}"
        signature = client.sign([merchant.settings["appid"], stamp, nonce, package])
        return {
            "appId": merchant.settings["appid"],
            "timeStamp": stamp,
            "nonceStr": nonce,
            "package": package,
            "signType": "RSA",
            "paySign": signature,
        }

    def query_payment(self, merchant: Merchant, order_no: str) -> Intent:
        code, message = _call(client_for(merchant).query, out_trade_no=order_no)
        answer = _answer(code, message)
        if code == 404:
            return Intent(order_no, "missing", 0, "CNY", {}, "", None, "", "wechatpay")
        if code != 200:
            raise _failed(code, answer)
        try:
            return intent_from_transaction(answer)
        except (KeyError, TypeError, ValueError) as error:
            raise PaymentError(f"WeChat Pay query answer lacks {error}") from error

    def close_payment(self, merchant: Merchant, order_no: str) -> Intent | None:
        code, message = _call(client_for(merchant).close, out_trade_no=order_no)
        if code in (200, 204, 404):
            return None
        answer = _answer(code, message)
        if answer.get("code") == "ORDERPAID":
            return self.query_payment(merchant, order_no)
        raise _failed(code, answer)

    def refund(self, merchant: Merchant, request: RefundRequest) -> RefundResult:
        code, message = _call(
            client_for(merchant).refund,
            out_refund_no=request.refund_no,
            amount={
                "refund": request.amount_fen,
                "total": request.total_fen,
                "currency": request.currency,
            },
            out_trade_no=request.order_no,
            reason=request.reason[:80] or None,
            notify_url=request.notify_url,
        )
        answer = _answer(code, message)
        if code != 200:
            raise _failed(code, answer)
        return RefundResult(request.refund_no, str(answer.get("status", "")).lower())

    def query_refund(
        self, merchant: Merchant, order_no: str, refund_id: str
    ) -> StatementLine | None:
        code, message = _call(client_for(merchant).query_refund, out_refund_no=refund_id)
        answer = _answer(code, message)
        if code == 404:
            return None
        if code != 200:
            raise _failed(code, answer)
        if answer.get("status") not in ("SUCCESS", "PROCESSING"):
            return None
        return StatementLine(
            kind="refund",
            order_no=str(answer.get("out_trade_no") or order_no),
            refund_id=refund_id,
            amount_fen=int(answer["amount"]["refund"]),
            currency=str(answer["amount"].get("currency") or "CNY"),
            status="succeeded" if answer["status"] == "SUCCESS" else "pending",
            at=_time(answer.get("success_time") or answer.get("create_time")),
            raw=answer,
        )

    def parse_notification(
        self, merchant: Merchant, headers: Mapping[str, str], body: bytes
    ) -> Notice:
        """Verify the signature and decrypt the resource with the SDK, then parse."""
        try:
            data = client_for(merchant).callback(headers, body)
        except PaymentError:
            raise
        except Exception as error:  # the SDK raises ValueError/Exception on odd headers
            raise NotificationError(f"WeChat Pay notification: {error}") from error
        if not data:
            raise NotificationError("WeChat Pay notification: signature or resource invalid")
        try:
            return _notice(merchant, data)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise NotificationError(f"WeChat Pay notification lacks {error}") from error

    def acknowledge(self) -> tuple[str, int, dict[str, str]]:
        return "", 204, {}

    def refuse(self, reason: str, status: int) -> tuple[str, int, dict[str, str]]:
        body = json.dumps({"code": "FAIL", "message": reason[:200]}, ensure_ascii=False)
        return body, status, {"Content-Type": "application/json"}

    def download_statement(self, merchant: Merchant, day: date) -> Statement:
        """The day's trade bill (SUCCESS) and refund bill (REFUND)."""
        client = client_for(merchant)
        lines: list[StatementLine] = []
        digest = hashlib.sha256()
        for bill_type in ("SUCCESS", "REFUND"):
            content = _bill(client, day, bill_type)
            digest.update(content)
            lines += _bill_lines(content.decode("utf-8-sig"), bill_type)
        return Statement("wechatpay", merchant.public_id, day, tuple(lines), digest.hexdigest())


def _notice(merchant: Merchant, data: Mapping[str, Any]) -> Notice:
    event, resource = str(data["event_type"]), data["resource"]
    event_id = f"wechatpay:{data['id']}"
    if event == "TRANSACTION.SUCCESS":
        intent = intent_from_transaction(resource)
        return Notice("wechatpay", event_id, "payment.succeeded", intent.account or "", intent)
    if event.startswith("REFUND."):
        amount = resource["amount"]
        refund = RefundNotice(
            order_no=str(resource["out_trade_no"]),
            refund_id=str(resource["out_refund_no"]),
            amount_fen=int(amount["refund"]),
            currency=str(amount.get("currency") or "CNY").upper(),
            status="succeeded" if event == "REFUND.SUCCESS" else "failed",
        )
        kind = "refund.succeeded" if refund.status == "succeeded" else "refund.failed"
        return Notice("wechatpay", event_id, kind, str(resource["mchid"]), refund=refund)
    return Notice("wechatpay", event_id, "ignored", merchant.public_id)


def _bill(client: WeChatPay, day: date, bill_type: str) -> bytes:
    code, message = _call(
        client.trade_bill, bill_date=day.isoformat(), bill_type=bill_type, tar_type="GZIP"
    )
    answer = _answer(code, message)
    if code == 400 and answer.get("code") == "NO_STATEMENT_EXIST":
        return b""
    if code != 200:
        raise _failed(code, answer)
    code, content = _call(client.download_bill, answer["download_url"])
    if code != 200 or not isinstance(content, bytes):
        raise PaymentError(f"WeChat Pay bill download answered {code}")
    if hashlib.sha1(content).hexdigest() != answer.get("hash_value"):  # noqa: S324 - theirs
        raise PaymentError("WeChat Pay bill does not match its SHA1")
    try:
        return gzip.decompress(content)
    except OSError as error:
        raise PaymentError(f"WeChat Pay bill is not gzip: {error}") from error


_BILL_STATES = {"SUCCESS": "succeeded", "PROCESSING": "pending"}


def _yuan_to_fen(value: str) -> int:
    whole, _, cents = value.strip().partition(".")
    return int(whole) * 100 + int((cents + "00")[:2])


def _bill_lines(text: str, bill_type: str) -> list[StatementLine]:
    """Rows of a bill: every value starts with a backtick; the summary ends the rows."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    lines = []
    for row in reader:
        if not row or not row[0].startswith("`"):
            break  # the summary (总交易单数, ...) follows the rows
        record = dict(zip(header or [], (value.lstrip("`") for value in row), strict=False))
        at = datetime.strptime(record["交易时间"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=CST)
        refund = bill_type == "REFUND"
        lines.append(
            StatementLine(
                kind="refund" if refund else "payment",
                order_no=record["商户订单号"],
                refund_id=record.get("商户退款单号", "") if refund else "",
                amount_fen=_yuan_to_fen(record["退款金额" if refund else "订单金额"]),
                currency=record.get("货币种类") or "CNY",
                status=_BILL_STATES.get(
                    record.get("退款状态" if refund else "交易状态", ""), "other"
                ),
                at=at.astimezone(UTC),
                raw=record,
            )
        )
    return lines
