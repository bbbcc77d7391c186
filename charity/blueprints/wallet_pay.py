"""Paying a gift with WeChat Pay or Alipay: the donor's pages.

- ``POST /donations/<token>/wallet`` (provider, method): open an order on the same
  donation (closing the previous one) and go on: Native shows the QR page; H5, page pay
  and WAP go to the provider's cashier (303), which sends the donor back to the return
  page ``/donations/<token>``.
- ``GET /donations/<token>/wallet``: the WeChat Pay Native QR code, drawn server-side as
  SVG (segno); static/js/wallet.js follows the payment without reloading (polling the
  status below) and, without JavaScript, a link to the return page asks again.
- ``GET /donations/<token>/status.json``: asks the provider server-side (never the
  browser's word), confirms a payment it reports, answers the donation's status.

Which method: a phone browser gets H5 / WAP, a desktop Native / page pay. Inside WeChat's
own browser (no H5 there) the QR page tells the donor to long-press the code; real
in-WeChat JSAPI needs the organization's official account and the donor's openid, the seam
documented in docs/gifts.md (``wallet_payments.StartPayment.openid`` and method ``jsapi``).
"""

from __future__ import annotations

import re

import segno
import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from charity import payments
from charity.core import uow
from charity.core.db import writes
from charity.extensions import db
from charity.models import Donation, utcnow
from charity.services import donations, merchant_accounts, wallet_payments
from charity.web import links, ratelimits
from charity.web.forms import BaseForm

bp = Blueprint("wallet_pay", __name__)

PHONE = re.compile(r"Mobi|Android|iPhone|iPad|HarmonyOS", re.IGNORECASE)
IN_WECHAT = re.compile(r"MicroMessenger", re.IGNORECASE)


class StartForm(BaseForm):
    """Only the CSRF token; provider and method come from the button pressed."""


def is_phone() -> bool:
    return bool(PHONE.search(request.headers.get("User-Agent", "")))


def method_for(provider: str) -> str:
    """The way to pay with ``provider`` on the donor's device."""
    phone = is_phone() and not IN_WECHAT.search(request.headers.get("User-Agent", ""))
    if provider == "wechatpay":
        return "h5" if phone else "native"
    return "wap" if is_phone() else "page"


def site_url() -> str:
    return links.site_root()


def _donation(token: str) -> Donation:
    donation = db.session.scalar(sa.select(Donation).where(Donation.public_token == token))
    if donation is None:
        abort(404)
    return donation


def start(donation: Donation, provider: str):  # type: ignore[no-untyped-def]
    """Open an order at ``provider`` for ``donation`` (committed) and send the donor on."""
    command = wallet_payments.StartPayment(
        donation_id=donation.id,
        provider=provider,
        method=method_for(provider),
        site_url=site_url(),
        return_url=site_url().rstrip("/") + url_for("donations.show", token=donation.public_token),
        client_ip=request.remote_addr or "127.0.0.1",
        minutes=current_app.config["PAYMENT_ORDER_MINUTES"],
    )
    try:
        started = wallet_payments.start_wallet_payment(db.session, command, utcnow())
    except donations.DonationError as error:
        uow.discard()
        flash(error.text(), "error")
        return redirect(url_for("donations.show", token=donation.public_token), 303)
    except payments.PaymentError:
        uow.discard()
        current_app.logger.exception("could not start a %s payment for %s", provider, donation.id)
        flash(_("The payment service is not available right now. Please try again."), "error")
        return redirect(url_for("donations.show", token=donation.public_token), 303)
    if started.checkout is None:
        return redirect(url_for("donations.show", token=donation.public_token), 303)
    if started.checkout.kind == "qr":
        return redirect(url_for("wallet_pay.show", token=donation.public_token), 303)
    return redirect(started.checkout.value, 303)


@bp.post("/donations/<token>/wallet")
@ratelimits.payment_attempt
def begin(token: str):  # type: ignore[no-untyped-def]
    donation = _donation(token)
    if not StartForm().validate_on_submit():
        abort(400)
    provider = request.form.get("provider", "")
    if provider not in wallet_payments.METHODS:
        abort(400)
    if donation.status != "pending":
        return redirect(url_for("donations.show", token=token), 303)
    return start(donation, provider)


@bp.get("/donations/<token>/wallet")
def show(token: str):  # type: ignore[no-untyped-def]
    donation = _donation(token)
    if donation.status != "pending":
        return redirect(url_for("donations.show", token=token))
    order = wallet_payments.current_order(db.session, donation)
    if order is None or order.status != "open" or order.method != "native":
        return redirect(url_for("donations.show", token=token))
    qr = segno.make(order.pay_url, error="m")
    svg = qr.svg_inline(scale=6, border=2, title=_("WeChat Pay QR code"), svgclass="wallet-qr-code")
    simulator = current_app.config.get("WECHATPAY_API_BASE") or ""
    return render_template(
        "wallet/qr.html",
        donation=donation,
        order=order,
        qr_svg=svg,
        in_wechat=bool(IN_WECHAT.search(request.headers.get("User-Agent", ""))),
        simulator_scan_url=(f"{simulator}/_sim/scan?code_url={order.pay_url}" if simulator else ""),
    )


@bp.get("/donations/<token>/status.json")
@writes
def status(token: str):  # type: ignore[no-untyped-def]
    donation = _donation(token)
    try:  # at most RATELIMIT_PAYMENT_LOOKUP provider queries per donation (the page polls)
        lookup = donation.status == "pending" and ratelimits.provider_lookup_allowed(token)
        state = refresh(donation) if lookup else donation.status
    except (payments.PaymentError, sa.exc.OperationalError):
        uow.discard()  # asked again at the next poll
        state = donation.status
    done = url_for("donations.show", token=token)
    return jsonify(status=state, redirect=done, failure=donation.failure_message or "")


def refresh(donation: Donation) -> str:
    """Ask the provider about the donation's current wallet order (server-side)."""
    try:
        state = wallet_payments.refresh_wallet_payment(db.session, donation, utcnow())
    except donations.PaymentMismatchError as error:
        uow.discard()
        current_app.logger.error("donation %s: %s", donation.id, error)
        return donation.status
    return state


def choices(donation: Donation) -> list[str]:
    """The wallets the donation's organization takes (for "start again")."""
    offered = merchant_accounts.providers_of(db.session, donation.organization)
    return [name for name in offered if name in wallet_payments.METHODS]
