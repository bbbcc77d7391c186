"""Disbursements: request, approve (four eyes), reject, execute — never overdrawing.

Money and the ledger: approval RESERVES the amount (no ledger entry: nothing has moved;
the pool's available money is its ledger balance minus approved, unexecuted requests);
execution is when the money leaves, so the ledger transaction (Dr the pool's spending /
Cr the organization's clearing) and the FIFO allocation are written then.

Concurrency: approval, execution, transfers out and refunds all lock the pool's row (the
campaign or fund) FOR UPDATE first, then re-read the request under its own lock; two
racing approvals are serialized and the second sees the first's reservation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from charity.core.errors import DomainError
from charity.core.events import record_event
from charity.models import (
    Campaign,
    Disbursement,
    Fund,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    Organization,
    User,
)
from charity.models.disbursement import BENEFICIARY_KINDS, PURPOSE_CATEGORIES
from charity.services import allocation, approval_mail, four_eyes, ledger
from charity.services.pools import (
    Pool,
    available_fen,
    lock_pool,
    pool_account,
    pool_balance,
    pool_of_disbursement,
)
from charity.services.uploads import StoredFile
from charity.web.i18n import N_

FINANCE_ROLES = ("owner", "finance")


class DisbursementError(DomainError, ValueError):
    """A request or decision we refuse; ``field`` names its form field (or None)."""


@dataclass(frozen=True)
class DisbursementRequest:
    pool: Pool
    amount_fen: int
    purpose_category: str
    purpose: str
    beneficiary_kind: str
    beneficiary_name: str
    evidence: StoredFile
    beneficiary_organization_id: int | None = None


def _pool_row(session: Session, pool: Pool) -> Campaign | Fund:
    row = session.get(Fund if pool.kind == "fund" else Campaign, pool.id)
    if row is None:
        raise LookupError(f"{pool.kind} {pool.id}")
    return row


def _is_committee_member(fund: Fund | None, user: User) -> bool:
    return fund is not None and any(m.user_id == user.id for m in fund.active_committee)


def can_request(user: User, row: Campaign | Fund) -> bool:
    """Finance staff of the paying organization; for funds also committee members."""
    if user.role_in(row.organization_id) in FINANCE_ROLES:
        return True
    return isinstance(row, Fund) and _is_committee_member(row, user)


def can_decide(user: User, disbursement: Disbursement) -> bool:
    """Who may approve or reject: finance staff; for funds also committee members."""
    if user.role_in(disbursement.organization_id) in FINANCE_ROLES:
        return True
    return _is_committee_member(disbursement.fund, user)


def evidence_visible_to(user: Any, disbursement: Disbursement) -> bool:
    """Who may download the evidence file (issue 15 finding 7). An individual
    beneficiary's evidence names them (the pages show only 受助人A-0012): the paying
    organization's members, the fund's committee, platform admins and the regulator of the
    organization's province only. An organization's evidence of an executed payment is
    public; requests are seen by those who decide on them."""
    authenticated = bool(getattr(user, "is_authenticated", False))
    if disbursement.beneficiary_kind == "organization" and disbursement.status == "executed":
        return True
    if not authenticated:
        return False
    if user.role_in(disbursement.organization_id) is not None or can_decide(user, disbursement):
        return True
    if disbursement.status != "executed":
        return False
    if user.is_admin:
        return True
    province = user.regulator_province
    return bool(user.is_regulator) and province in (None, disbursement.organization.province)


def request_disbursement(
    session: Session, actor: User, command: DisbursementRequest
) -> Disbursement:
    row = _pool_row(session, command.pool)
    if not can_request(actor, row):
        raise PermissionError("not allowed to request disbursements here")
    _check_request(session, command)
    disbursement = Disbursement(
        organization_id=row.organization_id,
        campaign_id=command.pool.id if command.pool.kind == "campaign" else None,
        fund_id=command.pool.id if command.pool.kind == "fund" else None,
        amount_fen=command.amount_fen,
        currency="CNY",
        purpose_category=command.purpose_category,
        purpose=command.purpose.strip(),
        beneficiary_kind=command.beneficiary_kind,
        beneficiary_name=command.beneficiary_name.strip(),
        beneficiary_organization_id=command.beneficiary_organization_id,
        evidence_sha256=command.evidence.sha256,
        evidence_content_type=command.evidence.content_type,
        requested_by_id=actor.id,
    )
    session.add(disbursement)
    session.flush()  # the id is the log subject
    record_event(session, "disbursement.requested", subject_id=disbursement.id)
    approval_mail.queue("disbursement", disbursement.id)  # the deciders, after the commit
    return disbursement


def _check_request(session: Session, command: DisbursementRequest) -> None:
    if command.amount_fen <= 0:
        raise DisbursementError(N_("Enter an amount greater than zero."), "amount")
    if command.amount_fen > available_fen(session, command.pool):
        raise DisbursementError(N_("The amount is more than the money available."), "amount")
    if command.purpose_category not in PURPOSE_CATEGORIES:
        raise DisbursementError(N_("Choose a purpose category."), "purpose_category")
    if not command.purpose.strip():
        raise DisbursementError(N_("Describe what the money is for."), "purpose")
    if command.beneficiary_kind not in BENEFICIARY_KINDS:
        raise DisbursementError(N_("Choose the kind of beneficiary."), "beneficiary_kind")
    if not command.beneficiary_name.strip():
        raise DisbursementError(N_("Name the beneficiary."), "beneficiary_name")
    organization_id = command.beneficiary_organization_id
    if organization_id is not None and session.get(Organization, organization_id) is None:
        raise DisbursementError(N_("No such organization."), "beneficiary_name")


def _locked(session: Session, disbursement_id: int) -> tuple[Disbursement, Pool]:
    """Lock the pool first, then the request (always in this order: no deadlocks)."""
    disbursement = session.get(Disbursement, disbursement_id)
    if disbursement is None:
        raise LookupError(disbursement_id)
    pool = pool_of_disbursement(disbursement)
    lock_pool(session, pool)
    disbursement = session.scalars(
        sa.select(Disbursement)
        .where(Disbursement.id == disbursement_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    return disbursement, pool


def _check_decider(actor: User, disbursement: Disbursement, target: str) -> None:
    if not can_decide(actor, disbursement):
        raise PermissionError("not allowed to decide on disbursements here")
    if actor.id == disbursement.requested_by_id:
        raise DisbursementError(N_("You cannot approve or reject your own request."))
    if not disbursement.can_transition_to(target):
        raise DisbursementError(N_("This request has been decided already."))


def approval_refusal(actor: User, disbursement: Disbursement) -> str | None:
    """Why ``actor`` may not be this request's second person (the four-eyes rule)."""
    return four_eyes.second_person_refusal(
        actor, disbursement.requested_by_id, disbursement.organization_id, fund=disbursement.fund
    )


