"""Online donations: create, pay, succeed (once), fail, refund.

The order that keeps money and records in step:
1. ``create_donation`` stores a pending Donation (the view commits), then
2. ``ensure_payment_intent`` creates the PaymentIntent on the organization's account for
   the amount of OUR record, under the donation's row lock, and stores its id.
3. The browser confirms a card with Stripe.js (a SetupIntent); ``pay_donation`` attaches
   that card and confirms the PaymentIntent server-side.
4. The donation succeeds only in ``confirm_payment`` (``mark_donation_succeeded`` wraps it
   for callers holding a Donation), called with a PaymentIntent the server itself read from
   Stripe (retrieve, confirm) or received in a verified webhook. It locks the row, so the
   webhook and the donor's return page racing apply it once.

Public log payloads are built from immutable fields only; the donor appears there only
as the stored commitment.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy.orm import Session

from charity import payments
from charity.auditlog.canonical import donor_commitment, new_salt
from charity.auditlog.store import (
    BATCHED,
    ENQUEUE_NAMED,
    enqueue_named,
    queue_params,
    sequencer_mode,
)
from charity.core.clock import today_cst
from charity.core.errors import DomainError
from charity.core.events import record_event
from charity.core.uow import after_commit
from charity.models import Campaign, Donation, Organization, ParkedEvent, Refund, User, utcnow
from charity.models.statuses import check_transition
from charity.ops import metrics, receipt_mail, refund_mail
from charity.payments.declines import WALLET_MESSAGES
from charity.services import (
    allocation,
    donor_updates,
    gift_messages,
    givingdays,
    ledger,
    merchant_accounts,
    official_receipts,
    parking,
    provider_events,
    receipts,
    suspensions,
)
from charity.services.campaigns import gift_refusal
from charity.services.donation_rows import donor_data, lock_donation
from charity.services.funds import FundError, open_fund_for_gifts
from charity.services.merchant_accounts import can_receive_online
from charity.services.pools import lock_pool, pool_of_donation, refund_refusal
from charity.web.i18n import N_

MESSAGE_MAX_LENGTH = gift_messages.MESSAGE_MAX_LENGTH


class DonationError(DomainError, ValueError):
    """A gift we refuse; ``field`` names the form field it belongs to (or None)."""


class PaymentMismatchError(ValueError):
    """A PaymentIntent that does not match our record (amount, currency, account, id)."""


@dataclass(frozen=True)
class NewDonation:
    #: The target: a campaign, or (funds) ``fund_id`` below with campaign_id None.
    campaign_id: int | None
    amount_fen: int
    donor_name: str
    donor_email: str
    is_anonymous: bool
    consent_show_name: bool
    message: str
    receipt_wanted: bool
    max_amount_fen: int
    fund_id: int | None = None
    team_id: int | None = None  # the team link the gift came through
    #: A company donor's USCC and 发票抬头, for the finance bureau's receipt (point 5).
    company_uscc: str = ""
    invoice_title: str = ""
    #: The donor asked for news of the campaign (point 10), in this language.
    wants_updates: bool = False
    language: str = "zh_Hans_CN"


@dataclass(frozen=True)
class PayResult:
    succeeded: bool
    declined_message: str = ""
    #: The card was tried too often (the per-card limit): nothing was asked of Stripe.
    card_limited: bool = False


def open_campaign(session: Session, campaign_id: int) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise LookupError(campaign_id)
    today = today_cst()
    if campaign.status != "published" or not campaign.start_date <= today <= campaign.end_date:
        raise DonationError(N_("This campaign is not accepting gifts now."))
    refusal = gift_refusal(campaign, today)
    if refusal is not None:
        raise DonationError(str(refusal))
    if not campaign.organization.is_verified or not can_receive_online(
        session, campaign.organization
    ):
        raise DonationError(N_("This organization cannot receive online gifts yet."))
    return campaign


def checked_message(command: NewDonation) -> str:
    """The donor's message (留言) as stored: length-capped, no contact spam."""
    try:
        return gift_messages.clean_message(command.message)
    except gift_messages.MessageError as error:
        raise DonationError(error.message, "message") from None


def company_fields(command: NewDonation) -> tuple[str | None, str | None]:
    """A company donor's (USCC, invoice title) for one-off and monthly gifts alike."""
    return _company(command)


def _company(command: NewDonation) -> tuple[str | None, str | None]:
    """A company donor's (USCC, invoice title), both or neither; the USCC's check digit
    checked here too, whoever calls."""
    title = command.invoice_title.strip()
    if not command.company_uscc.strip() and not title:
        return None, None
    try:
        code = official_receipts.check_donor_uscc(command.company_uscc)
    except official_receipts.OfficialReceiptError as error:
        raise DonationError(error.message, "company_uscc") from None
    if not title:
        raise DonationError(N_("Enter the name the bill is made out to."), "invoice_title")
    return code, title[:200]


