"""Gifts paid with WeChat Pay or Alipay: orders, their expiry, and the providers' word.

1. ``start_wallet_payment`` (donation row locked) opens an order at the chosen provider
   on the organization's own merchant account, for the amount of our record, after
   closing the donation's previous open order (a donor may switch between wallets or start
   again: always the same donation). If closing finds the previous order paid, that
   payment is confirmed instead.
2. The donor pays at the provider. The donation succeeds only in
   ``donations.confirm_payment``, from a verified notification (``apply_notice``) or a
   server-side query (``refresh_wallet_payment``: the return page and its polling, and
   ``close_expired_orders``).
3. An order unpaid after PAYMENT_ORDER_MINUTES is closed at the provider (the donor can
   start again).

Services stay provider-agnostic: everything provider-specific is in charity.payments.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from charity import payments
from charity.models import Donation, MerchantAccount, PaymentOrder, Refund, utcnow
from charity.payments.declines import WALLET_MESSAGES
from charity.services import donations, merchant_accounts, parking
from charity.services.donations import (
    DonationError,
    PaymentMismatchError,
    lock_donation,
    refuse_if_suspended,
)
from charity.services.merchant_accounts import AccountRecord
from charity.services.provider_events import event_row, set_outcome, store_event
from charity.web.i18n import N_

#: Which methods each wallet offers, and the channel a gift paid that way is recorded as.
METHODS = {"wechatpay": ("native", "h5", "jsapi"), "alipay": ("page", "wap")}
CHANNELS = {"wechatpay": "online_wechatpay", "alipay": "online_alipay"}


@dataclass(frozen=True)
class StartPayment:
    donation_id: int
    provider: str
    method: str
    #: The site's address (https://...) for the notification and return URLs.
    site_url: str
    return_url: str
    client_ip: str
    minutes: int
    openid: str = ""


@dataclass(frozen=True)
class Started:
    """The order to show (None when the donation turned out to be paid already)."""

    order: PaymentOrder | None
    checkout: payments.Checkout | None


def _open_order(session: Session, donation_id: int) -> PaymentOrder | None:
    return session.scalar(
        sa.select(PaymentOrder).where(
            PaymentOrder.donation_id == donation_id, PaymentOrder.status == "open"
        )
    )


def current_order(session: Session, donation: Donation) -> PaymentOrder | None:
    if not donation.provider_order_no or not donation.payment_provider:
        return None
    return session.scalar(
        sa.select(PaymentOrder).where(
            PaymentOrder.provider == donation.payment_provider,
            PaymentOrder.order_no == donation.provider_order_no,
        )
    )


def start_wallet_payment(session: Session, command: StartPayment, now: datetime) -> Started:
    if command.method not in METHODS.get(command.provider, ()):
        raise DonationError(N_("This way of paying is not offered."))
    donation = lock_donation(session, command.donation_id)
    if donation.status != "pending":
        return Started(None, None)
    refuse_if_suspended(session, donation)
    account = merchant_accounts.account_for(session, donation.organization_id, command.provider)
    if account is None:
        raise DonationError(N_("This organization does not take this way of paying."))
    previous = _open_order(session, donation.id)
    if previous is not None:
        reusable = (
            previous.provider == command.provider
            and previous.method == command.method
            and previous.expires_at > now + timedelta(minutes=1)
        )
        if reusable:
            return Started(previous, _checkout_of(previous))
        if _close_order(session, donation, previous, now):
            return Started(None, None)  # it had been paid: confirmed now
    return _new_order(session, donation, account, command, now)


def _checkout_of(order: PaymentOrder) -> payments.Checkout:
    return payments.Checkout("qr" if order.method == "native" else "redirect", order.pay_url)


def _new_order(
    session: Session,
    donation: Donation,
    account: MerchantAccount,
    command: StartPayment,
    now: datetime,
) -> Started:
    attempt = 1 + (
        session.scalar(sa.select(sa.func.count()).where(PaymentOrder.donation_id == donation.id))
        or 0
    )
    order = PaymentOrder(
        donation_id=donation.id,
        merchant_account_id=account.id,
        provider=command.provider,
        method=command.method,
        # Unique at the provider for ever, even if a restored backup reuses donation ids.
        order_no=f"G{donation.id}T{attempt}R{secrets.token_hex(4)}",
        amount_fen=donation.amount_fen,
        currency=donation.currency,
        expires_at=now + timedelta(minutes=command.minutes),
    )
    merchant = merchant_accounts.merchant(account)
    checkout = payments.provider(command.provider).create_payment(
        merchant,
        payments.NewPayment(
            order_no=order.order_no,
            amount_fen=donation.amount_fen,
            currency=donation.currency,
            description=_description(donation),
            method=command.method,
            notify_url=merchant_accounts.notify_url(command.site_url, merchant),
            return_url=command.return_url,
            expires_at=order.expires_at,
            donation_id=donation.id,
            client_ip=command.client_ip,
            openid=command.openid,
        ),
    )
    order.pay_url = checkout.value
    session.add(order)
    donation.payment_provider = command.provider
    donation.merchant_account_id = account.id
    donation.provider_account = account.public_id
    donation.provider_order_no = order.order_no
    donation.channel = CHANNELS[command.provider]
    donation.failure_message = ""
    session.flush()
    return Started(order, checkout)


def _description(donation: Donation) -> str:
    target = donation.campaign.title if donation.campaign else donation.organization.name
    return f"捐赠 · {target}"[:100]


def _close_order(session: Session, donation: Donation, order: PaymentOrder, now: datetime) -> bool:
    """Close an open order at its provider; True when it turned out to be paid (then
    the payment is confirmed instead)."""
    merchant = merchant_accounts.merchant(order.merchant_account)
    paid = payments.provider(order.provider).close_payment(merchant, order.order_no)
    if paid is not None and paid.succeeded:
        order.status = "paid"
        session.flush()
        donations.mark_donation_succeeded(session, donation, paid)
        return True
    order.status, order.closed_at = "closed", now
    return False


def refresh_wallet_payment(session: Session, donation: Donation, now: datetime) -> str:
    """Ask the provider (server-side) about the current order: the return page and its
    polling. Returns the donation's status afterwards (pending, succeeded, ...)."""
    if donation.status != "pending" or donation.payment_provider not in METHODS:
        return donation.status
    order = current_order(session, donation)
    if order is None or order.status != "open":
        return donation.status
    merchant = merchant_accounts.merchant(order.merchant_account)
    intent = payments.provider(order.provider).query_payment(merchant, order.order_no)
    if intent.succeeded:
        donations.mark_donation_succeeded(session, donation, intent)
        order.status = "paid"
    elif intent.status == "failed":
        order.status, order.closed_at = "failed", now
        order.failure_message = intent.failure_message or WALLET_MESSAGES["failed"]
        donation.failure_message = order.failure_message
    elif intent.status == "closed" or order.expires_at <= now:
        closed_donation = lock_donation(session, donation.id)
        if not _close_order(session, closed_donation, order, now):
            order.status = "closed"
    session.flush()
    session.refresh(donation)
    return donation.status