def approve_disbursement(session: Session, actor: User, disbursement_id: int) -> Disbursement:
    disbursement, pool = _locked(session, disbursement_id)
    _check_decider(actor, disbursement, "approved")
    refusal = approval_refusal(actor, disbursement)
    if refusal is not None:
        raise DisbursementError(refusal)
    if disbursement.amount_fen > available_fen(session, pool):
        raise DisbursementError(N_("Approving this would spend more than the money available."))
    disbursement.status = "approved"
    disbursement.approved_by_id = actor.id
    disbursement.approved_at = datetime.now(UTC)
    record_event(session, "disbursement.approved", subject_id=disbursement.id)
    return disbursement


def reject_disbursement(
    session: Session, actor: User, disbursement_id: int, reason: str
) -> Disbursement:
    disbursement, _pool = _locked(session, disbursement_id)
    _check_decider(actor, disbursement, "rejected")
    if not reason.strip():
        raise DisbursementError(N_("Give a reason for the rejection."), "reason")
    disbursement.status = "rejected"
    disbursement.rejected_by_id = actor.id
    disbursement.rejected_at = datetime.now(UTC)
    disbursement.rejection_reason = reason.strip()
    record_event(session, "disbursement.rejected", subject_id=disbursement.id)
    return disbursement


def execute_disbursement(
    session: Session, actor: User, disbursement_id: int, payment_reference: str
) -> Disbursement:
    """The money was paid: post it to the ledger and allocate it to the gifts (FIFO)."""
    disbursement, pool = _locked(session, disbursement_id)
    if actor.role_in(disbursement.organization_id) not in FINANCE_ROLES:
        raise PermissionError("only finance staff execute disbursements")
    if not disbursement.can_transition_to("executed"):
        raise DisbursementError(N_("Only an approved request can be executed."))
    if not payment_reference.strip():
        raise DisbursementError(N_("Give the payment reference."), "payment_reference")
    # Refunds after the approval may have shrunk the pool below the reservations.
    if disbursement.amount_fen > pool_balance(session, pool) - _others_reserved(
        session, pool, disbursement.id
    ):
        raise DisbursementError(N_("The pool no longer holds enough money for this payment."))
    disbursement.status = "executed"
    disbursement.executed_by_id = actor.id
    disbursement.executed_at = datetime.now(UTC)
    disbursement.payment_reference = payment_reference.strip()[:100]
    _post(session, disbursement, pool)
    allocation.store_allocation(session, pool)
    record_event(session, "disbursement.executed", subject_id=disbursement.id)
    return disbursement