def create_donation(session: Session, actor: User | None, command: NewDonation) -> Donation:
    # a gift to a community fund goes the same way, to the fund's host.
    target = _open_target(session, command)
    campaign = target if isinstance(target, Campaign) else None
    if not 100 <= command.amount_fen <= command.max_amount_fen:
        raise DonationError(N_("The amount is outside the allowed range."), "custom_amount")
    message = checked_message(command)
    company_uscc, invoice_title = _company(command)
    salt = new_salt()
    donation = Donation(
        organization_id=target.organization_id,
        campaign=campaign,
        fund_id=None if campaign is not None else target.id,
        amount_fen=command.amount_fen,
        currency="CNY",
        channel="online_card",
        status="pending",
        donor_user_id=actor.id if actor is not None else None,
        donor_name=command.donor_name,
        donor_email=command.donor_email.strip().lower(),
        is_anonymous=command.is_anonymous,
        consent_show_name=command.consent_show_name and not command.is_anonymous,
        message=message,
        commitment_salt=salt,
        donor_commitment=donor_commitment(
            salt, donor_data(command.donor_name, command.donor_email)
        ),
        stripe_account_id=target.organization.stripe_account_id,
        receipt_waived=not command.receipt_wanted,
        donor_uscc=company_uscc,
        invoice_title=invoice_title,
        team_id=givingdays.team_for_gift(
            session, command.team_id, campaign.id if campaign is not None else None
        ),
    )
    session.add(donation)
    if command.wants_updates and campaign is not None:
        donor_updates.opt_in(session, donation.donor_email, command.language)
    return donation


def _open_target(session: Session, command: NewDonation) -> Any:
    """funds: the open campaign or fund the gift is for."""
    if command.fund_id is None:
        return open_campaign(session, command.campaign_id or 0)
    try:
        return open_fund_for_gifts(session, command.fund_id)
    except FundError as exc:
        raise DonationError(exc.message) from None


def refuse_if_suspended(session: Session, donation: Donation) -> None:
    """Issue 16 point 15: no payment is started, at any provider, for a gift to a
    suspended campaign (a payment already under way that succeeds is still recorded)."""
    if donation.campaign_id is not None:
        refusal = suspensions.refusal(session, donation.campaign_id)
        if refusal is not None:
            raise DonationError(str(refusal))


def ensure_payment_intent(session: Session, donation_id: int) -> payments.Intent:
    """The donation's PaymentIntent, created once (the row lock stops a second one)."""
    donation = lock_donation(session, donation_id)
    account = _account(donation)
    if donation.stripe_payment_intent_id:
        return payments.retrieve_payment_intent(
            account=account, intent_id=donation.stripe_payment_intent_id
        )
    refuse_if_suspended(session, donation)
    intent = payments.create_payment_intent(
        account=account,
        amount_fen=donation.amount_fen,
        currency=donation.currency,
        donation_id=donation.id,
        description=f"Donation {donation.id}",
    )
    donation.stripe_payment_intent_id = intent.id
    return intent


def _account(donation: Donation) -> str:
    if not donation.stripe_account_id:
        raise DonationError(N_("This donation has no receiving Stripe account."))
    return donation.stripe_account_id


def _usable_intent(session: Session, donation: Donation) -> payments.Intent:
    """A PaymentIntent that can take a card: after a failed attempt, a fresh one.

    Real Stripe lets a declined PaymentIntent be confirmed again with a new card;
    localstripe cannot, so we replace it (the same Donation, never a second one) and
    cancel the old one. Webhooks for the old id are recognised as stale.
    """
    account = _account(donation)
    intent = payments.retrieve_payment_intent(
        account=account, intent_id=donation.stripe_payment_intent_id or ""
    )
    reusable = intent.status in ("requires_payment_method", "requires_confirmation")
    if reusable and not intent.latest_charge:
        return intent
    if intent.status in ("succeeded", "processing", "requires_capture"):
        return intent
    payments.cancel_payment_intent(account=account, intent_id=intent.id)
    fresh = payments.create_payment_intent(
        account=account,
        amount_fen=donation.amount_fen,
        currency=donation.currency,
        donation_id=donation.id,
        description=f"Donation {donation.id}",
    )
    donation.stripe_payment_intent_id = fresh.id
    session.flush()
    return fresh


