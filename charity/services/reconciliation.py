"""Daily reconciliation: each provider's own statement of a day, line by line, against our
books (guarantee 5: differences are shown, never silently fixed).

For every receiving account (each organization's Stripe account, WeChat Pay 商户号 and
Alipay app) and a day in China Standard Time:

* every line of the provider's statement (payments and refunds) is looked up in our
  records by its order or refund number, whatever day we filed it under: missing →
  ``theirs_only`` (e.g. a refund we never recorded); another amount → ``amount``; a
  payment we still hold as unpaid → ``status``;
* every payment and refund of ours for that day that no statement line matched is asked
  of the provider once (its own query): found on another day (a payment at 23:59:59 whose
  notification came after midnight) it is matched there; not found → ``ours_only``.

Each comparison is stored (``ReconciliationRun``, with the statement's SHA-256 and each
difference's two lines as evidence) and shown to the organization's finance members. A
difference the provider's record proves can be applied in one step by a finance member
(``apply_difference``): a refund the provider made and we lack is recorded, a payment it
took that we hold as unpaid is confirmed; each is a new ledger transaction with its log
entry, and the difference keeps who applied it and why.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from charity import payments
from charity.core.clock import CST
from charity.core.errors import DomainError
from charity.core.events import record_event
from charity.models import (
    Donation,
    Membership,
    MerchantAccount,
    Organization,
    ParkedEvent,
    PaymentOrder,
    ReconciliationDifference,
    ReconciliationRun,
    Refund,
    User,
    utcnow,
)
from charity.services import donations, merchant_accounts
from charity.web.i18n import N_

PAID = ("succeeded", "partially_refunded", "refunded")


class ReconciliationError(DomainError, ValueError):
    """A refusal (charity.core.errors.DomainError)."""


@dataclass(frozen=True)
class Account:
    organization_id: int
    provider: str
    merchant: payments.Merchant


@dataclass
class Difference:
    kind: str
    line_kind: str
    reference: str
    donation_id: int | None
    theirs: payments.StatementLine | None
    ours: dict[str, Any] | None

    @property
    def their_amount(self) -> int | None:
        return self.theirs.amount_fen if self.theirs else None


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=CST).astimezone(UTC)
    return start, start + timedelta(days=1)


def yesterday_cst(now: datetime | None = None) -> date:
    return ((now or utcnow()).astimezone(CST) - timedelta(days=1)).date()


def accounts(session: Session, organization_id: int | None = None) -> list[Account]:
    found = []
    wallet_query = sa.select(MerchantAccount).order_by(MerchantAccount.id)
    org_query = sa.select(Organization).where(Organization.stripe_account_id.is_not(None))
    if organization_id is not None:
        wallet_query = wallet_query.where(MerchantAccount.organization_id == organization_id)
        org_query = org_query.where(Organization.id == organization_id)
    for organization in session.scalars(org_query.order_by(Organization.id)):
        merchant = merchant_accounts.stripe_merchant(organization.stripe_account_id)
        found.append(Account(organization.id, "stripe", merchant))
    for account in session.scalars(wallet_query):
        found.append(
            Account(account.organization_id, account.provider, merchant_accounts.merchant(account))
        )
    return found


def reconcile_day(
    session: Session, day: date, organization_id: int | None = None
) -> list[ReconciliationRun]:
    """Download and compare every account's statement of ``day``; the caller commits."""
    return [
        reconcile_account(session, account, day) for account in accounts(session, organization_id)
    ]


def reconcile_account(session: Session, account: Account, day: date) -> ReconciliationRun:
    run = ReconciliationRun(
        organization_id=account.organization_id,
        provider=account.provider,
        account=account.merchant.public_id,
        day=day,
        status="ok",
    )
    provider = payments.provider(account.provider)
    try:
        statement = provider.download_statement(account.merchant, day)
        ours = _our_lines(session, account, day)
        differences = _compare(session, account, statement, ours, day)
    except payments.PaymentError as error:
        run.status, run.error = "failed", str(error)[:500]
        session.add(run)
        session.flush()
        return run
    run.their_lines, run.our_lines = len(statement.lines), len(ours)
    run.statement_sha256 = statement.sha256
    run.difference_count = len(differences)
    run.differences = [_stored(difference) for difference in differences]
    session.add(run)
    session.flush()
    return run


