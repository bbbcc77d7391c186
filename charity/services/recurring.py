"""Monthly gifts: a Stripe Subscription per gift; each paid invoice becomes a Donation.

1. ``create_recurring_gift`` stores a pending RecurringGift (the view commits).
2. The browser sets up a card (SetupIntent, off session); ``start_recurring_gift`` makes the
   Customer, a Product + Plan and the Subscription; Stripe charges the first month at once.
3. Every paid invoice goes through ``apply_paid_invoice`` (from the return of step 2 or a
   verified ``invoice.payment_succeeded``): one Donation per invoice id (unique), made to
   succeed by the one-off path's ``mark_donation_succeeded`` (receipt number, ledger, log).
4. ``invoice.payment_failed`` records the failure once per invoice and asks the donor to
   update the card; an invoice already paid is never marked failed (events in any order).
5. ``cancel_recurring_gift`` cancels the subscription at Stripe at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from charity import payments
from charity.auditlog.canonical import donor_commitment, new_salt
from charity.core.uow import after_commit
from charity.models import Donation, RecurringFailure, RecurringGift, User
from charity.ops import receipt_mail
from charity.payments import subscriptions
from charity.payments.declines import WALLET_MESSAGES
from charity.services import donations
from charity.web.i18n import N_


@dataclass(frozen=True)
class StartResult:
    succeeded: bool
    declined_message: str = ""
    #: The card was tried too often (the per-card limit): nothing was charged.
    card_limited: bool = False


def create_recurring_gift(
    session: Session, actor: User | None, command: donations.NewDonation
) -> RecurringGift:
    """A pending monthly gift, checked like a one-off gift."""
    if command.campaign_id is None:  # funds take one-off gifts only, for now
        raise donations.DonationError(N_("Monthly gifts are for campaigns."), "frequency")
    campaign = donations.open_campaign(session, command.campaign_id)
    if not 100 <= command.amount_fen <= command.max_amount_fen:
        raise donations.DonationError(
            N_("The amount is outside the allowed range."), "custom_amount"
        )
    message = donations.checked_message(command)
    donor_uscc, invoice_title = donations.company_fields(command)
    gift = RecurringGift(
        organization_id=campaign.organization_id,
        campaign=campaign,
        amount_fen=command.amount_fen,
        currency="CNY",
        status="pending",
        donor_user_id=actor.id if actor is not None else None,
        donor_name=command.donor_name,
        donor_email=command.donor_email.strip().lower(),
        is_anonymous=command.is_anonymous,
        consent_show_name=command.consent_show_name and not command.is_anonymous,
        message=message,
        receipt_waived=not command.receipt_wanted,
        donor_uscc=donor_uscc,
        invoice_title=invoice_title,
        stripe_account_id=campaign.organization.stripe_account_id,
    )
    session.add(gift)
    session.flush()  # its id and public token
    return gift


def lock_gift(session: Session, gift_id: int) -> RecurringGift:
    return session.scalars(
        sa.select(RecurringGift)
        .where(RecurringGift.id == gift_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _account(gift: RecurringGift) -> str:
    if not gift.stripe_account_id:
        raise donations.DonationError(N_("This donation has no receiving Stripe account."))
    return gift.stripe_account_id


def card_setup_secret(session: Session, gift_id: int) -> str:
    """The client secret of this card attempt's SetupIntent, created once per attempt and
    kept on the gift (the card page shown again asks Stripe nothing; issue 15 point 3)."""
    gift = lock_gift(session, gift_id)
    if gift.stripe_setup_secret:
        return gift.stripe_setup_secret
    seti, secret = subscriptions.create_setup_intent(
        account=_account(gift), recurring_gift_id=gift.id
    )
    gift.stripe_setup_intent_id, gift.stripe_setup_secret = seti, secret
    return secret


def start_recurring_gift(
    session: Session,
    gift_id: int,
    setup_intent_id: str,
    card_allowed: Callable[[str], bool] | None = None,
) -> StartResult:
    """Subscribe with the card the browser set up, and apply the first paid invoice.

    For a gift already running, the card becomes the one future renewals charge.
    ``card_allowed(fingerprint)`` is the view's per-card rate limit, asked before any charge.
    """
    gift = lock_gift(session, gift_id)
    account = _account(gift)
    card = payments.setup_intent_card(
        account=account,
        setup_intent_id=setup_intent_id,
        metadata_key="recurring_gift_id",
        metadata_value=str(gift.id),
    )
    if card is None:
        return StartResult(False, N_("The card could not be set up. Please try again."))
    method, fingerprint = card
    if setup_intent_id == gift.stripe_setup_intent_id:  # this attempt's SetupIntent is used
        gift.stripe_setup_intent_id = gift.stripe_setup_secret = None
    if card_allowed is not None and not card_allowed(fingerprint):
        return StartResult(False, card_limited=True)
    if gift.status == "canceled":
        return StartResult(False, N_("This monthly gift was cancelled."))
    if gift.status in ("active", "past_due"):
        subscriptions.set_default_card(
            account=account, customer=gift.stripe_customer_id or "", payment_method=method
        )
        return StartResult(True)
    customer = subscriptions.create_customer(
        account=account, payment_method=method, recurring_gift_id=gift.id
    )
    gift.stripe_customer_id = customer
    if not gift.stripe_plan_id:
        gift.stripe_plan_id = subscriptions.create_monthly_plan(
            account=account,
            amount_fen=gift.amount_fen,
            currency=gift.currency,
            recurring_gift_id=gift.id,
            name=f"Monthly gift {gift.id}",
        )
    sub = subscriptions.create_subscription(
        account=account, customer=customer, plan=gift.stripe_plan_id, recurring_gift_id=gift.id
    )
    invoice = (
        subscriptions.retrieve_invoice(account=account, invoice_id=sub.latest_invoice)
        if sub.latest_invoice
        else None
    )
    if sub.status != "active" or invoice is None or not invoice.paid:
        # The first month was declined: no subscription is left running; try another card.
        subscriptions.cancel_subscription(account=account, subscription=sub.id)
        return StartResult(False, N_("The payment did not go through."))
    gift.stripe_subscription_id = sub.id
    gift.status = "active"
    session.flush()
    apply_paid_invoice(session, gift.id, invoice)
    return StartResult(True)


def check_invoice(gift: RecurringGift, invoice: subscriptions.Invoice) -> None:
    problems = []
    if not gift.stripe_subscription_id or invoice.subscription != gift.stripe_subscription_id:
        problems.append(f"invoice subscription {invoice.subscription}")
    if invoice.currency != gift.currency.upper():
        problems.append(f"currency {invoice.currency} != {gift.currency}")
    if invoice.amount_due != gift.amount_fen:
        problems.append(f"amount {invoice.amount_due} != {gift.amount_fen}")
    if problems:
        raise donations.PaymentMismatchError(
            f"monthly gift {gift.id}, invoice {invoice.id}: " + "; ".join(problems)
        )


def _donation_for_invoice(session: Session, invoice_id: str) -> Donation | None:
    return session.scalar(sa.select(Donation).where(Donation.stripe_invoice_id == invoice_id))


def month_donation(
    gift: RecurringGift, invoice_id: str, *, payment_intent_id: str | None = None
) -> Donation:
    """The Donation of one month of ``gift``, pending and not yet added to the session:
    the one constructor of a monthly gift's month, for a paid Stripe invoice here and for
    the demo's months (charity.demo.monthly), so both carry the same fields."""
    salt = new_salt()
    return Donation(
        organization_id=gift.organization_id,
        campaign_id=gift.campaign_id,
        amount_fen=gift.amount_fen,
        currency=gift.currency,
        channel="recurring",
        status="pending",
        donor_user_id=gift.donor_user_id,
        donor_name=gift.donor_name,
        donor_email=gift.donor_email,
        is_anonymous=gift.is_anonymous,
        consent_show_name=gift.consent_show_name,
        message=gift.message,
        commitment_salt=salt,
        donor_commitment=donor_commitment(
            salt, donations.donor_data(gift.donor_name or "", gift.donor_email or "")
        ),
        stripe_account_id=gift.stripe_account_id,
        stripe_payment_intent_id=payment_intent_id,
        receipt_waived=gift.receipt_waived,
        donor_uscc=gift.donor_uscc,
        invoice_title=gift.invoice_title,
        recurring_gift_id=gift.id,
        stripe_invoice_id=invoice_id,
    )