def card_step_secret(session: Session, donation_id: int) -> str:
    """The client secret the card page gives Stripe.js for this payment attempt.

    One SetupIntent per attempt, kept on the donation: the card page shown again (a reload,
    a bot fetching it in a loop) gets the same secret and asks Stripe nothing, so the page
    cannot be used to mint SetupIntents (issue 15 point 3). A new one is made only after our
    confirm endpoint used the current one (``pay_donation``), which is rate limited.
    """
    donation = lock_donation(session, donation_id)
    if donation.stripe_payment_intent_id and donation.stripe_setup_secret:
        return donation.stripe_setup_secret
    account = _account(donation)
    refuse_if_suspended(session, donation)
    if not donation.stripe_payment_intent_id:
        ensure_payment_intent(session, donation.id)
    seti, secret = payments.create_setup_intent(account=account, donation_id=donation.id)
    donation.stripe_setup_intent_id, donation.stripe_setup_secret = seti, secret
    return secret


def pay_donation(
    session: Session,
    donation_id: int,
    setup_intent_id: str,
    card_allowed: Callable[[str], bool] | None = None,
) -> PayResult:
    """Confirm the donation's PaymentIntent with the card the browser set up.

    ``card_allowed(fingerprint)`` (the view's per-card rate limit) is asked before the card
    is charged; a card tried too often is refused without a charge attempt.
    """
    donation = lock_donation(session, donation_id)
    if donation.status != "pending":
        return PayResult(succeeded=donation.status != "failed")
    account = _account(donation)
    card = payments.setup_intent_card(
        account=account,
        setup_intent_id=setup_intent_id,
        metadata_key="donation_id",
        metadata_value=str(donation.id),
    )
    if card is None:
        return PayResult(False, N_("The card could not be set up. Please try again."))
    method, fingerprint = card
    if setup_intent_id == donation.stripe_setup_intent_id:  # this attempt's SetupIntent is used
        donation.stripe_setup_intent_id = donation.stripe_setup_secret = None
    if card_allowed is not None and not card_allowed(fingerprint):
        return PayResult(False, card_limited=True)
    intent = _usable_intent(session, donation)
    if not intent.succeeded:
        refuse_if_suspended(session, donation)
        try:
            intent = payments.confirm_payment_intent(
                account=account, intent_id=intent.id, payment_method=method
            )
        except payments.CardDeclinedError as exc:
            donation.failure_message = exc.message[:300]
            return PayResult(False, exc.message)
    if intent.succeeded:
        mark_donation_succeeded(session, donation, intent)
        return PayResult(True)
    return PayResult(False)


def refresh_donation(session: Session, donation: Donation) -> Donation:
    """The donor's return page: ask Stripe (server-side) whether the payment went through."""
    if donation.status != "pending" or not donation.stripe_payment_intent_id:
        return donation
    intent = payments.retrieve_payment_intent(
        account=_account(donation), intent_id=donation.stripe_payment_intent_id
    )
    if intent.succeeded:
        mark_donation_succeeded(session, donation, intent)
    return donation


def check_intent(donation: Donation, intent: payments.Intent, account: str | None = None) -> None:
    """Refuse a payment that is not exactly the one for this donation: its provider, its
    current order (PaymentIntent or out_trade_no), amount, currency, donation and account."""
    problems = []
    provider = donation.payment_provider or "stripe"
    if intent.provider != provider:
        problems.append(f"provider {intent.provider} is not {provider}")
    if provider == "stripe":
        expected, account_of_record = donation.stripe_payment_intent_id, donation.stripe_account_id
    else:
        expected, account_of_record = donation.provider_order_no, donation.provider_account
        account = intent.account
    if intent.id != expected:
        problems.append(f"payment {intent.id} is not {expected}")
    if intent.amount != donation.amount_fen:
        problems.append(f"amount {intent.amount} != {donation.amount_fen}")
    if intent.currency.upper() != donation.currency.upper():
        problems.append(f"currency {intent.currency} != {donation.currency}")
    # a monthly gift's PaymentIntent is Stripe's, made for an invoice; the invoice
    # (its id is unique per donation) was checked against the subscription instead.
    bound_by_invoice = donation.channel == "recurring" and donation.stripe_invoice_id
    named = intent.metadata.get("donation_id")
    if not bound_by_invoice and named != str(donation.id) and (provider == "stripe" or named):
        problems.append(f"metadata donation_id {named!r}")
    if account is not None and account != account_of_record:
        problems.append(f"account {account} != {account_of_record}")
    if problems:
        raise PaymentMismatchError(f"donation {donation.id}: " + "; ".join(problems))


def mark_donation_succeeded(
    session: Session,
    donation: Donation,
    intent: payments.Intent,
    account: str | None = None,
) -> bool:
    """Apply a succeeded PaymentIntent once: status, receipt number, ledger, public log.

    Returns False when it was already applied. Raises PaymentMismatchError when the intent is
    not this donation's; every check comes before the first write, so nothing changes.
    The work is ``confirm_payment``'s; the ORM object is refreshed from its row after.
    """
    session.flush()  # the caller's own changes first (the row is written with Core)
    applied = bool(confirm_payment(session, donation.id, intent, account))
    session.expire(donation)
    return applied


