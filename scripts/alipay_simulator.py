"""A local Alipay open platform (支付宝开放平台) gateway for development and tests.

    python scripts/alipay_simulator.py --port 0 [--quiet]

It speaks the real wire protocol, so the real SDK (``python-alipay-sdk``) signs and
verifies for real against it, with keys generated for this run:

* ``/gateway.do`` (GET or POST) takes the common parameters and ``biz_content``, checks the
  RSA2 signature (SHA256withRSA over the sorted ``k=v`` pairs, every parameter but
  ``sign``) with the app's public key, and answers
  ``{"<method>_response": {...}, "sign": "..."}`` signed with Alipay's key over the exact
  text of the response object (business failures too, as code 40004);
* ``alipay.trade.page.pay`` (电脑网站支付) and ``alipay.trade.wap.pay`` (手机网站支付) are
  the browser arriving at the cashier: a 确认付款 button stands in for paying, after which
  the donor is sent to ``return_url`` with the signed synchronous return parameters;
* ``alipay.trade.query``, ``alipay.trade.close``, ``alipay.trade.refund`` (by
  ``out_request_no``, at most what remains), ``alipay.trade.fastpay.refund.query``,
  ``alipay.data.dataservice.bill.downloadurl.query`` (bill_type ``trade``: a zip of two
  GBK CSV files, the 业务明细 and its 汇总, like the real one);
* asynchronous notifications (``notify_type=trade_status_sync``) are form POSTs to the
  trade's ``notify_url``, signed over every parameter but ``sign`` and ``sign_type``;
  the merchant answers the plain text ``success``, anything else is redelivered. A
  payment sends ``TRADE_SUCCESS``; a refund sends the trade's status with ``out_biz_no``
  (the refund request), ``refund_fee`` (refunded so far) and ``gmt_refund``; a trade
  closed unpaid sends ``TRADE_CLOSED``.

Control API (besides the notification controls of scripts/simulator_base.py):

    POST /_sim/apps        {} -> a new app: app_id, app_private_key (PEM), the app's
                           alipay_public_key (PEM) and the seller id (PID, 2088...)
    GET  /_sim/trades/<app_id>/<out_trade_no>          the trade as the simulator has it
    POST /_sim/trades/<app_id>/<out_trade_no>/pay      pay a trade whose cashier was opened
    POST /_sim/refunds     {"app_id", "out_trade_no", "out_request_no", "amount" (fen)}:
                           a refund made in the merchant's own Alipay account

Deviations, on purpose: the bill of the current day is served (the real one serves
yesterday's and earlier); notifications are retried for seconds, not a day.
"""

from __future__ import annotations

import argparse
import base64
import csv
import io
import json
import secrets
import sys
import threading
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from flask import Flask, Response, jsonify, redirect, request
from markupsafe import escape
from simulator_base import Outbox, control_routes, json_body, page, serve

CST = timezone(timedelta(hours=8))
BROWSER_METHODS = {
    "alipay.trade.page.pay": "FAST_INSTANT_TRADE_PAY",
    "alipay.trade.wap.pay": "QUICK_WAP_PAY",
}


def _now() -> datetime:
    return datetime.now(CST)