def leave_wallet(session: Session, donation_id: int, now: datetime) -> None:
    """The donor chose a card after a wallet: close the open wallet order first (if it
    was paid after all, the payment is confirmed instead)."""
    donation = lock_donation(session, donation_id)
    order = _open_order(session, donation.id)
    if donation.status != "pending" or (
        order is not None and _close_order(session, donation, order, now)
    ):
        return
    donation.payment_provider = "stripe"
    donation.provider_order_no = None
    donation.channel = "online_card"
    session.flush()


def close_expired_orders(session: Session, now: datetime, limit: int = 200) -> int:
    """Close unpaid orders past their time at their provider (a payment found on the
    way is confirmed). Returns how many were handled; each is its own small step for the
    caller to commit."""
    expired = session.scalars(
        sa.select(PaymentOrder.id)
        .where(PaymentOrder.status == "open", PaymentOrder.expires_at <= now)
        .order_by(PaymentOrder.expires_at)
        .limit(limit)
    ).all()
    for order_id in expired:
        order = session.get(PaymentOrder, order_id)
        if order is None:
            continue
        donation = lock_donation(session, order.donation_id)
        session.refresh(order)
        if order.status == "open":
            _close_order(session, donation, order, now)
    return len(expired)


# --- notifications ---------------------------------------------------------------------


def _donation_for_order(session: Session, provider: str, order_no: str) -> int | None:
    return session.scalar(
        sa.select(PaymentOrder.donation_id).where(
            PaymentOrder.provider == provider, PaymentOrder.order_no == order_no
        )
    )