_donations = Donation.__table__
_organizations = Organization.__table__
#: The donation and its organization's USCC, row-locked (FOR UPDATE OF donations), and
#: whether some giving-day pool could match it today (``:today``, CST).
#: Columns the confirmation never reads (the donor's message and its moderation, the
#: receipt and provider fields it writes, secrets and tokens): left out of the row lock's
#: SELECT, as each column costs result-building time on every confirmation.
_NOT_READ_ON_CONFIRM = frozenset(
    {
        "message",
        "message_hidden_at",
        "message_hidden_reason",
        "message_hidden_by_id",
        "message_reports",
        "message_reported_at",
        "commitment_salt",
        "stripe_setup_intent_id",
        "stripe_setup_secret",
        "stripe_charge_id",
        "public_token",
        "failure_message",
        "receipt_number",
        "receipt_year",
        "receipt_seq",
        "log_index",
        "receipt_issued_late_at",
        "provider_transaction_id",
        "provider_paid_at",
        "invoice_title",
        "created_at",
        "updated_at",
    }
)
_LOCK_FOR_CONFIRM = (
    sa.select(
        *(c for c in _donations.c if c.name not in _NOT_READ_ON_CONFIRM),
        _organizations.c.uscc.label("org_uscc"),
        givingdays.may_match(_donations.c.campaign_id, _donations.c.currency).label("may_match"),
    )
    .join(_organizations, _organizations.c.id == _donations.c.organization_id)
    .where(_donations.c.id == sa.bindparam("donation_id"))
    .with_for_update(of=_donations)
)
#: PostgreSQL: the same, with the candidate pools themselves (not only whether there are
#: any) and their ledger accounts, so a matched gift sends no statement to find them.
_LOCK_FOR_CONFIRM_PG = (
    sa.select(
        *(c for c in _donations.c if c.name not in _NOT_READ_ON_CONFIRM),
        _organizations.c.uscc.label("org_uscc"),
        givingdays.candidates_column(_donations.c.campaign_id, _donations.c.currency).label(
            "candidates"
        ),
    )
    .join(_organizations, _organizations.c.id == _donations.c.organization_id)
    .where(_donations.c.id == sa.bindparam("donation_id"))
    .with_for_update(of=_donations)
)
#: PostgreSQL, a delivery's success: the delivery's ``provider_events`` row stored by the
#: same statement (``provider_events.STORE_PG`` as a CTE), the row lock taken only when
#: it was new (``LEFT JOIN LATERAL``). No row: a duplicate (nothing locked or changed); a
#: row whose donation columns are NULL: the event is stored, the donation missing.
#: (Short aliases: psycopg caches the conversion of a statement up to 4 KiB only.)
_STORED = provider_events.STORE_PG.cte("ev")
_LOCKED = _LOCK_FOR_CONFIRM_PG.lateral("d")
_STORE_AND_LOCK_PG = sa.select(_STORED.c.id.label("stored_event_id"), *_LOCKED.c).select_from(
    _STORED.outerjoin(_LOCKED, sa.true())
)
_MARK_SUCCEEDED = _donations.update().where(_donations.c.id == sa.bindparam("donation_id"))
#: PostgreSQL, batched log, no match in the UPDATE: the same UPDATE queueing the gift's
#: log entry too (``donation.succeeded`` recorded with ``queued=True``).
_MARK_SUCCEEDED_LOGGED = _MARK_SUCCEEDED.add_cte(ENQUEUE_NAMED.cte("q"))
#: PostgreSQL, batched log, a gift with a receipt that no pool may match: the same UPDATE
#: also takes the receipt number (the counter's upsert as a CTE: receipts.NEXT_SEQ_CTE)
#: and queues the log entry with that number put in place of ``:r_mark`` in its payload.
_NUMBER_MARK = "@receipt-number@"
_MARK_SUCCEEDED_NUMBERED = (
    _MARK_SUCCEEDED.values(receipt_seq=receipts.NEXT_SEQ, receipt_number=receipts.NEXT_NUMBER)
    .add_cte(receipts.NEXT_SEQ_CTE)
    .add_cte(
        enqueue_named(
            sa.func.replace(
                sa.bindparam("q_payload", type_=sa.Text),
                sa.bindparam("r_mark", type_=sa.Text),
                receipts.NEXT_NUMBER,
            )
        ).cte("q")
    )
    .returning(_donations.c.receipt_seq, _donations.c.receipt_number)
)
#: PostgreSQL, batched log: the same UPDATE (queueing the gift's log entry) making the
#: gift's match from one pool too, with the match's own queued entry.
_MARK_SUCCEEDED_MATCHED = givingdays.with_match(_MARK_SUCCEEDED_LOGGED)