def apply_paid_invoice(
    session: Session, gift_id: int, invoice: subscriptions.Invoice
) -> Donation | None:
    """One Donation per paid invoice (None when this invoice was already applied)."""
    gift = lock_gift(session, gift_id)  # serialises the invoices of one gift
    check_invoice(gift, invoice)
    if not invoice.paid or invoice.amount_paid != gift.amount_fen:
        raise donations.PaymentMismatchError(
            f"monthly gift {gift.id}: invoice {invoice.id} is {invoice.status}"
        )
    if _donation_for_invoice(session, invoice.id) is not None:
        return None
    if not invoice.payment_intent:
        raise donations.PaymentMismatchError(f"invoice {invoice.id} has no payment intent")
    account = _account(gift)
    intent = payments.retrieve_payment_intent(account=account, intent_id=invoice.payment_intent)
    donation = month_donation(gift, invoice.id, payment_intent_id=intent.id)
    session.add(donation)
    session.flush()  # the id for the row lock in mark_donation_succeeded
    donations.mark_donation_succeeded(session, donation, intent)
    if gift.status == "past_due":
        gift.status = "active"
        gift.failure_message = ""
    return donation


def record_failed_invoice(
    session: Session, gift_id: int, invoice: subscriptions.Invoice, message: str
) -> RecurringFailure | None:
    """Record a failed renewal once; nothing when the invoice is (already) paid."""
    gift = lock_gift(session, gift_id)
    check_invoice(gift, invoice)
    if invoice.paid or _donation_for_invoice(session, invoice.id) is not None:
        return None
    known = session.scalar(
        sa.select(RecurringFailure).where(RecurringFailure.stripe_invoice_id == invoice.id)
    )
    if known is not None:
        return None
    failure = RecurringFailure(
        recurring_gift=gift,
        stripe_invoice_id=invoice.id,
        amount_fen=invoice.amount_due,
        message=(message or WALLET_MESSAGES["failed"])[:300],
    )
    session.add(failure)
    if gift.status == "active":
        gift.status = "past_due"
    gift.failure_message = failure.message
    # The donor is told how to update the card once this is committed.
    after_commit(partial(receipt_mail.send_renewal_failed_mail, gift.id), session)
    return failure