def _stored(difference: Difference) -> ReconciliationDifference:
    theirs = difference.theirs
    return ReconciliationDifference(
        kind=difference.kind,
        line_kind=difference.line_kind,
        reference=difference.reference[:64],
        donation_id=difference.donation_id,
        their_amount_fen=difference.their_amount,
        our_amount_fen=(difference.ours or {}).get("amount_fen"),
        their_line=json.dumps(dict(theirs.raw), ensure_ascii=False, default=str) if theirs else "",
        our_line=json.dumps(difference.ours, ensure_ascii=False, default=str)
        if difference.ours
        else "",
    )


# --- our side ----------------------------------------------------------------------------


def _account_filter(account: Account) -> Any:
    if account.provider == "stripe":
        return sa.and_(
            sa.func.coalesce(Donation.payment_provider, "stripe") == "stripe",
            Donation.stripe_account_id == account.merchant.public_id,
        )
    return sa.and_(
        Donation.payment_provider == account.provider,
        Donation.provider_account == account.merchant.public_id,
    )


def _order_no(donation: Donation) -> str:
    if (donation.payment_provider or "stripe") == "stripe":
        return donation.stripe_payment_intent_id or ""
    return donation.provider_order_no or ""


def _our_lines(session: Session, account: Account, day: date) -> list[dict[str, Any]]:
    """Our payments and refunds of ``day`` at this account (the provider's time of a
    payment when we have it, else when we recorded it)."""
    start, end = day_bounds(day)
    paid_at = sa.func.coalesce(Donation.provider_paid_at, Donation.succeeded_at)
    gifts = session.scalars(
        sa.select(Donation).where(
            _account_filter(account),
            Donation.status.in_(PAID),
            Donation.channel != "recurring",
            paid_at >= start,
            paid_at < end,
        )
    ).all()
    lines = [
        {
            "kind": "payment",
            "reference": _order_no(gift),
            "donation_id": gift.id,
            "amount_fen": gift.amount_fen,
            "at": (gift.provider_paid_at or gift.succeeded_at),
        }
        for gift in gifts
    ]
    refunds = session.execute(
        sa.select(Refund, Donation)
        .join(Donation, Donation.id == Refund.donation_id)
        .where(_account_filter(account), Refund.created_at >= start, Refund.created_at < end)
    ).all()
    lines += [
        {
            "kind": "refund",
            "reference": refund.provider_refund_id or "",
            "order": _order_no(gift),
            "donation_id": gift.id,
            "refund_id": refund.id,
            "amount_fen": refund.amount_fen,
            "at": refund.created_at,
        }
        for refund, gift in refunds
    ]
    return lines


def _donation_for_order(session: Session, account: Account, order_no: str) -> Donation | None:
    if account.provider == "stripe":
        return session.scalar(
            sa.select(Donation).where(Donation.stripe_payment_intent_id == order_no)
        )
    donation_id = session.scalar(
        sa.select(PaymentOrder.donation_id).where(
            PaymentOrder.provider == account.provider, PaymentOrder.order_no == order_no
        )
    )
    return session.get(Donation, donation_id) if donation_id is not None else None


# --- the comparison ------------------------------------------------------------------------


def _compare(
    session: Session,
    account: Account,
    statement: payments.Statement,
    ours: list[dict[str, Any]],
    day: date,
) -> list[Difference]:
    differences: list[Difference] = []
    matched: set[tuple[str, str]] = set()
    for line in statement.lines:
        if line.kind == "payment":
            found = _their_payment(session, account, line)
        else:
            found = _their_refund(session, account, line)
        if isinstance(found, Difference):
            differences.append(found)
        matched.add((line.kind, line.refund_id if line.kind == "refund" else line.order_no))
    for line in ours:
        if (line["kind"], line["reference"]) in matched:
            continue
        if not _provider_has_it_elsewhere(account, line, day):
            differences.append(
                Difference(
                    "ours_only", line["kind"], line["reference"], line["donation_id"], None, line
                )
            )
    return differences


def _their_payment(
    session: Session, account: Account, line: payments.StatementLine
) -> Difference | None:
    donation = _donation_for_order(session, account, line.order_no)
    if donation is None:
        return Difference("theirs_only", "payment", line.order_no, None, line, None)
    ours = {
        "kind": "payment",
        "reference": line.order_no,
        "donation_id": donation.id,
        "amount_fen": donation.amount_fen,
        "status": donation.status,
    }
    if donation.status not in PAID:
        return Difference("status", "payment", line.order_no, donation.id, line, ours)
    if donation.amount_fen != line.amount_fen:
        return Difference("amount", "payment", line.order_no, donation.id, line, ours)
    return None