def confirm_payment(
    session: Session,
    donation_id: int,
    intent: payments.Intent,
    account: str | None = None,
    *,
    event: dict[str, Any] | None = None,
) -> bool | None:
    """The one place a donation paid online succeeds, whatever the provider (Stripe's
    webhook, card step and renewals; WeChat Pay and Alipay notifications; every return
    page and the expiry job when they query the provider).

    Locks the donation row, cross-checks the intent (id, amount, currency, metadata,
    account, status) before any write, then in the caller's transaction: the ledger
    transaction, the receipt number, the public log entry and the donation's one UPDATE.
    Returns False when the donation had already succeeded (a replay changes nothing).

    This is a giving day's hot path (docs/scaling.md), so it is SQLAlchemy Core on the
    session's connection, with statements built once: three statements on PostgreSQL
    with the delivery's event row when the log is batched (the event row, the row lock
    and the giving-day pools that could match the gift in one; the ledger transaction,
    its entries and the lookup of their accounts in one; the donation's UPDATE, which
    takes the receipt number and queues the gift's log entry with it too, when no pool
    may match the gift; else the receipt counter is a statement of its own, taken before
    any pool's lock), one more for a gift
    matched from one pool without per-donor/per-campaign caps when the log is batched
    (the donation's UPDATE makes the match, its books and its queued log entry:
    ``givingdays.with_match``; two more with the inline log), and the one shared lock
    (the organization's receipt counter; also the log head when the log is inline)
    taken before the pool's.

    ``event`` (``provider_events.event_row``: a verified delivery, not stored yet) is
    stored first, on PostgreSQL by the row lock's own statement; None when it was stored
    already (a duplicate: nothing locked, nothing changed). It is stored whatever follows
    (a mismatch raised below is parked by the caller in the same transaction).
    """
    connection = session.connection()
    today = today_cst()
    postgres = connection.dialect.name == "postgresql"
    params = {"donation_id": donation_id, "today": today}
    if event is None:
        row = connection.execute(
            _LOCK_FOR_CONFIRM_PG if postgres else _LOCK_FOR_CONFIRM, params
        ).first()
    elif postgres:
        row = connection.execute(_STORE_AND_LOCK_PG, {**params, **event}).first()
        if row is None:
            return None  # a duplicate
        if row.id is None:
            row = None  # stored; the donation does not exist
    elif provider_events.store_event(
        session,
        {"id": event["event_id"], "type": event["event_type"], "account": event["event_account"]},
    ):
        row = connection.execute(_LOCK_FOR_CONFIRM, params).first()
    else:
        return None
    if row is None:
        raise PaymentMismatchError(f"payment intent {intent.id}: no donation {donation_id}")
    check_intent(row, intent, account)  # type: ignore[arg-type] - a Row has the columns
    if not intent.succeeded:
        raise PaymentMismatchError(f"donation {donation_id}: intent status is {intent.status}")
    if row.status != "pending":
        return False
    # Refunds that wait for this success: take their pool lock now, before the receipt
    # counter and the log head, in the order every refund takes them (no deadlock).
    if row.has_parked_events and (pool := pool_of_donation(row)) is not None:  # type: ignore[arg-type]
        lock_pool(session, pool)
    now = datetime.now(UTC)
    ledger.post_donation(session, row)  # type: ignore[arg-type]
    # the pools this gift may be matched from, looked up before any shared lock (when the
    # lock's SELECT saw one, or the day turned since)
    candidates: list[givingdays.Candidate] | None = None
    day = today_cst(now)
    if day == today:  # else the day turned since the lock's SELECT: ask again
        if postgres:
            candidates = givingdays.candidates_from(row.candidates, row, now)
        elif not row.may_match:
            candidates = []
    if candidates is None:
        candidates = givingdays.match_candidates(session, row, now)
    receipt: dict[str, Any] = {"receipt_year": None, "receipt_seq": None, "receipt_number": None}
    batched = sequencer_mode() == BATCHED
    # PostgreSQL, batched log, no pool to match from: the UPDATE takes the receipt number
    # (the counter's row lock is then held for the UPDATE and the commit only)
    numbered = postgres and batched and not candidates and not row.receipt_waived
    if numbered:
        receipt = {"receipt_number": _NUMBER_MARK}
    elif not row.receipt_waived:
        year, seq, number = receipts.next_receipt_number(
            session, row.organization_id, row.org_uscc, now
        )
        receipt = {"receipt_year": year, "receipt_seq": seq, "receipt_number": number}
    # matching money in this transaction; a pool's row lock is taken after the
    # receipt counter and before the log head, and held only for the rest of the commit.
    # With the log batched (no log head lock) the usual match (one pool without
    # per-donor/per-campaign caps) is made by the donation's own UPDATE below instead.
    fused = givingdays.fused_candidate(connection, row, candidates, batched)
    if fused is None:
        givingdays.match_gift(session, row, now, candidates)
    payload = _donation_payload(row, row.org_uscc, receipt["receipt_number"], row.receipt_waived)
    check_transition("donation", row.status, "succeeded")  # the UPDATE skips the validator
    update = {
        "donation_id": row.id,
        "status": "succeeded",
        "succeeded_at": now,
        "failure_message": "",
        **_provider_ids(row, intent),
        "log_index": None,
        "has_parked_events": False,
    }
    if numbered:
        entry = queue_params("donation.succeeded", payload, now, "donations", row.id)
        if entry["q_payload"].count(_NUMBER_MARK) == 1:
            params = receipts.next_number_params(row.organization_id, row.org_uscc, now)
            made = connection.execute(
                _MARK_SUCCEEDED_NUMBERED,
                {
                    **update,
                    **entry,
                    **params,
                    "r_mark": _NUMBER_MARK,
                    "receipt_year": params["r_year"],
                },
            ).one()
            payload["receipt_number"] = made.receipt_number
            record_event(
                session,
                "donation.succeeded",
                payload,
                subject_table="donations",
                subject_id=row.id,
                at=now,
                subject=row,
                queued=True,
            )
            return _succeeded_after(session, row)
        year, seq, number = receipts.next_receipt_number(
            session, row.organization_id, row.org_uscc, now
        )
        receipt = {"receipt_year": year, "receipt_seq": seq, "receipt_number": number}
        payload["receipt_number"] = number
    update.update(receipt)
    # PostgreSQL, batched log: the UPDATE queues the entry itself (matched there or not)
    queued = postgres and batched
    log_index = log_index_of(
        record_event(
            session,
            "donation.succeeded",
            payload,
            subject_table="donations",
            subject_id=row.id,
            at=now,
            subject=row,
            queued=queued,
        )
    )
    update["log_index"] = log_index
    if queued:
        update.update(queue_params("donation.succeeded", payload, now, "donations", row.id))
    if fused is not None:
        update.update(givingdays.fused_params(row, now, day, fused))
        made = connection.execute(_MARK_SUCCEEDED_MATCHED, update).one()
        givingdays.after_fused(session, row, now, fused, made)
    else:
        connection.execute(_MARK_SUCCEEDED_LOGGED if queued else _MARK_SUCCEEDED, update)
    return _succeeded_after(session, row)