def _stamp(moment: datetime | None) -> str:
    return (moment or _now()).strftime("%Y-%m-%d %H:%M:%S")


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def _fen(value: Any) -> int | None:
    """'88.00' -> 8800; None unless a positive amount with at most two decimals."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    if amount <= 0 or amount != amount.quantize(Decimal("0.01")) or amount > 100_000_000:
        return None
    return int(amount * 100)


def _content(params: dict[str, str], skip: tuple[str, ...]) -> str:
    return "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k not in skip)


def _rsa2(key: rsa.RSAPrivateKey, message: str) -> str:
    return base64.b64encode(
        key.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())
    ).decode()


def _pem(key: rsa.RSAPrivateKey) -> tuple[str, str]:
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


@dataclass
class App:
    app_id: str
    seller_id: str
    public_key: rsa.RSAPublicKey


@dataclass
class Trade:
    app_id: str
    out_trade_no: str
    subject: str
    total: int
    product_code: str
    notify_url: str
    return_url: str
    expires: datetime | None
    passback: str
    status: str = "WAIT_BUYER_PAY"
    trade_no: str = ""
    buyer_id: str = ""
    created: datetime = field(default_factory=_now)
    paid_at: datetime | None = None
    closed_at: datetime | None = None
    refunds: dict[str, tuple[int, datetime]] = field(default_factory=dict)

    @property
    def refunded(self) -> int:
        return sum(amount for amount, _at in self.refunds.values())


class Simulator:
    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.apps: dict[str, App] = {}
        self.trades: dict[tuple[str, str], Trade] = {}
        self.bills: dict[str, bytes] = {}
        self.lock = threading.RLock()
        self.outbox = Outbox(lambda status, text: status == 200 and text.strip() == "success")
        self._serial = 0

    def next_no(self) -> str:
        with self.lock:
            self._serial += 1
            return f"{_now():%Y%m%d}22001{self._serial:011d}"

    def new_app(self) -> dict[str, str]:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private, _public = _pem(key)
        with self.lock:
            number = len(self.apps) + 1
            app = App(f"2021{number:012d}", f"2088{number:012d}", key.public_key())
            self.apps[app.app_id] = app
        return {
            "app_id": app.app_id,
            "seller_id": app.seller_id,
            "app_private_key": private,
            "alipay_public_key": _pem(self.key)[1],
        }

    def verify_request(self, params: dict[str, str]) -> App | str:
        app = self.apps.get(params.get("app_id", ""))
        if app is None:
            return "isv.invalid-app-id"
        if params.get("sign_type") != "RSA2":
            return "isv.invalid-signature-type"
        try:
            app.public_key.verify(
                base64.b64decode(params.get("sign", "")),
                _content(params, ("sign",)).encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except (InvalidSignature, ValueError):
            return "isv.invalid-signature"
        return app

    def respond(self, method: str, body: dict[str, Any]) -> Response:
        name = "error_response" if method == "" else method.replace(".", "_") + "_response"
        inner = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        text = f'{{"{name}":{inner},"sign":"{_rsa2(self.key, inner)}"}}'
        return Response(text, mimetype="text/html", content_type="text/html;charset=utf-8")

    def signed(self, params: dict[str, str]) -> dict[str, str]:
        params = {k: v for k, v in params.items() if v != ""}
        params["sign"] = _rsa2(self.key, _content(params, ("sign", "sign_type")))
        return params

    def refresh(self, trade: Trade) -> None:
        """An unpaid trade past its time closes (and says so, as Alipay does)."""
        if trade.status == "WAIT_BUYER_PAY" and trade.expires and _now() > trade.expires:
            self.close(trade)

    def close(self, trade: Trade) -> None:
        trade.status, trade.closed_at = "TRADE_CLOSED", _now()
        self.notify(trade)

    def notify(self, trade: Trade, refund_no: str = "") -> None:
        if not trade.notify_url:
            return
        app = self.apps[trade.app_id]
        params = {
            "notify_time": _stamp(_now()),
            "notify_type": "trade_status_sync",
            "notify_id": secrets.token_hex(16),
            "charset": "utf-8",
            "version": "1.0",
            "sign_type": "RSA2",
            "app_id": trade.app_id,
            "auth_app_id": trade.app_id,
            "seller_id": app.seller_id,
            "out_trade_no": trade.out_trade_no,
            "trade_no": trade.trade_no,
            "trade_status": trade.status,
            "total_amount": _yuan(trade.total),
            "subject": trade.subject,
            "gmt_create": _stamp(trade.created),
            "passback_params": trade.passback,
        }
        if trade.paid_at:
            params.update(
                buyer_id=trade.buyer_id,
                gmt_payment=_stamp(trade.paid_at),
                receipt_amount=_yuan(trade.total),
                buyer_pay_amount=_yuan(trade.total),
                invoice_amount=_yuan(trade.total),
                point_amount="0.00",
                fund_bill_list=json.dumps(
                    [{"amount": _yuan(trade.total), "fundChannel": "ALIPAYACCOUNT"}],
                    separators=(",", ":"),
                ),
            )
        if refund_no:
            params.update(
                out_biz_no=refund_no,
                refund_fee=_yuan(trade.refunded),
                gmt_refund=_stamp(trade.refunds[refund_no][1]) + ".000",
            )
        if trade.closed_at:
            params["gmt_close"] = _stamp(trade.closed_at)
        body = urlencode(self.signed(params)).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
        kind = "refund" if refund_no else trade.status
        self.outbox.add(kind, trade.out_trade_no, trade.notify_url, headers, body)

    def pay(self, trade: Trade) -> str:
        with self.lock:
            self.refresh(trade)
            if trade.status != "WAIT_BUYER_PAY":
                return {"TRADE_CLOSED": "交易已关闭"}.get(trade.status, "交易已支付")
            trade.status, trade.paid_at = "TRADE_SUCCESS", _now()
            trade.trade_no = self.next_no()
            trade.buyer_id = "2088" + "".join(secrets.choice("0123456789") for _ in range(12))
        self.notify(trade)
        return ""

    def refund(self, trade: Trade, request_no: str, amount: int) -> str:
        """'' when refunded (or already, for this request number), else the sub_code."""
        with self.lock:
            if request_no in trade.refunds:
                return (
                    ""
                    if trade.refunds[request_no][0] == amount
                    else "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL"
                )
            if trade.status not in ("TRADE_SUCCESS", "TRADE_CLOSED") or not trade.paid_at:
                return "ACQ.TRADE_STATUS_ERROR"
            if not 0 < amount <= trade.total - trade.refunded:
                return "ACQ.REFUND_FEE_ERROR"
            trade.refunds[request_no] = (amount, _now())
            if trade.refunded == trade.total:
                trade.status, trade.closed_at = "TRADE_CLOSED", _now()
        self.notify(trade, request_no)
        return ""

    def bill(self, app: App, day: str) -> bytes | None:
        with self.lock:
            trades = [t for t in self.trades.values() if t.app_id == app.app_id]
        rows = []
        for trade in trades:
            if trade.paid_at and trade.paid_at.date().isoformat() == day:
                rows.append(_bill_row(trade, "交易", trade.paid_at, trade.total, ""))
            for request_no, (amount, at) in trade.refunds.items():
                if at.date().isoformat() == day:
                    rows.append(_bill_row(trade, "退款", at, -amount, request_no))
        if not rows:
            return None
        stamp = day.replace("-", "")
        detail, summary = io.StringIO(), io.StringIO()
        detail.write(f"#支付宝业务明细查询\r\n#账号：[{app.seller_id}0156]\r\n")
        detail.write(f"#起始日期：[{day} 00:00:00]   终止日期：[{day} 23:59:59]\r\n")
        detail.write(
            "#-----------------------------------------业务明细列表----------------------------------------\r\n"
        )
        writer = csv.writer(detail, lineterminator="\r\n")
        writer.writerow(BILL_HEADER)
        for row in sorted(rows, key=lambda r: r["完成时间"]):
            writer.writerow([f"{row.get(name, '')}\t" for name in BILL_HEADER])
        detail.write(
            "#-----------------------------------------业务明细列表结束------------------------------------\r\n"
        )
        paid = sum(1 for row in rows if row["业务类型"] == "交易")
        received = sum(int(row["_fen"]) for row in rows if int(row["_fen"]) > 0)
        detail.write(f"#交易合计：{paid}笔，商家实收共{_yuan(received)}元\r\n")
        detail.write(f"#退款合计：{len(rows) - paid}笔\r\n#导出时间：[{_stamp(_now())}]\r\n")
        summary.write(f"#支付宝业务汇总查询\r\n#账号：[{app.seller_id}0156]\r\n")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr(
                f"{app.seller_id}0156_{stamp}_业务明细.csv", detail.getvalue().encode("gbk")
            )
            archive.writestr(
                f"{app.seller_id}0156_{stamp}_业务明细(汇总).csv", summary.getvalue().encode("gbk")
            )
        return buffer.getvalue()


BILL_HEADER = [
    "支付宝交易号",
    "商户订单号",
    "业务类型",
    "商品名称",
    "创建时间",
    "完成时间",
    "门店编号",
    "门店名称",
    "操作员",
    "终端号",
    "对方账户",
    "订单金额（元）",
    "商家实收（元）",
    "支付宝红包（元）",
    "集分宝（元）",
    "支付宝优惠（元）",
    "商家优惠（元）",
    "券核销金额（元）",
    "券名称",
    "商家红包消费金额（元）",
    "卡消费金额（元）",
    "退款批次号/请求号",
    "服务费（元）",
    "分润（元）",
    "备注",
]


def _bill_row(trade: Trade, kind: str, at: datetime, fen: int, request_no: str) -> dict[str, str]:
    sign = "-" if fen < 0 else ""
    return {
        "_fen": str(fen),
        "支付宝交易号": trade.trade_no,
        "商户订单号": trade.out_trade_no,
        "业务类型": kind,
        "商品名称": trade.subject,
        "创建时间": _stamp(trade.created),
        "完成时间": _stamp(at),
        "对方账户": "donor***@example.com",
        "订单金额（元）": _yuan(trade.total),
        "商家实收（元）": sign + _yuan(abs(fen)),
        "支付宝红包（元）": "0.00",
        "集分宝（元）": "0.00",
        "支付宝优惠（元）": "0.00",
        "商家优惠（元）": "0.00",
        "券核销金额（元）": "0.00",
        "商家红包消费金额（元）": "0.00",
        "卡消费金额（元）": "0.00",
        "退款批次号/请求号": request_no,
        "服务费（元）": "0.00",
        "分润（元）": "0.00",
    }


def _trade_view(trade: Trade) -> dict[str, Any]:
    view: dict[str, Any] = {
        "out_trade_no": trade.out_trade_no,
        "trade_status": trade.status,
        "total_amount": _yuan(trade.total),
    }
    if trade.trade_no:
        view.update(
            trade_no=trade.trade_no,
            buyer_logon_id="don***@example.com",
            buyer_user_id=trade.buyer_id,
            buyer_pay_amount=_yuan(trade.total),
            receipt_amount=_yuan(trade.total),
            send_pay_date=_stamp(trade.paid_at),
        )
    return view


def _expiry(biz: dict[str, Any]) -> datetime | None:
    if biz.get("time_expire"):
        try:
            return datetime.strptime(biz["time_expire"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=CST)
        except ValueError:
            return None
    express = str(biz.get("timeout_express", ""))
    if express[:-1].isdigit() and express[-1:] in ("m", "h", "d"):
        unit = {"m": "minutes", "h": "hours", "d": "days"}[express[-1]]
        return _now() + timedelta(**{unit: int(express[:-1])})
    return None


def create_app() -> Flask:
    app = Flask(__name__)
    sim = Simulator()
    app.extensions["alipay_simulator"] = sim
    control_routes(app, sim.outbox)

    def business_error(method: str, sub_code: str, sub_msg: str, **extra: Any) -> Response:
        body = {
            "code": "40004",
            "msg": "Business Failed",
            "sub_code": sub_code,
            "sub_msg": sub_msg,
            **extra,
        }
        return sim.respond(method, body)

    @app.route("/gateway.do", methods=["GET", "POST"])
    def gateway():  # type: ignore[no-untyped-def]
        params = {**request.args.to_dict(), **request.form.to_dict()}
        method = params.get("method", "")
        checked = sim.verify_request(params)
        if isinstance(checked, str):
            if method in BROWSER_METHODS:
                return page(
                    "支付宝（模拟器）", f"<p role='alert'>错误代码：{escape(checked)}</p>"
                ), 400
            body = {
                "code": "40002",
                "msg": "Invalid Arguments",
                "sub_code": checked,
                "sub_msg": "验签出错",
            }
            return sim.respond("", body)
        try:
            biz = json.loads(params.get("biz_content") or "{}")
        except ValueError:
            biz = None
        if not isinstance(biz, dict):
            return business_error(method, "ACQ.INVALID_PARAMETER", "biz_content 不是 JSON 对象")
        handler = HANDLERS.get(method)
        if handler is None:
            body = {
                "code": "40004",
                "msg": "Business Failed",
                "sub_code": "isv.invalid-method",
                "sub_msg": "不存在的方法名",
            }
            return sim.respond(method, body)
        return handler(sim, checked, params, biz)

    def browser_pay(sim: Simulator, app_: App, params: dict[str, str], biz: dict[str, Any]) -> Any:
        total = _fen(biz.get("total_amount"))
        out_trade_no = str(biz.get("out_trade_no", ""))
        if total is None or not out_trade_no or not biz.get("subject"):
            return page(
                "支付宝（模拟器）", "<p role='alert'>错误代码：ACQ.INVALID_PARAMETER</p>"
            ), 400
        with sim.lock:
            trade = sim.trades.get((app_.app_id, out_trade_no))
            if trade is None:
                trade = Trade(
                    app_id=app_.app_id,
                    out_trade_no=out_trade_no,
                    subject=str(biz["subject"]),
                    total=total,
                    product_code=BROWSER_METHODS[params["method"]],
                    notify_url=params.get("notify_url", ""),
                    return_url=params.get("return_url", ""),
                    expires=_expiry(biz),
                    passback=str(biz.get("passback_params", "")),
                )
                sim.trades[(app_.app_id, out_trade_no)] = trade
            elif trade.total != total:
                return page(
                    "支付宝（模拟器）", "<p role='alert'>错误代码：ACQ.CONTEXT_INCONSISTENT</p>"
                ), 400
            sim.refresh(trade)
        return _cashier(trade, params["method"])

    def trade_query(
        sim: Simulator, app_: App, params: dict[str, str], biz: dict[str, Any]
    ) -> Response:
        trade = _find(sim, app_, biz)
        if trade is None:
            return business_error(params["method"], "ACQ.TRADE_NOT_EXIST", "交易不存在")
        with sim.lock:
            sim.refresh(trade)
        return sim.respond(
            params["method"], {"code": "10000", "msg": "Success", **_trade_view(trade)}
        )

    def trade_close(
        sim: Simulator, app_: App, params: dict[str, str], biz: dict[str, Any]
    ) -> Response:
        trade = _find(sim, app_, biz)
        if trade is None:
            return business_error(params["method"], "ACQ.TRADE_NOT_EXIST", "交易不存在")
        with sim.lock:
            sim.refresh(trade)
            if trade.status == "WAIT_BUYER_PAY":
                sim.close(trade)
            elif trade.status != "TRADE_CLOSED" or trade.paid_at:
                return business_error(params["method"], "ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
        body = {
            "code": "10000",
            "msg": "Success",
            "out_trade_no": trade.out_trade_no,
            "trade_no": trade.trade_no,
        }
        return sim.respond(params["method"], body)

    def trade_refund(
        sim: Simulator, app_: App, params: dict[str, str], biz: dict[str, Any]
    ) -> Response:
        trade = _find(sim, app_, biz)
        amount = _fen(biz.get("refund_amount"))
        method = params["method"]
        if trade is None:
            return business_error(method, "ACQ.TRADE_NOT_EXIST", "交易不存在")
        if amount is None:
            return business_error(method, "ACQ.INVALID_PARAMETER", "refund_amount 无效")
        request_no = str(biz.get("out_request_no") or trade.out_trade_no)
        fresh = request_no not in trade.refunds
        problem = sim.refund(trade, request_no, amount)
        if problem:
            return business_error(method, problem, "退款失败")
        body = {
            "code": "10000",
            "msg": "Success",
            "trade_no": trade.trade_no,
            "out_trade_no": trade.out_trade_no,
            "buyer_logon_id": "don***@example.com",
            "fund_change": "Y" if fresh else "N",
            "refund_fee": _yuan(trade.refunded),
            "gmt_refund_pay": _stamp(trade.refunds[request_no][1]),
            "buyer_user_id": trade.buyer_id,
        }
        return sim.respond(method, body)

    def refund_query(
        sim: Simulator, app_: App, params: dict[str, str], biz: dict[str, Any]
    ) -> Response:
        trade = _find(sim, app_, biz)
        request_no = str(biz.get("out_request_no", ""))
        body: dict[str, Any] = {"code": "10000", "msg": "Success"}
        if trade is not None and request_no in trade.refunds:
            amount, at = trade.refunds[request_no]
            body.update(
                trade_no=trade.trade_no,
                out_trade_no=trade.out_trade_no,
                out_request_no=request_no,
                total_amount=_yuan(trade.total),
                refund_amount=_yuan(amount),
                refund_status="REFUND_SUCCESS",
                gmt_refund_pay=_stamp(at),
            )
        return sim.respond(params["method"], body)

    def bill_url(
        sim: Simulator, app_: App, params: dict[str, str], biz: dict[str, Any]
    ) -> Response:
        method = params["method"]
        day = str(biz.get("bill_date", ""))
        try:
            if datetime.strptime(day, "%Y-%m-%d").date() > _now().date():
                return business_error(method, "isp.bill_not_exist", "账单不存在")
        except ValueError:
            return business_error(method, "isv.invalid-bill-date", "账单时间格式不正确")
        if biz.get("bill_type") != "trade":
            return business_error(method, "isv.invalid-bill-type", "账单类型不正确")
        content = sim.bill(app_, day)
        if content is None:
            return business_error(method, "isp.bill_not_exist", "账单不存在")
        token = secrets.token_urlsafe(16)
        with sim.lock:
            sim.bills[token] = content
        url = f"{app.config['BASE_URL']}/_sim/bills/{token}.csv.zip"
        return sim.respond(method, {"code": "10000", "msg": "Success", "bill_download_url": url})

    HANDLERS = {  # noqa: N806 - a table of handlers
        "alipay.trade.page.pay": browser_pay,
        "alipay.trade.wap.pay": browser_pay,
        "alipay.trade.query": trade_query,
        "alipay.trade.close": trade_close,
        "alipay.trade.refund": trade_refund,
        "alipay.trade.fastpay.refund.query": refund_query,
        "alipay.data.dataservice.bill.downloadurl.query": bill_url,
    }

    @app.get("/_sim/bills/<token>.csv.zip")
    def bill_file(token: str):  # type: ignore[no-untyped-def]
        content = sim.bills.get(token)
        if content is None:
            return Response("not found", status=404)
        return Response(content, mimetype="application/zip")

    @app.post("/_sim/cashier/<app_id>/<out_trade_no>")
    def cashier_pay(app_id: str, out_trade_no: str):  # type: ignore[no-untyped-def]
        trade = sim.trades.get((app_id, out_trade_no))
        if trade is None:
            return page("支付宝（模拟器）", "<p role='alert'>交易不存在</p>"), 404
        if request.form.get("result") == "cancel":
            return _back(sim, trade, paid=False)
        problem = sim.pay(trade)
        if problem:
            return page("支付宝（模拟器）", f"<p role='alert'>{escape(problem)}</p>"), 409
        return _back(sim, trade, paid=True)

    @app.post("/_sim/apps")
    def new_app():  # type: ignore[no-untyped-def]
        return jsonify(sim.new_app())

    @app.get("/_sim/trades/<app_id>/<out_trade_no>")
    def sim_trade(app_id: str, out_trade_no: str):  # type: ignore[no-untyped-def]
        trade = sim.trades.get((app_id, out_trade_no))
        if trade is None:
            return jsonify(error="no such trade"), 404
        return jsonify(trade=_trade_view(trade), refunded=_yuan(trade.refunded))

    @app.post("/_sim/trades/<app_id>/<out_trade_no>/pay")
    def sim_pay(app_id: str, out_trade_no: str):  # type: ignore[no-untyped-def]
        trade = sim.trades.get((app_id, out_trade_no))
        if trade is None:
            return jsonify(error="no such trade (open its cashier page first)"), 404
        problem = sim.pay(trade)
        if problem:
            return jsonify(error=problem), 409
        return jsonify(trade=_trade_view(trade))

    @app.post("/_sim/refunds")
    def sim_refund():  # type: ignore[no-untyped-def]
        data = json_body()
        trade = sim.trades.get((str(data.get("app_id")), str(data.get("out_trade_no"))))
        if trade is None:
            return jsonify(error="no such trade"), 404
        request_no = str(data.get("out_request_no") or sim.next_no())
        problem = sim.refund(trade, request_no, int(data.get("amount", trade.total)))
        if problem:
            return jsonify(error=problem), 409
        return jsonify(out_request_no=request_no, trade=_trade_view(trade))

    return app


def _find(sim: Simulator, app_: App, biz: dict[str, Any]) -> Trade | None:
    with sim.lock:
        if biz.get("out_trade_no"):
            return sim.trades.get((app_.app_id, str(biz["out_trade_no"])))
        for trade in sim.trades.values():
            if (
                trade.app_id == app_.app_id
                and biz.get("trade_no")
                and trade.trade_no == biz["trade_no"]
            ):
                return trade
    return None


def _cashier(trade: Trade, method: str) -> Response:
    if trade.status != "WAIT_BUYER_PAY":
        text = {"TRADE_CLOSED": "交易已关闭"}.get(trade.status, "交易已支付")
        return page("支付宝（模拟器）", f"<p role='alert'>{text}</p>")
    kind = "电脑网站支付" if method == "alipay.trade.page.pay" else "手机网站支付"
    action = f"/_sim/cashier/{escape(trade.app_id)}/{escape(trade.out_trade_no)}"
    return page(
        "支付宝（模拟器）",
        f"""<p>{escape(trade.subject)}</p><p class="amount">¥{_yuan(trade.total)}</p>