def _their_refund(
    session: Session, account: Account, line: payments.StatementLine
) -> Difference | None:
    refund = session.scalar(
        sa.select(Refund).where(
            Refund.payment_provider == account.provider, Refund.provider_refund_id == line.refund_id
        )
    )
    if refund is None:
        donation = _donation_for_order(session, account, line.order_no)
        donation_id = donation.id if donation is not None else None
        return Difference("theirs_only", "refund", line.refund_id, donation_id, line, None)
    if refund.amount_fen != line.amount_fen:
        ours = {
            "kind": "refund",
            "reference": line.refund_id,
            "donation_id": refund.donation_id,
            "amount_fen": refund.amount_fen,
        }
        return Difference("amount", "refund", line.refund_id, refund.donation_id, line, ours)
    return None


def _provider_has_it_elsewhere(account: Account, line: dict[str, Any], day: date) -> bool:
    """Ask the provider about one of our lines its statement of ``day`` lacks: True when
    it has it, under another day (then that day's statement matches it)."""
    provider = payments.provider(account.provider)
    if line["kind"] == "payment":
        intent = provider.query_payment(account.merchant, line["reference"])
        when = intent.paid_at if intent.succeeded else None
    else:
        found = provider.query_refund(account.merchant, line["order"], line["reference"])
        when = found.at if found is not None and found.amount_fen == line["amount_fen"] else None
    return when is not None and when.astimezone(CST).date() != day


# --- reading and acting -------------------------------------------------------------------


def recent_runs(session: Session, organization_id: int, limit: int = 30) -> list[ReconciliationRun]:
    return list(
        session.scalars(
            sa.select(ReconciliationRun)
            .where(ReconciliationRun.organization_id == organization_id)
            .order_by(ReconciliationRun.day.desc(), ReconciliationRun.id.desc())
            .limit(limit)
        )
    )


def latest_runs(session: Session) -> list[ReconciliationRun]:
    """The latest run of every (organization, provider, account, day)."""
    newest = (
        sa.select(sa.func.max(ReconciliationRun.id))
        .group_by(
            ReconciliationRun.organization_id,
            ReconciliationRun.provider,
            ReconciliationRun.account,
            ReconciliationRun.day,
        )
        .scalar_subquery()
    )
    return list(
        session.scalars(sa.select(ReconciliationRun).where(ReconciliationRun.id.in_(newest)))
    )


def open_differences(
    session: Session, organization_id: int | None = None
) -> list[ReconciliationDifference]:
    """Unresolved differences of every latest run."""
    run_ids = [
        run.id for run in latest_runs(session) if organization_id in (None, run.organization_id)
    ]
    if not run_ids:
        return []
    return list(
        session.scalars(
            sa.select(ReconciliationDifference)
            .where(
                ReconciliationDifference.run_id.in_(run_ids),
                ReconciliationDifference.resolved_at.is_(None),
            )
            .order_by(ReconciliationDifference.id)
        )
    )


def appliable(difference: ReconciliationDifference) -> bool:
    """Can the provider's record be applied in one step?"""
    if difference.kind == "theirs_only" and difference.line_kind == "refund":
        return difference.donation_id is not None
    return difference.kind == "status" and difference.line_kind == "payment"


def apply_difference(
    session: Session, actor: User, difference_id: int, reason: str
) -> ReconciliationDifference:
    """Apply what the provider's statement proves, as a new ledger transaction."""
    difference = session.get(ReconciliationDifference, difference_id, with_for_update=True)
    if difference is None or difference.resolved_at is not None:
        raise ReconciliationError(N_("This difference is not open."))
    run = difference.run
    role = session.scalar(
        sa.select(Membership.role).where(
            Membership.user_id == actor.id, Membership.organization_id == run.organization_id
        )
    )
    if role not in ("owner", "finance"):
        raise ReconciliationError(N_("Only the organization's finance members can do this."))
    if not reason.strip():
        raise ReconciliationError(N_("Give a reason."))
    if not appliable(difference):
        raise ReconciliationError(N_("This difference cannot be applied automatically."))
    assert difference.donation_id is not None
    donation = session.get(Donation, difference.donation_id)
    account = next(
        (
            a
            for a in accounts(session, run.organization_id)
            if a.provider == run.provider and a.merchant.public_id == run.account
        ),
        None,
    )
    if account is None or donation is None:
        raise ReconciliationError(N_("The receiving account of this difference is gone."))
    if difference.line_kind == "refund":
        outcome = donations.record_provider_refund(
            session,
            donation.id,
            run.provider,
            difference.reference,
            int(difference.their_amount_fen or 0),
            reason=f"Reconciliation {run.day.isoformat()}: {reason.strip()}"[:500],
        )
        if outcome != "applied":
            raise ReconciliationError(
                N_("The refund cannot be recorded: it does not fit the gift.")
            )
    else:
        intent = payments.provider(run.provider).query_payment(
            account.merchant, difference.reference
        )
        if not intent.succeeded:
            raise ReconciliationError(N_("The provider no longer reports this payment as paid."))
        donations.mark_donation_succeeded(session, donation, intent)
    difference.resolved_at, difference.resolved_by_id = utcnow(), actor.id
    difference.resolution = reason.strip()[:500]
    record_event(
        session,
        "payments.reconciliation_applied",
        {
            "organization_id": run.organization_id,
            "provider": run.provider,
            "day": run.day.isoformat(),
            "kind": difference.kind,
            "line_kind": difference.line_kind,
            "reference": difference.reference,
            "donation_id": difference.donation_id,
            "amount_fen": difference.their_amount_fen,
        },
        subject_table="reconciliation_differences",
        subject_id=difference.id,
    )
    return difference