def cancel_recurring_gift(session: Session, gift_id: int) -> bool:
    """Cancel at once: Stripe makes no further invoice. False if it was not running."""
    gift = lock_gift(session, gift_id)
    if gift.status == "canceled":
        return False
    if gift.stripe_subscription_id:
        subscriptions.cancel_subscription(
            account=_account(gift), subscription=gift.stripe_subscription_id
        )
    gift.status = "canceled"
    gift.canceled_at = datetime.now(UTC)
    return True


# --- webhook handlers (registered in charity.payments.webhooks) ---


def _gift_for_invoice(
    session: Session, obj: Mapping[str, Any], event: Mapping[str, Any]
) -> RecurringGift:
    invoice = subscriptions.invoice_from_object(obj)
    if not invoice.subscription:
        raise donations.PaymentMismatchError(f"invoice {invoice.id}: no subscription")
    gift = session.scalar(
        sa.select(RecurringGift).where(RecurringGift.stripe_subscription_id == invoice.subscription)
    )
    return gift if gift is not None else _adopt_subscription(session, invoice, event)


def _adopt_subscription(
    session: Session, invoice: subscriptions.Invoice, event: Mapping[str, Any]
) -> RecurringGift:
    """A subscription Stripe made for one of our gifts whose set-up request never got to
    store it (it failed after Stripe answered): found by the metadata WE set, read from
    Stripe server-side; the gift takes it, so the money taken is recorded."""
    raw = subscriptions.subscription_gift_id(
        account=event.get("account"), subscription=invoice.subscription or ""
    )
    gift = session.get(RecurringGift, int(raw)) if raw.isdigit() else None
    if gift is None:
        raise donations.PaymentMismatchError(
            f"invoice {invoice.id}: no monthly gift for subscription {invoice.subscription}"
        )
    gift = lock_gift(session, gift.id)
    if gift.stripe_subscription_id not in (None, invoice.subscription):
        raise donations.PaymentMismatchError(
            f"monthly gift {gift.id} already has subscription {gift.stripe_subscription_id}"
        )
    _check_account(gift, event)
    gift.stripe_subscription_id = invoice.subscription
    if gift.status == "pending":
        gift.status = "active"
    return gift


def _check_account(gift: RecurringGift, event: Mapping[str, Any]) -> None:
    account = event.get("account")
    if account is not None and account != gift.stripe_account_id:
        raise donations.PaymentMismatchError(f"monthly gift {gift.id}: account {account}")


def _invoice_paid_event(session: Session, event: Mapping[str, Any]) -> str:
    obj = event["data"]["object"]
    gift = _gift_for_invoice(session, obj, event)
    _check_account(gift, event)
    check_invoice(gift, subscriptions.invoice_from_object(obj))
    # Trust only what Stripe tells us now.
    invoice = subscriptions.retrieve_invoice(account=_account(gift), invoice_id=obj["id"])
    return "applied" if apply_paid_invoice(session, gift.id, invoice) else "unchanged"


def _invoice_failed_event(session: Session, event: Mapping[str, Any]) -> str:
    obj = event["data"]["object"]
    gift = _gift_for_invoice(session, obj, event)
    _check_account(gift, event)
    invoice = subscriptions.retrieve_invoice(account=_account(gift), invoice_id=obj["id"])
    message = ""
    if invoice.payment_intent:
        message = payments.retrieve_payment_intent(
            account=_account(gift), intent_id=invoice.payment_intent
        ).failure_message
    made = record_failed_invoice(session, gift.id, invoice, message)
    return "applied" if made else "unchanged"


def _subscription_deleted_event(session: Session, event: Mapping[str, Any]) -> str:
    obj = event["data"]["object"]
    gift = session.scalar(
        sa.select(RecurringGift).where(RecurringGift.stripe_subscription_id == obj.get("id"))
    )
    if gift is None:
        return "ignored"
    _check_account(gift, event)
    gift = lock_gift(session, gift.id)
    if gift.status == "canceled":
        return "unchanged"
    gift.status = "canceled"
    gift.canceled_at = datetime.now(UTC)
    return "applied"


WEBHOOK_HANDLERS = {
    "invoice.payment_succeeded": _invoice_paid_event,
    "invoice.paid": _invoice_paid_event,
    "invoice.payment_failed": _invoice_failed_event,
    "customer.subscription.deleted": _subscription_deleted_event,
}