<p class="note">{kind} · 订单 {escape(trade.out_trade_no)}</p>
<form method="post" action="{action}">
<button type="submit" name="result" value="pay">确认付款</button>
<button type="submit" name="result" value="cancel">放弃付款，返回商家</button></form>
<p class="note">这一页代替支付宝收银台：按钮代替登录和确认付款。</p>""",
    )


def _back(sim: Simulator, trade: Trade, paid: bool) -> Any:
    """Back to the merchant's return_url: with the signed return parameters once paid."""
    if not trade.return_url:
        return page(
            "支付宝（模拟器）", "<p role='status'>付款成功</p>" if paid else "<p>已取消</p>"
        )
    if not paid:
        return redirect(trade.return_url, 303)
    app_ = sim.apps[trade.app_id]
    method = (
        "alipay.trade.page.pay.return"
        if trade.product_code == "FAST_INSTANT_TRADE_PAY"
        else "alipay.trade.wap.pay.return"
    )
    params = sim.signed(
        {
            "charset": "utf-8",
            "out_trade_no": trade.out_trade_no,
            "method": method,
            "total_amount": _yuan(trade.total),
            "trade_no": trade.trade_no,
            "auth_app_id": trade.app_id,
            "version": "1.0",
            "app_id": trade.app_id,
            "sign_type": "RSA2",
            "seller_id": app_.seller_id,
            "timestamp": _stamp(_now()),
        }
    )
    separator = "&" if "?" in trade.return_url else "?"
    return redirect(trade.return_url + separator + urlencode(params), 303)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8440)
    parser.add_argument("--quiet", action="store_true", help="no access log")
    args = parser.parse_args()
    serve(create_app(), "alipay", args.port, args.quiet)
    return 0


if __name__ == "__main__":
    sys.exit(main())