def _others_reserved(session: Session, pool: Pool, disbursement_id: int) -> int:
    return pool_balance(session, pool) - available_fen(session, pool, exclude_id=disbursement_id)


def _post(session: Session, disbursement: Disbursement, pool: Pool) -> None:
    spending = pool_account(
        session, pool, "spending", disbursement.organization_id, disbursement.currency
    )
    clearing = ledger.get_account(
        session, "clearing", disbursement.organization_id, disbursement.currency, None
    )
    ledger.post_transaction(
        session,
        kind="disbursement",
        source_key=f"disbursement:{disbursement.id}",
        postings=[
            ledger.Posting(spending, disbursement.amount_fen),
            ledger.Posting(clearing, -disbursement.amount_fen),
        ],
        description=f"Disbursement {disbursement.id}",
    )


def disbursement_payload(session: Session, disbursement_id: int) -> dict[str, Any]:
    """Immutable, non-personal fields: individuals appear only under their label."""
    d = session.get(Disbursement, disbursement_id)
    if d is None:
        raise LookupError(f"disbursement {disbursement_id} is gone")
    return {
        "disbursement_id": d.id,
        "organization_id": d.organization_id,
        "org_uscc": d.organization.uscc,
        "campaign_id": d.campaign_id,
        "fund_id": d.fund_id,
        "amount_fen": d.amount_fen,
        "currency": d.currency,
        "purpose_category": d.purpose_category,
        "beneficiary_kind": d.beneficiary_kind,
        "beneficiary": d.public_beneficiary,
        "evidence_sha256": d.evidence_sha256,
    }


def check_disbursements(session: Session) -> list[str]:
    """Each executed disbursement is in the ledger exactly once, for its amount; nothing
    else is. Part of ``flask ledger check``."""
    posted: dict[int, list[int]] = {}
    rows = session.execute(
        sa.select(LedgerTransaction.source_key, LedgerEntry.amount_fen)
        .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .join(LedgerAccount, LedgerEntry.account_id == LedgerAccount.id)
        .where(LedgerTransaction.kind == "disbursement", LedgerAccount.kind == "spending")
    ).all()
    for key, amount in rows:
        posted.setdefault(int(key.split(":")[1]), []).append(int(amount))
    problems = []
    for d in session.scalars(sa.select(Disbursement).order_by(Disbursement.id)):
        amounts = posted.pop(d.id, [])
        expected = [d.amount_fen] if d.status == "executed" else []
        if amounts != expected:
            problems.append(f"disbursement {d.id} ({d.status}) has ledger postings {amounts}")
    problems += [f"ledger posting for missing disbursement {i}" for i in posted]
    return problems