def check_reconciled(
    session: Session, now: datetime, lookback_days: int
) -> tuple[list[str], list[str]]:
    """For `flask ledger check`: days with online money at an account (up to yesterday,
    CST) whose latest reconciliation is missing, failed, or has open differences."""
    problems: list[str] = []
    latest = {(r.provider, r.account, r.day): r for r in latest_runs(session)}
    open_by_run: dict[int, int] = {}
    for difference in open_differences(session):
        open_by_run[difference.run_id] = open_by_run.get(difference.run_id, 0) + 1
    last = yesterday_cst(now)
    first = last - timedelta(days=lookback_days - 1)
    for provider, account, day in _active_days(session, first, last):
        run = latest.get((provider, account, day))
        where = f"{provider} account {account} on {day.isoformat()}"
        if run is None:
            problems.append(
                f"unreconciled day: {where} (run `flask payments reconcile --date {day}`)"
            )
        elif run.status != "ok":
            problems.append(f"reconciliation failed: {where}: {run.error}")
        elif open_by_run.get(run.id):
            problems.append(f"reconciliation differences: {where}: {open_by_run[run.id]} open")
    return problems, []


def _active_days(session: Session, first: date, last: date) -> set[tuple[str, str, date]]:
    start, _end = day_bounds(first)
    _start, end = day_bounds(last)
    paid_at = sa.func.coalesce(Donation.provider_paid_at, Donation.succeeded_at)
    account = sa.case(
        (
            sa.func.coalesce(Donation.payment_provider, "stripe") == "stripe",
            Donation.stripe_account_id,
        ),
        else_=Donation.provider_account,
    )
    rows = session.execute(
        sa.select(sa.func.coalesce(Donation.payment_provider, "stripe"), account, paid_at).where(
            Donation.status.in_(PAID),
            Donation.channel.in_(("online_card", "online_wechatpay", "online_alipay")),
            paid_at >= start,
            paid_at < end,
        )
    ).all()
    return {
        (provider, str(acct), moment.astimezone(CST).date())
        for provider, acct, moment in rows
        if acct and moment is not None
    }


def regulator_rows(session: Session, organization_ids: set[int] | None) -> list[list[Any]]:
    """Per organization (in scope): open reconciliation differences, failed statements,
    unresolved parked events, and open differences' amounts (the regulator dashboard)."""
    counts: dict[int, list[int]] = {}

    def row(org_id: int) -> list[int]:
        return counts.setdefault(org_id, [0, 0, 0, 0])

    runs = {run.id: run for run in latest_runs(session)}
    for run in runs.values():
        if run.status != "ok":
            row(run.organization_id)[1] += 1
    for difference in open_differences(session):
        numbers = row(runs[difference.run_id].organization_id)
        numbers[0] += 1
        numbers[3] += abs((difference.their_amount_fen or 0) - (difference.our_amount_fen or 0))
    parked = session.execute(
        sa.select(ParkedEvent.organization_id, sa.func.count())
        .where(ParkedEvent.status == "unresolved", ParkedEvent.organization_id.is_not(None))
        .group_by(ParkedEvent.organization_id)
    ).all()
    for org_id, number in parked:
        row(org_id)[2] += number
    wanted = [o for o in counts if organization_ids is None or o in organization_ids]
    names = {
        org_id: (name, uscc)
        for org_id, name, uscc in session.execute(
            sa.select(Organization.id, Organization.name, Organization.uscc).where(
                Organization.id.in_(wanted)
            )
        )
    }
    return [
        [org_id, *names[org_id], *counts[org_id]] for org_id in sorted(wanted) if org_id in names
    ]
