"""Refunds above REFUND_FOUR_EYES_FEN need two people (issue 15: four eyes for every
outflow; 慈善法 art. 105 holds the organization's responsible people to account for money
misapplied, so no one of them moves a large sum alone).

A finance member or owner *requests* the refund: it is checked as any refund is (a reason,
no more than remains, no money already spent) and waits, with a public log entry
``donation.refund_requested``. A *different* person approves it under the four-eyes rule
(charity/services/four_eyes.py: not the requester, confirmed e-mail, two-factor
authentication, a role held long enough): only then is the money given back at the
provider, with the ``donation.refunded`` entry every refund has. Either of them (or any
other finance member) may turn it down with a reason (``donation.refund_rejected``).
Refunds at or below the threshold are made at once, as before (``donations.refund_donation``).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from charity.core.errors import DomainError
from charity.core.events import record_event
from charity.models import Donation, RefundRequest, User, utcnow
from charity.services import approval_mail, donations, four_eyes
from charity.web.i18n import N_

DECIDERS = ("owner", "finance")


class RefundApprovalError(DomainError, ValueError):
    """A refusal (charity.core.errors.DomainError)."""


def pending_requests(session: Session, organization_id: int) -> list[RefundRequest]:
    return list(
        session.scalars(
            sa.select(RefundRequest)
            .join(Donation, Donation.id == RefundRequest.donation_id)
            .where(Donation.organization_id == organization_id, RefundRequest.status == "pending")
            .order_by(RefundRequest.id)
        )
    )


def pending_for(session: Session, donation_id: int) -> RefundRequest | None:
    return session.scalars(
        sa.select(RefundRequest).where(
            RefundRequest.donation_id == donation_id, RefundRequest.status == "pending"
        )
    ).first()


def request_refund(
    session: Session, actor: User, command: donations.RefundCommand
) -> RefundRequest:
    """Check the refund as if it were made now, and keep it for a second person."""
    donation = donations.lock_donation(session, command.donation_id)
    if actor.role_in(donation.organization_id) not in DECIDERS:
        raise PermissionError("only finance staff request refunds")
    donations.check_refund(session, donation, command.amount_fen, command.reason)
    if pending_for(session, donation.id) is not None:
        raise RefundApprovalError(
            N_("A refund of this gift is already waiting for a second person."), "amount"
        )
    request = RefundRequest(
        donation_id=donation.id,
        amount_fen=command.amount_fen,
        currency=donation.currency,
        reason=command.reason.strip(),
        requested_by_id=actor.id,
        status="pending",
    )
    session.add(request)
    session.flush()  # the id for the log entry
    record_event(session, "donation.refund_requested", subject_id=request.id)
    approval_mail.queue("refund", request.id)  # the other finance members, after the commit
    return request


def _locked(session: Session, organization_id: int, request_id: int) -> RefundRequest:
    request = session.scalars(
        sa.select(RefundRequest)
        .where(RefundRequest.id == request_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if request is None or request.donation.organization_id != organization_id:
        raise LookupError(request_id)
    return request


def approval_refusal(actor: User, request: RefundRequest) -> str | None:
    """Why ``actor`` may not be this refund's second person (None: they may)."""
    return four_eyes.second_person_refusal(
        actor, request.requested_by_id, request.donation.organization_id
    )


def approve_request(
    session: Session, actor: User, organization_id: int, request_id: int, site_url: str = ""
) -> RefundRequest:
    """The second person approves: the refund is made now, checked again under the
    donation's lock (another refund or a disbursement may have come in between)."""
    request = _locked(session, organization_id, request_id)
    if actor.role_in(organization_id) not in DECIDERS:
        raise PermissionError("only finance staff approve refunds")
    if request.status != "pending":
        raise RefundApprovalError(N_("This refund has been decided already."))
    refusal = approval_refusal(actor, request)
    if refusal is not None:
        raise RefundApprovalError(refusal)
    donation = donations.lock_donation(session, request.donation_id)
    try:
        donations.check_refund(session, donation, request.amount_fen, request.reason)
    except donations.DonationError as error:
        raise RefundApprovalError(error.message) from error
    requester = session.get_one(User, request.requested_by_id)
    refund = donations.make_refund(
        session, donation, request.amount_fen, request.reason, requester, site_url
    )
    request.status, request.approved_by_id, request.decided_at = "approved", actor.id, utcnow()
    request.refund_id = refund.id
    return request


def reject_request(
    session: Session, actor: User, organization_id: int, request_id: int, reason: str
) -> RefundRequest:
    """Turn it down (no money moves, so one person may: the requester withdrawing it, or
    any other finance member)."""
    request = _locked(session, organization_id, request_id)
    if actor.role_in(organization_id) not in DECIDERS:
        raise PermissionError("only finance staff decide on refunds")
    if request.status != "pending":
        raise RefundApprovalError(N_("This refund has been decided already."))
    if not reason.strip():
        raise RefundApprovalError(N_("Give a reason for the rejection."), "reason")
    request.status, request.rejected_by_id, request.decided_at = "rejected", actor.id, utcnow()
    request.rejection_reason = reason.strip()[:500]
    record_event(session, "donation.refund_rejected", subject_id=request.id)
    return request


def request_payload(session: Session, request_id: int) -> dict[str, Any]:
    """The public data of ``donation.refund_requested``/``refund_rejected``: what never
    changes on the row (never the people, never the reason's text)."""
    request = session.get(RefundRequest, request_id)
    if request is None:
        raise LookupError(f"refund request {request_id} is gone")
    donation = request.donation
    return {
        "refund_request_id": request.id,
        "donation_id": donation.id,
        "organization_id": donation.organization_id,
        "org_uscc": donation.organization.uscc,
        "campaign_id": donation.campaign_id,
        "amount_fen": request.amount_fen,
        "currency": request.currency,
    }