def _succeeded_after(session: Session, row: Any) -> bool:
    """The end of a confirmation, after the donation's UPDATE: its after-commit effects,
    and the refunds that waited for this success."""
    note_succeeded(session, row)
    if row.has_parked_events:
        apply_waiting_refunds(session, row.id)  # events that waited for this success
    return True


def apply_waiting_refunds(session: Session, donation_id: int) -> int:
    """Apply the parked refunds that waited for this donation's success (charity.services.
    parking; called by confirm_payment in its transaction, the donation row locked);
    returns how many."""
    waiting = session.scalars(
        sa.select(ParkedEvent)
        .where(ParkedEvent.donation_id == donation_id, ParkedEvent.status == "waiting")
        .order_by(ParkedEvent.id)
    ).all()
    applied = 0
    for parked in waiting:
        parked.status = "applied"  # first, so that a re-park below is a new decision
        parked.resolved_at = utcnow()
        session.flush()
        outcome = record_provider_refund(
            session,
            donation_id,
            parked.provider,
            parked.provider_refund_id or "",
            parked.amount_fen,
        )
        if outcome == "parked":  # it no longer fits (more than what remains)
            parked.status, parked.resolved_at = "unresolved", None
            parked.reason = (parked.reason + "; on applying: more than what remains")[:500]
        applied += outcome == "applied"
    return applied


def _provider_ids(row: Any, intent: payments.Intent) -> dict[str, Any]:
    """What the provider calls the money movement, and when it says it was paid."""
    if (row.payment_provider or "stripe") == "stripe":
        return {"stripe_charge_id": intent.latest_charge, "provider_paid_at": intent.paid_at}
    return {"provider_transaction_id": intent.latest_charge, "provider_paid_at": intent.paid_at}


def note_succeeded(session: Session, donation: Donation, *, mail: bool = True) -> None:
    """Once the commit that records this success is durable: count the gift and queue its
    receipt mail (when the donor gave an email and ``mail``). ``donation`` may be a Donation
    or a row with its columns."""
    wants_mail = mail and bool(donation.donor_email)
    effect = partial(_succeeded, donation.id, donation.channel, donation.amount_fen, wants_mail)
    after_commit(effect, session)


def _succeeded(donation_id: int, channel: str, amount_fen: int, has_email: bool) -> None:
    metrics.donation_succeeded(channel, amount_fen)
    if has_email:
        receipt_mail.queue_receipts([donation_id])


def log_index_of(results: list[Any]) -> int | None:
    """The log entry index, if the audit log subscriber returned its entry (or index)."""
    for result in results:
        index = result if isinstance(result, int) else getattr(result, "index", None)
        if isinstance(index, int):
            return index
    return None


