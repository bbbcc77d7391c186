"""A matching pool sponsor's payments (issue 18 leftover): four eyes on money arriving.

A pool is a sponsor's commitment (``match_commitment``). The sponsor pays it by bank
transfer (对公转账) to the organization holding the pool, never online (docs/givingdays.md
says why). So a payment is entered by hand, and a hand-entered "the money arrived" is
what four eyes exist for: it turns a promise into money the platform shows as received.

- One person records the transfer (:func:`record_payment`): an owner or finance member of
  the pool's organization, or a platform admin, optionally with the bank slip (银行回单:
  a PDF, PNG or JPEG checked by content, stored in the one upload store,
  ``charity.services.uploads``). Nothing is posted yet.
- A second person confirms it (:func:`confirm_payment`): an owner/finance member or an
  admin who is not the recorder and passes ``charity.services.four_eyes`` (a confirmed
  e-mail, two-factor authentication, and, for a member, a role held long enough; an admin
  holds no membership, so the age rule does not apply to them). Only then is
  ``match_receipt`` posted (Dr ``match_received`` / Cr ``match_commitment``) and the
  payment logged publicly (``matching_pool.sponsor_paid``).
- Or the second person rejects it, with a reason (:func:`reject_payment`): nothing posted.

The pool's row lock serializes every decision on a pool: recorded and confirmed
payments together never exceed what the sponsor committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from charity.core.clock import today_cst
from charity.core.events import record_event
from charity.core.permissions import role_in_org
from charity.models import MatchingPool, SponsorPayment, User
from charity.services import approval_mail, four_eyes, ledger, uploads
from charity.services.givingdays import GivingDayError, lock_matching_pool, pool_accounts
from charity.web.i18n import N_

REFERENCE_MAX = 100
NOTE_MAX = 500
REASON_MAX = 300
#: How far back a transfer may be dated (a year: a late entry is fine, a typo is not).
OLDEST_DAYS = 366
#: A bank slip is a bank's PDF or a scan or photo of the paper one (no WebP, no OFD).
SLIP_TYPES = ("application/pdf", "image/png", "image/jpeg")
SLIP_MAX_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class NewSponsorPayment:
    pool_id: int
    amount_fen: int
    received_on: date
    reference: str
    note: str = ""
    #: The bank slip's bytes as uploaded; None: no file was chosen (b"": an empty file).
    slip: bytes | None = None


def may_handle(actor: User, pool: MatchingPool) -> bool:
    """Record, confirm or reject this pool's payments: an admin, or an owner or finance
    member of the organization that holds the pool."""
    if not getattr(actor, "is_authenticated", False):
        return False
    return bool(actor.is_admin) or role_in_org(actor, pool.organization_id) in ("owner", "finance")


def outstanding_fen(session: Session, pool: MatchingPool) -> int:
    """What the sponsor still owes: the commitment minus the confirmed payments."""
    _commitment, received, _pool_account = pool_accounts(session, pool)
    return pool.total_fen - ledger.account_balance(session, received.id)


def _recorded_fen(session: Session, pool_id: int) -> int:
    total = session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(SponsorPayment.amount_fen), 0)).where(
            SponsorPayment.pool_id == pool_id, SponsorPayment.status == "recorded"
        )
    )
    return int(total or 0)


def check_slip(data: bytes) -> str:
    """The bank slip's media type, or GivingDayError("slip") saying what is wrong with it:
    empty, too large, not a PDF/PNG/JPEG by its content (whatever its name or the browser
    says), or damaged (a forged signature does not parse)."""
    if not data:
        raise GivingDayError(N_("The bank slip file is empty."), "slip")
    if len(data) > SLIP_MAX_BYTES:
        raise GivingDayError(
            N_("The bank slip is larger than %(limit)s MB."),
            "slip",
            limit=SLIP_MAX_BYTES // (1024 * 1024),
        )
    media = uploads.sniff(data)
    if media not in SLIP_TYPES:
        raise GivingDayError(N_("The bank slip must be a PDF, PNG or JPEG file."), "slip")
    if not uploads.parses(data, media):
        raise GivingDayError(
            N_("The bank slip is damaged or is not really a PDF or an image."), "slip"
        )
    return media


def record_payment(
    session: Session, actor: User, command: NewSponsorPayment, upload_dir: str = ""
) -> SponsorPayment:
    """The first pair of eyes: the transfer as the bank statement shows it. Refused when it
    (with the payments still waiting for confirmation) is more than the sponsor owes. The
    slip, if any, is stored (``upload_dir``) only once everything else has passed."""
    pool = lock_matching_pool(session, command.pool_id)
    if not may_handle(actor, pool):
        raise PermissionError("not an owner or finance member of the pool's organization")
    reference = (command.reference or "").strip()
    note = (command.note or "").strip()
    if not reference:
        raise GivingDayError(N_("Give the bank's reference of the transfer."), "reference")
    if len(reference) > REFERENCE_MAX:
        raise GivingDayError(N_("The bank reference is too long."), "reference")
    if len(note) > NOTE_MAX:
        raise GivingDayError(N_("The note is too long."), "note")
    today = today_cst()
    if command.received_on > today or command.received_on < today - timedelta(days=OLDEST_DAYS):
        raise GivingDayError(
            N_("The day received must be today or within the last year."), "received_on"
        )
    waiting = _recorded_fen(session, pool.id)
    if not 0 < command.amount_fen <= outstanding_fen(session, pool) - waiting:
        raise GivingDayError(N_("The payment is more than the sponsor still owes."), "amount")
    slip: uploads.StoredFile | None = None
    if command.slip is not None:
        media = check_slip(command.slip)
        if not upload_dir:
            raise ValueError("a bank slip needs the upload directory")
        slip = uploads.store_file(upload_dir, command.slip, SLIP_MAX_BYTES, media=media)
    payment = SponsorPayment(
        pool_id=pool.id,
        amount_fen=command.amount_fen,
        received_on=command.received_on,
        reference=reference,
        note=note,
        slip_sha256=slip.sha256 if slip else None,
        slip_content_type=slip.content_type if slip else None,
        slip_size=slip.size if slip else None,
        status="recorded",
        recorded_by_id=actor.id,
    )
    session.add(payment)
    session.flush()
    approval_mail.queue("sponsor_payment", payment.id)  # who may confirm it, after the commit
    return payment


def _locked(session: Session, payment_id: int) -> tuple[SponsorPayment, MatchingPool]:
    """The payment and its pool, the pool's row locked first (the order of every path)."""
    pool_id = session.scalar(
        sa.select(SponsorPayment.pool_id).where(SponsorPayment.id == payment_id)
    )
    if pool_id is None:
        raise LookupError(payment_id)
    pool = lock_matching_pool(session, pool_id)
    payment = session.scalars(
        sa.select(SponsorPayment)
        .where(SponsorPayment.id == payment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    return payment, pool


def refusal(actor: User, payment: SponsorPayment, pool: MatchingPool) -> str | None:
    """Why ``actor`` may not be this payment's second person (None: they may)."""
    found = four_eyes.second_person_refusal(actor, payment.recorded_by_id, pool.organization_id)
    if found == four_eyes.TOO_NEW and actor.is_admin:
        return None  # an admin holds no membership: the age rule is about memberships
    return found


def _check_decider(actor: User, payment: SponsorPayment, pool: MatchingPool) -> None:
    if not may_handle(actor, pool):
        raise PermissionError("not an owner or finance member of the pool's organization")
    if payment.status != "recorded":
        raise GivingDayError(N_("This payment has been decided already."))
    if actor.id == payment.recorded_by_id:
        raise GivingDayError(four_eyes.OWN_REQUEST)


def confirm_payment(session: Session, actor: User, payment_id: int) -> SponsorPayment:
    """The second pair of eyes: posts ``match_receipt`` and logs ``matching_pool.sponsor_paid``."""
    payment, pool = _locked(session, payment_id)
    _check_decider(actor, payment, pool)
    why = refusal(actor, payment, pool)
    if why is not None:
        raise GivingDayError(why)
    if payment.amount_fen > outstanding_fen(session, pool):  # never more than committed
        raise GivingDayError(N_("The payment is more than the sponsor still owes."))
    commitment, received, _pool_account = pool_accounts(session, pool)
    payment.transaction_id = ledger.post_transaction(
        session,
        kind="match_receipt",
        source_key=f"sponsor_payment:{payment.id}",
        postings=[
            ledger.Posting(received, payment.amount_fen),
            ledger.Posting(commitment, -payment.amount_fen),
        ],
        description=f"Matching pool {pool.id}: sponsor payment {payment.id} confirmed",
    )
    payment.status = "confirmed"
    payment.decided_by_id = actor.id
    payment.decided_at = datetime.now(UTC)
    session.flush()
    record_event(session, "matching_pool.sponsor_paid", subject_id=payment.id)
    return payment


def reject_payment(session: Session, actor: User, payment_id: int, reason: str) -> SponsorPayment:
    """The second person finds no such transfer (or a wrong amount): nothing is posted;
    the record stays with the reason. The recorder may enter it again corrected."""
    payment, pool = _locked(session, payment_id)
    _check_decider(actor, payment, pool)
    reason = (reason or "").strip()
    if not reason:
        raise GivingDayError(N_("Give a reason."), "reason")
    if len(reason) > REASON_MAX:
        raise GivingDayError(N_("The reason is too long."), "reason")
    payment.status = "rejected"
    payment.decided_by_id = actor.id
    payment.decided_at = datetime.now(UTC)
    payment.reject_reason = reason
    session.flush()
    return payment


def payments_of(session: Session, pool_id: int) -> list[SponsorPayment]:
    return list(
        session.scalars(
            sa.select(SponsorPayment)
            .where(SponsorPayment.pool_id == pool_id)
            .order_by(SponsorPayment.id.desc())
        )
    )


def sponsor_paid_payload(session: Session, payment_id: int) -> dict[str, Any]:
    """The public entry of a confirmed payment: which pool, which sponsor, how much, the
    day it arrived, and the SHA-256 of the bank slip when one was attached (the key is
    absent otherwise: entries of payments recorded without a slip keep their payload).
    Not the bank reference, the note, the slip itself or who recorded it."""
    payment = session.get(SponsorPayment, payment_id)
    if payment is None:
        raise LookupError(f"sponsor payment {payment_id} is gone")
    pool = payment.pool
    payload: dict[str, Any] = {
        "sponsor_payment_id": payment.id,
        "pool_id": pool.id,
        "event_id": pool.event_id,
        "organization_id": pool.organization_id,
        "sponsor_uscc": pool.sponsor_uscc or None,
        "amount_fen": payment.amount_fen,
        "currency": pool.currency,
        "received_on": payment.received_on.isoformat(),
    }
    if payment.slip_sha256:
        payload["slip_sha256"] = payment.slip_sha256
    return payload