def apply_notice(session: Session, notice: payments.Notice, account: AccountRecord) -> str:
    """Apply one verified notification at most once; the caller commits. Returns the
    outcome: applied, unchanged, parked, ignored or duplicate."""
    event = {"id": notice.event_id, "type": notice.type, "account": notice.account}
    donation_id = _named_donation(notice)
    if donation_id is not None and notice.account == account.public_id:
        # the usual delivery: its event row is stored by the donation's row-lock statement
        stored_outcome = _payment_succeeded(session, notice, account, donation_id, event)
        if stored_outcome is None:
            return "duplicate"
        outcome = stored_outcome
    elif not store_event(session, event):
        return "duplicate"
    elif notice.account != account.public_id:
        outcome = _park_unresolved(session, notice, account, None, "for another merchant account")
    elif notice.type == "payment.succeeded" and notice.payment is not None:
        outcome = _payment_succeeded(session, notice, account) or "unchanged"  # never None
    elif notice.type == "payment.closed" and notice.payment is not None:
        outcome = _payment_closed(session, notice.payment)
    elif notice.type.startswith("refund.") and notice.refund is not None:
        outcome = _refund(session, notice, account)
    else:
        outcome = "ignored"
    if outcome != "applied":
        set_outcome(session, notice.event_id, outcome)
    return outcome


def _park_unresolved(
    session: Session,
    notice: payments.Notice,
    account: AccountRecord,
    donation_id: int | None,
    reason: str,
) -> str:
    amount = (
        notice.payment.amount
        if notice.payment
        else notice.refund.amount_fen
        if notice.refund
        else 0
    )
    parking.park(
        session,
        provider=notice.provider,
        key=notice.event_id,
        kind=notice.type.split(".")[0],
        status="unresolved",
        reason=reason,
        organization_id=account.organization_id,
        donation_id=donation_id,
        provider_refund_id=notice.refund.refund_id if notice.refund else None,
        amount_fen=amount,
    )
    return "parked"


def _named_donation(notice: payments.Notice) -> int | None:
    """The donation a payment's success names in its metadata (attach, passback_params)."""
    if notice.type != "payment.succeeded" or notice.payment is None:
        return None
    named = notice.payment.metadata.get("donation_id", "")
    return int(named) if named.isdigit() and len(named) < 19 else None


def _payment_succeeded(
    session: Session,
    notice: payments.Notice,
    account: AccountRecord,
    donation_id: int | None = None,
    event: dict[str, Any] | None = None,
) -> str | None:
    """Confirm the payment; with ``event`` (the delivery, not stored yet) its row is
    stored by ``confirm_payment``'s row-lock statement: None for a duplicate."""
    intent = notice.payment
    assert intent is not None
    if donation_id is None:
        donation_id = _donation_for_order(session, notice.provider, intent.id)
    if donation_id is None:
        return _park_unresolved(session, notice, account, None, f"no donation for {intent.id}")
    try:
        applied = donations.confirm_payment(
            session, donation_id, intent, event=None if event is None else event_row(event)
        )
    except PaymentMismatchError as error:
        return _park_unresolved(session, notice, account, donation_id, str(error))
    if applied is None:
        return None
    return "applied" if applied else "unchanged"


def _payment_closed(session: Session, intent: payments.Intent) -> str:
    order = session.scalar(
        sa.select(PaymentOrder).where(
            PaymentOrder.provider == intent.provider, PaymentOrder.order_no == intent.id
        )
    )
    if order is None or order.status != "open":
        return "unchanged"
    order.status, order.closed_at = "closed", utcnow()
    return "applied"


def _refund(session: Session, notice: payments.Notice, account: AccountRecord) -> str:
    refund = notice.refund
    assert refund is not None
    donation_id = _donation_for_order(session, notice.provider, refund.order_no)
    if donation_id is None:
        return _park_unresolved(
            session, notice, account, None, f"refund of unknown {refund.order_no}"
        )
    if refund.status != "succeeded":
        return _park_unresolved(
            session, notice, account, donation_id, "the provider says the refund failed"
        )
    amount = refund.amount_fen or _refund_amount(session, notice, account, refund)
    return donations.record_provider_refund(
        session, donation_id, notice.provider, refund.refund_id, amount
    )


def _refund_amount(
    session: Session,
    notice: payments.Notice,
    account: AccountRecord,
    refund: payments.RefundNotice,
) -> int:
    """A notification that names a refund but not its amount (Alipay's give the total
    refunded so far): our own refunds are known by number; others are asked of the provider."""
    ours = session.scalar(
        sa.select(Refund.amount_fen).where(
            Refund.payment_provider == notice.provider,
            Refund.provider_refund_id == refund.refund_id,
        )
    )
    if ours is not None:
        return ours
    line = payments.provider(notice.provider).query_refund(
        merchant_accounts.merchant(account), refund.order_no, refund.refund_id
    )
    if line is None:
        raise payments.PaymentUnavailableError("the provider does not know this refund yet")
    return line.amount_fen