def record_payment_failure(session: Session, donation: Donation, intent: payments.Intent) -> bool:
    donation = lock_donation(session, donation.id)
    if donation.status != "pending" or intent.id != donation.stripe_payment_intent_id:
        return False
    donation.failure_message = (intent.failure_message or WALLET_MESSAGES["failed"])[:300]
    return True


@dataclass(frozen=True)
class RefundCommand:
    donation_id: int
    amount_fen: int
    reason: str
    #: The site's address (https://...), for the wallets' refund notification URL.
    site_url: str = ""


def refundable_fen(donation: Donation) -> int:
    if donation.status not in ("succeeded", "partially_refunded"):
        return 0
    return donation.amount_fen - donation.refunded_fen


def _apply_refund(session: Session, donation: Donation, refund: Refund) -> None:
    donation.refunded_fen += refund.amount_fen
    full = donation.refunded_fen == donation.amount_fen
    donation.status = "refunded" if full else "partially_refunded"
    ledger.post_refund(session, donation, refund)
    session.flush()
    # the refunded share of each match goes back to its pool; the campaign's
    # lock first, then the pools' (the order confirm_payment takes them), then the log.
    if (pool := pool_of_donation(donation)) is not None:
        lock_pool(session, pool)
    givingdays.release_for_refund(session, donation, refund)
    _refresh_allocation(session, donation)
    record_event(session, "donation.refunded", subject_id=refund.id)
    # every refund booked tells the donor, once, after the commit (never on a rollback)
    refund_mail.queue_refund_mail(refund.id)


def _refresh_allocation(session: Session, donation: Donation) -> None:
    """funds: a refund takes its part of the gift out of the FIFO allocation."""
    pool = pool_of_donation(donation)
    if pool is not None:
        lock_pool(session, pool)
        allocation.store_allocation(session, pool)


DEFAULT_REFUND_FOUR_EYES_FEN = 500_000


def refund_four_eyes_fen() -> int:
    """REFUND_FOUR_EYES_FEN: above it (the gift's refunds added up, this one included) a
    refund needs a second person (charity.services.refund_approvals)."""
    if not has_app_context():
        return DEFAULT_REFUND_FOUR_EYES_FEN
    return int(current_app.config.get("REFUND_FOUR_EYES_FEN", DEFAULT_REFUND_FOUR_EYES_FEN))


def refund_needs_second_person(donation: Donation, amount_fen: int) -> bool:
    """Counted per gift, so a large refund split into small ones still needs two people."""
    return donation.refunded_fen + amount_fen > refund_four_eyes_fen()


def check_refund(session: Session, donation: Donation, amount_fen: int, reason: str) -> None:
    """What every refund must satisfy (the donation locked): a reason, never more than what
    remains, never money already spent."""
    if not reason.strip():
        raise DonationError(N_("Give a reason for the refund."), "reason")
    remaining = refundable_fen(donation)
    if remaining <= 0:
        raise DonationError(N_("This donation has nothing left to refund."), "amount")
    if not 0 < amount_fen <= remaining:
        raise DonationError(N_("The refund is more than what remains refundable."), "amount")
    # money already spent or promised to approved disbursements stays spent.
    if problem := refund_refusal(session, donation, amount_fen):
        raise DonationError(problem, "amount")


def make_refund(
    session: Session, donation: Donation, amount_fen: int, reason: str, by: User, site_url: str
) -> Refund:
    """Give the money back at the provider and record it (checked by the caller)."""
    refund = Refund(
        donation=donation,
        amount_fen=amount_fen,
        currency=donation.currency,
        reason=reason.strip(),
        created_by_id=by.id,
    )
    session.add(refund)
    session.flush()  # the refund id names the refund at the provider
    _refund_at_provider(session, donation, refund, site_url)
    _apply_refund(session, donation, refund)
    return refund


def refund_donation(session: Session, actor: User, command: RefundCommand) -> Refund:
    """Refund part or all of a gift, never more than what remains (checked under lock).
    Above REFUND_FOUR_EYES_FEN it is refused here: it goes through a refund request that a
    second person approves (charity.services.refund_approvals)."""
    donation = lock_donation(session, command.donation_id)
    check_refund(session, donation, command.amount_fen, command.reason)
    if refund_needs_second_person(donation, command.amount_fen):
        raise DonationError(
            N_("A refund this large needs a second person: request it for approval."), "amount"
        )
    return make_refund(
        session, donation, command.amount_fen, command.reason, actor, command.site_url
    )


