"""Alipay open platform (支付宝开放平台), through ``python-alipay-sdk``.

Each organization pays into its own Alipay app (app id, app private key, Alipay public
key; RSA2): 电脑网站支付 (``alipay.trade.page.pay``) on a desktop and 手机网站支付
(``alipay.trade.wap.pay``) on a phone send the donor's browser to Alipay's cashier; the
SDK signs the request, and verifies every synchronous answer and every asynchronous
notification (RSA2 over the sorted parameters) with the Alipay public key.

Why ``python-alipay-sdk`` rather than Alipay's own ``alipay-sdk-python``: it is one small,
readable module that does exactly the RSA2 signing and verifying these calls need, with a
generic ``server_api`` for any method (the bill download has no helper in either SDK),
and it is kept up to date; the official package is a generated tree of thousands of
model classes with its own HTTP and crypto layers, for the same few calls. (docs/gifts.md)

Gateway: the SDK fixes ``https://openapi.alipay.com/gateway.do`` in ``AliPay._gateway``;
``ALIPAY_GATEWAY`` (development and tests only: production refuses it) points it at
scripts/alipay_simulator.py. The SDK version is pinned; tests/payments/test_sdk_pins.py
fails if the attribute moves.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import threading
import urllib.error
import urllib.request
import zipfile
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

from alipay import AliPay
from alipay.exceptions import AliPayException, AliPayValidationError
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from flask import current_app

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

PRODUCTION_GATEWAY = "https://openapi.alipay.com/gateway.do"
STATES = {"TRADE_SUCCESS": "succeeded", "TRADE_FINISHED": "succeeded", "TRADE_CLOSED": "closed"}

_clients: dict[tuple[int, str, str], AliPay] = {}
_clients_lock = threading.Lock()


class _AliPay(AliPay):
    """The SDK's client, with its RSA2 check done by ``cryptography`` (OpenSSL).

    The SDK still builds the string Alipay signed (the sorted parameters without ``sign``
    and ``sign_type``, or a synchronous answer's JSON) and decides what to verify; only
    the PKCS#1 v1.5 / SHA-256 primitive under its ``_verify`` is swapped: the SDK's own
    (pycryptodome) took about 0.35 ms of CPU per notification against OpenSSL's 0.02 ms
    (docs/benchmarks.md). The Alipay public key is the one the SDK itself parsed,
    converted once when the client is built (clients are cached per account and
    credentials: ``client_for``)."""

    def _load_key(self) -> None:
        super()._load_key()
        key = serialization.load_der_public_key(self._alipay_public_key.export_key("DER"))
        if not isinstance(key, rsa.RSAPublicKey):
            raise ValueError("the Alipay public key is not an RSA key")
        self._verify_key = key

    def _verify(self, raw_content: str, signature: str) -> bool:
        if self._sign_type != "RSA2":  # never built so (client_for): the SDK's own check
            return bool(super()._verify(raw_content, signature))
        try:
            self._verify_key.verify(
                base64.decodebytes(signature.encode()),
                raw_content.encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except InvalidSignature:  # not base64: binascii.Error (a ValueError), as the SDK's
            return False
        return True


def gateway() -> str:
    return current_app.config.get("ALIPAY_GATEWAY") or PRODUCTION_GATEWAY


def client_for(merchant: Merchant) -> AliPay:
    key = (merchant.account_id, merchant.fingerprint, gateway())
    client = _clients.get(key)
    if client is None:
        try:
            client = _AliPay(
                appid=merchant.public_id,
                app_notify_url=None,
                app_private_key_string=merchant.secrets["app_private_key"],
                alipay_public_key_string=merchant.settings["alipay_public_key"],
                sign_type="RSA2",
            )
        except (ValueError, IndexError, TypeError) as error:
            raise PaymentError(f"Alipay keys do not load: {error}") from error
        client._gateway = gateway()
        with _clients_lock:
            _clients[key] = client
    return client


def forget_clients(account_id: int) -> None:
    with _clients_lock:
        for key in [k for k in _clients if k[0] == account_id]:
            del _clients[key]


def _call(function: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    try:
        answer = function(*args, **kwargs)
    except AliPayValidationError as error:
        raise PaymentError("Alipay's answer does not verify") from error
    except AliPayException as error:
        raise PaymentError(f"Alipay refused: {error}") from error
    except (urllib.error.URLError, OSError) as error:
        raise PaymentUnavailableError(f"Alipay unreachable: {error}") from error
    except ValueError as error:  # an answer that is not JSON
        raise PaymentError(f"Alipay answered {error}") from error
    if not isinstance(answer, dict):
        raise PaymentError("Alipay answered something that is not an object")
    if str(answer.get("code")) in ("20000", "20001"):
        raise PaymentUnavailableError(f"Alipay: {answer.get('sub_msg') or answer.get('msg')}")
    return answer


def _failed(answer: Mapping[str, Any]) -> PaymentError:
    return PaymentError(
        str(answer.get("sub_msg") or answer.get("msg") or "Alipay refused"),
        str(answer.get("sub_code") or answer.get("code") or ""),
    )


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def _fen(value: Any) -> int:
    whole, _, cents = str(value).strip().lstrip("-").partition(".")
    if not whole.isdigit() or not (cents + "00")[:2].isdigit():
        raise ValueError(f"not an amount: {value!r}")
    return int(whole) * 100 + int((cents + "00")[:2])


def _time(value: Any) -> datetime | None:
    try:
        text = str(value)[:19]
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=CST).astimezone(UTC)
    except ValueError:
        return None


def _intent(answer: Mapping[str, Any], app_id: str, donation_id: str = "") -> Intent:
    state = str(answer.get("trade_status", ""))
    paid_at = _time(answer.get("gmt_payment") or answer.get("send_pay_date"))
    status = STATES.get(state, "pending")
    if state == "TRADE_CLOSED" and paid_at is not None:
        status = "succeeded"  # paid, then refunded in full: the payment did happen
    return Intent(
        id=str(answer["out_trade_no"]),
        status=status,
        amount=_fen(answer["total_amount"]),
        currency="CNY",
        metadata={"donation_id": donation_id},
        client_secret="",
        latest_charge=answer.get("trade_no") or None,
        failure_message="",
        provider="alipay",
        account=app_id,
        paid_at=paid_at,
    )


class AlipayProvider:
    name = "alipay"

    def create_payment(self, merchant: Merchant, payment: NewPayment) -> Checkout:
        client = client_for(merchant)
        pay = (
            client.api_alipay_trade_page_pay
            if payment.method == "page"
            else client.api_alipay_trade_wap_pay
        )
        options: dict[str, Any] = {
            "subject": payment.description[:128],
            "out_trade_no": payment.order_no,
            "total_amount": _yuan(payment.amount_fen),
            "return_url": payment.return_url,
            "notify_url": payment.notify_url,
            "time_expire": payment.expires_at.astimezone(CST).strftime("%Y-%m-%d %H:%M:%S"),
            "passback_params": quote(str(payment.donation_id)),
        }
        if payment.method == "wap":
            options["quit_url"] = payment.return_url
        query = pay(**options)
        return Checkout("redirect", f"{client._gateway}?{query}")

    def query_payment(self, merchant: Merchant, order_no: str) -> Intent:
        answer = _call(client_for(merchant).api_alipay_trade_query, out_trade_no=order_no)
        if answer.get("sub_code") == "ACQ.TRADE_NOT_EXIST":
            # Page and WAP trades exist only once the donor opened the cashier.
            return Intent(order_no, "missing", 0, "CNY", {}, "", None, "", "alipay")
        if str(answer.get("code")) != "10000":
            raise _failed(answer)
        try:
            return _intent(answer, merchant.public_id)
        except (KeyError, ValueError) as error:
            raise PaymentError(f"Alipay query answer lacks {error}") from error

    def close_payment(self, merchant: Merchant, order_no: str) -> Intent | None:
        answer = _call(client_for(merchant).api_alipay_trade_close, out_trade_no=order_no)
        if str(answer.get("code")) == "10000" or answer.get("sub_code") == "ACQ.TRADE_NOT_EXIST":
            return None
        if answer.get("sub_code") == "ACQ.TRADE_STATUS_ERROR":
            intent = self.query_payment(merchant, order_no)
            return intent if intent.succeeded else None
        raise _failed(answer)

    def refund(self, merchant: Merchant, request: RefundRequest) -> RefundResult:
        answer = _call(
            client_for(merchant).api_alipay_trade_refund,
            refund_amount=_yuan(request.amount_fen),
            out_trade_no=request.order_no,
            out_request_no=request.refund_no,
            refund_reason=request.reason[:256],
        )
        if str(answer.get("code")) != "10000":
            raise _failed(answer)
        return RefundResult(request.refund_no, "succeeded")

    def query_refund(
        self, merchant: Merchant, order_no: str, refund_id: str
    ) -> StatementLine | None:
        answer = _call(
            client_for(merchant).server_api,
            "alipay.trade.fastpay.refund.query",
            {"out_trade_no": order_no, "out_request_no": refund_id},
        )
        if str(answer.get("code")) != "10000":
            raise _failed(answer)
        if not answer.get("refund_amount") or answer.get("refund_status", "REFUND_SUCCESS") != (
            "REFUND_SUCCESS"
        ):
            return None
        return StatementLine(
            kind="refund",
            order_no=order_no,
            refund_id=refund_id,
            amount_fen=_fen(answer["refund_amount"]),
            currency="CNY",
            status="succeeded",
            at=_time(answer.get("gmt_refund_pay")),
            raw=answer,
        )

    def parse_notification(
        self, merchant: Merchant, headers: Mapping[str, str], body: bytes
    ) -> Notice:
        """Verify the RSA2 signature over the sorted parameters with the SDK, then parse."""
        try:
            params = dict(
                parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
            )
        except (UnicodeDecodeError, ValueError) as error:
            raise NotificationError(f"Alipay notification is not a form: {error}") from error
        signature = params.pop("sign", "")
        try:
            verified = bool(signature) and client_for(merchant).verify(params, signature)
        except (AliPayException, ValueError, TypeError) as error:
            raise NotificationError(f"Alipay notification: {error}") from error
        if not verified:
            raise NotificationError("Alipay notification: signature does not verify")
        if params.get("app_id") != merchant.public_id:
            raise NotificationError("Alipay notification for another app")
        try:
            return _notice(merchant, params)
        except (KeyError, ValueError) as error:
            raise NotificationError(f"Alipay notification lacks {error}") from error

    def acknowledge(self) -> tuple[str, int, dict[str, str]]:
        return "success", 200, {"Content-Type": "text/plain; charset=utf-8"}

    def refuse(self, reason: str, status: int) -> tuple[str, int, dict[str, str]]:
        return "fail", status, {"Content-Type": "text/plain; charset=utf-8"}

    def download_statement(self, merchant: Merchant, day: date) -> Statement:
        """The day's 业务明细 (bill_type trade): payments and refunds."""
        answer = _call(
            client_for(merchant).server_api,
            "alipay.data.dataservice.bill.downloadurl.query",
            {"bill_type": "trade", "bill_date": day.isoformat()},
        )
        if answer.get("sub_code") == "isp.bill_not_exist":
            return Statement("alipay", merchant.public_id, day, (), hashlib.sha256(b"").hexdigest())
        if str(answer.get("code")) != "10000":
            raise _failed(answer)
        content = _download(str(answer["bill_download_url"]))
        lines = tuple(_bill_lines(_detail_csv(content)))
        return Statement(
            "alipay", merchant.public_id, day, lines, hashlib.sha256(content).hexdigest()
        )


def _notice(merchant: Merchant, params: Mapping[str, str]) -> Notice:
    event_id = f"alipay:{params['notify_id']}"
    if params.get("out_biz_no"):  # a refund (its amount: asked of Alipay when not ours)
        refund = RefundNotice(
            order_no=params["out_trade_no"],
            refund_id=params["out_biz_no"],
            amount_fen=0,
            currency="CNY",
            status="succeeded",
        )
        return Notice("alipay", event_id, "refund.succeeded", params["app_id"], refund=refund)
    state = params.get("trade_status", "")
    if state in ("TRADE_SUCCESS", "TRADE_FINISHED"):
        intent = _intent(params, params["app_id"], unquote(params.get("passback_params", "")))
        return Notice("alipay", event_id, "payment.succeeded", params["app_id"], intent)
    if state == "TRADE_CLOSED":
        intent = _intent(params, params["app_id"])
        return Notice("alipay", event_id, "payment.closed", params["app_id"], intent)
    return Notice("alipay", event_id, "ignored", params["app_id"])


def _download(url: str) -> bytes:
    if not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise PaymentError("Alipay bill address is not https")
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:  # noqa: S310 - checked above
            return answer.read()
    except (urllib.error.URLError, OSError) as error:
        raise PaymentUnavailableError(f"Alipay bill download: {error}") from error


def _detail_csv(content: bytes) -> str:
    """The 业务明细 file of the bill zip (not its 汇总), decoded from GBK."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            for name in archive.namelist():
                if name.endswith("业务明细.csv"):
                    return archive.read(name).decode("gbk")
    except zipfile.BadZipFile as error:
        raise PaymentError(f"Alipay bill is not a zip: {error}") from error
    raise PaymentError("Alipay bill has no 业务明细 file")


def _bill_lines(text: str) -> list[StatementLine]:
    rows = [line for line in text.splitlines() if line and not line.startswith("#")]
    reader = csv.reader(rows)
    header = [name.strip() for name in next(reader, [])]
    lines = []
    for row in reader:
        record = dict(zip(header, (value.strip() for value in row), strict=False))
        refund = record.get("业务类型") == "退款"
        lines.append(
            StatementLine(
                kind="refund" if refund else "payment",
                order_no=record["商户订单号"],
                refund_id=record.get("退款批次号/请求号", "") if refund else "",
                amount_fen=_fen(record["商家实收（元）" if refund else "订单金额（元）"]),
                currency="CNY",
                status="succeeded",
                at=_time(record.get("完成时间")),
                raw=record,
            )
        )
    return lines