def _refund_at_provider(session: Session, donation: Donation, refund: Refund, site: str) -> None:
    """Ask the donation's provider to give the money back (through charity.payments).

    The wallets know the refund by our own number, set before asking, so a notification
    of it finds it; Stripe names it (re_...) in its answer."""
    provider_name = donation.payment_provider or "stripe"
    refund.payment_provider = provider_name
    merchant = merchant_accounts.merchant_of_donation(session, donation)
    order_no = (
        donation.stripe_payment_intent_id
        if provider_name == "stripe"
        else donation.provider_order_no
    )
    refund_no = f"RF{refund.id}R{secrets.token_hex(4)}"  # unique at the provider for ever
    if provider_name != "stripe":
        refund.provider_refund_id = refund_no
        session.flush()
    result = payments.provider(provider_name).refund(
        merchant,
        payments.RefundRequest(
            refund_id=refund.id,
            order_no=order_no or "",
            refund_no=refund_no,
            amount_fen=refund.amount_fen,
            total_fen=donation.amount_fen,
            currency=donation.currency,
            reason=refund.reason,
            notify_url=merchant_accounts.notify_url(site, merchant),
        ),
    )
    refund.provider_refund_id = result.refund_id


def record_provider_refund(
    session: Session,
    donation_id: int,
    provider: str,
    provider_refund_id: str,
    amount_fen: int,
    reason: str = "Refunded at the payment provider",
) -> str:
    """A refund a provider reports (a notification, a dashboard refund, a parked event
    applied): ours (known id) changes nothing; another is recorded once. One that cannot
    apply yet (the payment's success has not arrived) or ever (more than what remains) is
    parked, never dropped. Returns applied, unchanged or parked."""
    donation = lock_donation(session, donation_id)
    known = session.scalar(
        sa.select(Refund.id).where(
            Refund.payment_provider == provider, Refund.provider_refund_id == provider_refund_id
        )
    )
    if known is not None:
        return "unchanged"
    if donation.status == "pending":
        parking.park_refund(
            session,
            donation,
            provider,
            provider_refund_id,
            amount_fen,
            "waiting",
            "the refund arrived before the payment's success",
        )
        return "parked"
    if not 0 < amount_fen <= refundable_fen(donation):
        parking.park_refund(
            session,
            donation,
            provider,
            provider_refund_id,
            amount_fen,
            "unresolved",
            f"refund of {amount_fen} exceeds the {refundable_fen(donation)} refundable",
        )
        return "parked"
    refund = Refund(
        donation=donation,
        amount_fen=amount_fen,
        currency=donation.currency,
        reason=reason,
        payment_provider=provider,
        provider_refund_id=provider_refund_id,
    )
    session.add(refund)
    session.flush()
    _apply_refund(session, donation, refund)
    return "applied"


def _donation_payload(
    donation: Donation, org_uscc: str, receipt_number: str | None, receipt_waived: bool
) -> dict[str, Any]:
    """The public data of ``donation.succeeded``; ``donation`` may be a Donation or a row
    with its columns (the confirmation path builds the entry before its UPDATE)."""
    return {
        "donation_id": donation.id,
        "organization_id": donation.organization_id,
        "org_uscc": org_uscc,
        "campaign_id": donation.campaign_id,
        "amount_fen": donation.amount_fen,
        "currency": donation.currency,
        "channel": donation.channel,
        "receipt_number": receipt_number,
        "receipt_waived": receipt_waived,
        "donor_commitment": donation.donor_commitment,
        # only gifts to a fund carry the key, so campaign payloads are unchanged.
        **({"fund_id": donation.fund_id} if donation.fund_id is not None else {}),
    }


# With a batched log, the sequencer fills in log_index (the receipt links the entry).


def succeeded_payload(session: Session, donation_id: int) -> dict[str, Any]:
    donation = session.get(Donation, donation_id)
    if donation is None:
        raise LookupError(f"donation {donation_id} is gone")
    number, waived = receipts.receipt_as_of(donation, donation.succeeded_at)
    return _donation_payload(donation, donation.organization.uscc, number, waived)


def receipt_issued_payload(session: Session, donation_id: int) -> dict[str, Any]:
    """A receipt issued later, on the donor's request (charity.services.receipts)."""
    donation = session.get(Donation, donation_id)
    if donation is None:
        raise LookupError(f"donation {donation_id} is gone")
    return {
        "donation_id": donation.id,
        "organization_id": donation.organization_id,
        "org_uscc": donation.organization.uscc,
        "receipt_number": donation.receipt_number,
    }


def refunded_payload(session: Session, refund_id: int) -> dict[str, Any]:
    refund = session.get(Refund, refund_id)
    if refund is None:
        raise LookupError(f"refund {refund_id} is gone")
    donation = refund.donation
    number, waived = receipts.receipt_as_of(donation, refund.created_at)
    payload = _donation_payload(donation, donation.organization.uscc, number, waived)
    payload.update(
        refund_id=refund.id,
        refund_amount_fen=refund.amount_fen,
        refund_currency=refund.currency,
    )
    return payload
