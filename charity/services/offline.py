"""Offline gifts recorded by an organization's finance member: bank transfers and cash
boxes (公益墟日 and other events), each with an evidence file.

A recorded offline gift is a Donation (channel ``bank_transfer`` or ``cash_box``) that
succeeds at once: receipt number (when asked for), ledger transaction and the public
``donation.succeeded`` entry, like an online gift. Above OFFLINE_FOUR_EYES_FEN (offline
and in-kind alike) it waits, pending, until a second person confirms it under the
four-eyes rule (charity/services/four_eyes.py); declined, it is failed and nothing was
counted. The evidence is checked by content: its signature and a parse check
(``charity.services.uploads.sniff`` and ``parses``: Pillow opens and verifies an image; a
PDF must have its header, objects, a trailer and ``%%EOF``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy.orm import Session

from charity.auditlog.canonical import donor_commitment, new_salt
from charity.core.clock import today_cst
from charity.core.errors import DomainError
from charity.core.events import record_event
from charity.models import (
    Campaign,
    Donation,
    DonationReversal,
    InKindDetail,
    OfflineGiftDetail,
    Organization,
    User,
    utcnow,
)
from charity.services import approval_mail, donations, four_eyes, ledger, receipts, uploads
from charity.services.campaigns import gift_refusal
from charity.web.i18n import N_

EVIDENCE_MAX_BYTES = 10 * 1024 * 1024


class OfflineGiftError(DomainError, ValueError):
    """A recording we refuse; ``field`` names the form field."""


@dataclass(frozen=True)
class NewOfflineGift:
    organization_id: int
    campaign_id: int | None
    kind: str  # bank_transfer | cash_box
    amount_fen: int
    received_on: date
    evidence: bytes
    #: Bank transfer: the payer (a person or company), the bank's reference.
    payer_name: str = ""
    bank_reference: str = ""
    #: Cash box: the event, place, and the two people who counted.
    event_name: str = ""
    place: str = ""
    counted_by_1: str = ""
    counted_by_2: str = ""
    #: For a receipt on request (a known payer only).
    donor_email: str = ""
    receipt_wanted: bool = False
    consent_show_name: bool = False


def check_evidence(data: bytes) -> str:
    """The evidence's media type, or OfflineGiftError("evidence") with a clear reason."""
    try:
        media = uploads.check_file(data, EVIDENCE_MAX_BYTES)
    except uploads.UploadError as exc:
        raise OfflineGiftError(str(exc), "evidence") from exc
    if not uploads.parses(data, media):
        raise OfflineGiftError(
            N_("The evidence file is damaged or is not really a PDF or an image."), "evidence"
        )
    return media


def require_verified(session: Session, organization_id: int) -> Organization:
    """Only a verified organization takes gifts or issues receipts: an applying (or
    rejected) one can record nothing, whatever its members' roles."""
    organization = session.get(Organization, organization_id)
    if organization is None or not organization.is_verified:
        raise OfflineGiftError(
            N_("Only a verified organization can record gifts or issue receipts."), None
        )
    return organization


def _check(session: Session, command: NewOfflineGift) -> Campaign | None:
    require_verified(session, command.organization_id)
    if command.kind not in ("bank_transfer", "cash_box"):
        raise OfflineGiftError(N_("Choose how the gift arrived."), "kind")
    if command.amount_fen <= 0:
        raise OfflineGiftError(N_("Enter the amount received."), "amount")
    if command.received_on > today_cst():
        raise OfflineGiftError(N_("The date cannot be in the future."), "received_on")
    if command.kind == "bank_transfer":
        if not command.payer_name.strip():
            raise OfflineGiftError(N_("Enter the payer."), "payer_name")
        if not command.bank_reference.strip():
            raise OfflineGiftError(N_("Enter the bank reference."), "bank_reference")
    else:
        if not command.event_name.strip():
            raise OfflineGiftError(N_("Enter the event."), "event_name")
        if not command.place.strip():
            raise OfflineGiftError(N_("Enter the place."), "place")
        first, second = command.counted_by_1.strip(), command.counted_by_2.strip()
        if not first or not second or first == second:
            raise OfflineGiftError(
                N_("Cash must be counted by two different people."), "counted_by_2"
            )
    if command.receipt_wanted and command.kind == "cash_box":
        raise OfflineGiftError(
            N_("A cash box has no known donor to receive a receipt."), "receipt_wanted"
        )
    if command.campaign_id is None:
        return None
    campaign = session.get(Campaign, command.campaign_id)
    if campaign is None or campaign.organization_id != command.organization_id:
        raise OfflineGiftError(N_("Choose one of your campaigns."), "campaign_id")
    if campaign.status == "draft":
        raise OfflineGiftError(N_("Choose one of your campaigns."), "campaign_id")
    refusal = gift_refusal(campaign, command.received_on)
    if refusal is not None:
        raise OfflineGiftError(str(refusal), "campaign_id")
    return campaign


def record_offline_gift(
    session: Session, actor: User, command: NewOfflineGift, upload_dir: str
) -> Donation:
    """Record, number, post and log an offline gift. The caller has checked the role."""
    campaign = _check(session, command)
    media = check_evidence(command.evidence)
    organization = session.get_one(Organization, command.organization_id)
    stored = uploads.store_file(upload_dir, command.evidence, EVIDENCE_MAX_BYTES)
    assert stored.content_type == media
    payer = command.payer_name.strip() if command.kind == "bank_transfer" else ""
    email = command.donor_email.strip().lower()
    salt = new_salt()
    donation = Donation(
        organization_id=organization.id,
        campaign=campaign,
        amount_fen=command.amount_fen,
        currency="CNY",
        channel=command.kind,
        status="pending",
        donor_name=payer or None,
        donor_email=email or None,
        is_anonymous=not command.consent_show_name,
        consent_show_name=bool(payer) and command.consent_show_name,
        message="",
        commitment_salt=salt,
        donor_commitment=donor_commitment(salt, donations.donor_data(payer, email)),
        receipt_waived=not command.receipt_wanted,
    )
    session.add(donation)
    session.flush()  # the id for the detail row, the ledger and the log
    session.add(
        OfflineGiftDetail(
            donation_id=donation.id,
            kind=command.kind,
            received_on=command.received_on,
            bank_reference=command.bank_reference.strip(),
            event_name=command.event_name.strip(),
            place=command.place.strip(),
            counted_by_1=command.counted_by_1.strip(),
            counted_by_2=command.counted_by_2.strip(),
            evidence_sha256=stored.sha256,
            evidence_content_type=stored.content_type,
            evidence_size=stored.size,
            recorded_by_id=actor.id,
        )
    )
    if not needs_second_person(donation.amount_fen):
        _succeed(session, donation, ledger.post_donation)
    else:
        approval_mail.queue("gift", donation.id)  # the other finance members, after the commit
    return donation


@dataclass(frozen=True)
class NewInKindGift:
    organization_id: int
    campaign_id: int | None
    description: str
    quantity: Decimal
    unit: str
    valuation_fen: int
    valuation_basis: str
    received_on: date
    donor_name: str = ""
    donor_email: str = ""
    receipt_wanted: bool = False
    consent_show_name: bool = False


def _campaign_of(session: Session, organization_id: int, campaign_id: int | None):  # type: ignore[no-untyped-def]
    if campaign_id is None:
        return None
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or campaign.organization_id != organization_id:
        raise OfflineGiftError(N_("Choose one of your campaigns."), "campaign_id")
    if campaign.status == "draft":
        raise OfflineGiftError(N_("Choose one of your campaigns."), "campaign_id")
    return campaign


def _succeed(session: Session, donation: Donation, post) -> None:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)
    donation.status = "succeeded"
    donation.succeeded_at = now
    if not donation.receipt_waived:
        receipts.assign_receipt_number(session, donation, now)
    post(session, donation)
    session.flush()
    donation.log_index = donations.log_index_of(
        record_event(session, "donation.succeeded", subject_id=donation.id)
    )
    # Counted, and the receipt mailed to a payer who asked for one, after the commit.
    donations.note_succeeded(session, donation, mail=not donation.receipt_waived)


def record_in_kind_gift(session: Session, actor: User, command: NewInKindGift) -> Donation:
    """Goods (物资): valued in fen with its basis, posted to the in-kind accounts only."""
    require_verified(session, command.organization_id)
    if not command.description.strip():
        raise OfflineGiftError(N_("Describe the goods."), "description")
    if command.quantity <= 0:
        raise OfflineGiftError(N_("Enter a quantity above zero."), "quantity")
    if not command.unit.strip():
        raise OfflineGiftError(N_("Enter the unit."), "unit")
    if command.valuation_fen <= 0:
        raise OfflineGiftError(N_("Enter the value of the goods."), "valuation")
    if not command.valuation_basis.strip():
        raise OfflineGiftError(N_("Say how the value was set."), "valuation_basis")
    if command.received_on > today_cst():
        raise OfflineGiftError(N_("The date cannot be in the future."), "received_on")
    campaign = _campaign_of(session, command.organization_id, command.campaign_id)
    name, email = command.donor_name.strip(), command.donor_email.strip().lower()
    salt = new_salt()
    donation = Donation(
        organization_id=command.organization_id,
        campaign=campaign,
        amount_fen=command.valuation_fen,
        currency="CNY",
        channel="in_kind",
        status="pending",
        donor_name=name or None,
        donor_email=email or None,
        is_anonymous=not command.consent_show_name,
        consent_show_name=bool(name) and command.consent_show_name,
        message="",
        commitment_salt=salt,
        donor_commitment=donor_commitment(salt, donations.donor_data(name, email)),
        receipt_waived=not command.receipt_wanted,
    )
    session.add(donation)
    session.flush()  # the id for the detail row
    session.add(
        InKindDetail(
            donation_id=donation.id,
            description=command.description.strip(),
            quantity=command.quantity,
            unit=command.unit.strip(),
            valuation_basis=command.valuation_basis.strip(),
            received_on=command.received_on,
            recorded_by_id=actor.id,
        )
    )
    if not needs_second_person(donation.amount_fen):
        _succeed(session, donation, ledger.post_in_kind)
    else:
        approval_mail.queue("gift", donation.id)  # the other finance members, after the commit
    return donation


# --- four eyes above OFFLINE_FOUR_EYES_FEN (issue 15) ---

DEFAULT_FOUR_EYES_FEN = 5_000_000
DECIDERS = ("owner", "finance")


def four_eyes_fen() -> int:
    if not has_app_context():
        return DEFAULT_FOUR_EYES_FEN
    return int(current_app.config.get("OFFLINE_FOUR_EYES_FEN", DEFAULT_FOUR_EYES_FEN))


def needs_second_person(amount_fen: int) -> bool:
    """Above OFFLINE_FOUR_EYES_FEN a recorded gift waits for a second person: it asserts
    money the organization received, and its receipt (公益事业捐赠票据 on request, CL 38)
    is a tax document, so one member alone cannot issue it."""
    return amount_fen > four_eyes_fen()


def _detail(session: Session, donation: Donation) -> OfflineGiftDetail | InKindDetail:
    model = InKindDetail if donation.channel == "in_kind" else OfflineGiftDetail
    detail = session.get(model, donation.id)
    if detail is None:
        raise LookupError(donation.id)
    return detail


def awaiting_confirmation(session: Session, organization_id: int) -> list[Donation]:
    """Recorded gifts waiting for a second person, oldest first."""
    return list(
        session.scalars(
            sa.select(Donation)
            .where(
                Donation.organization_id == organization_id,
                Donation.channel.in_(REVERSIBLE_CHANNELS),
                Donation.status == "pending",
            )
            .order_by(Donation.id)
        )
    )


def recorder_id(session: Session, donation: Donation) -> int:
    return _detail(session, donation).recorded_by_id


def confirmation_refusal(session: Session, actor: User, donation: Donation) -> str | None:
    """Why ``actor`` may not confirm this gift (four_eyes.py), None if they may."""
    return four_eyes.second_person_refusal(
        actor, recorder_id(session, donation), donation.organization_id
    )


def _pending_gift(
    session: Session, actor: User, organization_id: int, donation_id: int
) -> tuple[Donation, OfflineGiftDetail | InKindDetail]:
    donation = donations.lock_donation(session, donation_id)
    if donation.organization_id != organization_id or donation.channel not in REVERSIBLE_CHANNELS:
        raise LookupError(donation_id)
    if actor.role_in(organization_id) not in DECIDERS:
        raise PermissionError("only finance staff confirm gifts")
    if donation.status != "pending":
        raise OfflineGiftError(N_("This gift has been decided already."))
    return donation, _detail(session, donation)


def confirm_gift(session: Session, actor: User, organization_id: int, donation_id: int) -> Donation:
    """The second person confirms: now the receipt number, the ledger transaction and the
    public ``donation.succeeded`` entry (as for any recorded gift)."""
    donation, detail = _pending_gift(session, actor, organization_id, donation_id)
    require_verified(session, organization_id)
    refusal = four_eyes.second_person_refusal(actor, detail.recorded_by_id, organization_id)
    if refusal is not None:
        raise OfflineGiftError(refusal)
    detail.confirmed_by_id, detail.decided_at = actor.id, utcnow()
    post = ledger.post_in_kind if donation.channel == "in_kind" else ledger.post_donation
    _succeed(session, donation, post)
    return donation


def decline_gift(
    session: Session, actor: User, organization_id: int, donation_id: int, reason: str
) -> Donation:
    """Not confirmed (a mistake, no such transfer on the statement): nothing is counted,
    numbered or logged publicly; the row stays, failed, with the reason."""
    donation, detail = _pending_gift(session, actor, organization_id, donation_id)
    if not reason.strip():
        raise OfflineGiftError(N_("Give the reason."), "reason")
    detail.declined_by_id, detail.decided_at = actor.id, utcnow()
    donation.status = "failed"
    donation.failure_message = reason.strip()[:300]
    return donation


REVERSIBLE_CHANNELS = ("bank_transfer", "cash_box", "in_kind")


@dataclass(frozen=True)
class ReverseGift:
    organization_id: int
    donation_id: int
    reason: str


def reverse_gift(session: Session, actor: User, command: ReverseGift) -> DonationReversal:
    """Correct a wrongly recorded offline or in-kind gift by a new, reasoned, logged
    transaction that mirrors the original. Nothing is edited away or deleted."""
    reason = command.reason.strip()
    if not reason:
        raise OfflineGiftError(N_("Give the reason for the correction."), "reason")
    donation = donations.lock_donation(session, command.donation_id)
    if donation.organization_id != command.organization_id:
        raise LookupError(command.donation_id)
    if donation.channel not in REVERSIBLE_CHANNELS:
        raise OfflineGiftError(N_("Only offline and in-kind gifts are corrected here."), "reason")
    if donation.status != "succeeded":
        raise OfflineGiftError(N_("This gift cannot be reversed now."), "reason")
    reversal = DonationReversal(donation_id=donation.id, reason=reason, created_by_id=actor.id)
    session.add(reversal)
    session.flush()  # the id for the ledger source key and the log
    ledger.post_reversal(session, donation, reversal.id)
    donation.status = "reversed"
    record_event(
        session, "donation.reversed", subject_table="donation_reversals", subject_id=reversal.id
    )
    return reversal


def reversed_payload(session: Session, reversal_id: int) -> dict[str, Any]:
    reversal = session.get(DonationReversal, reversal_id)
    if reversal is None:
        raise LookupError(f"reversal {reversal_id} is gone")
    donation = session.get_one(Donation, reversal.donation_id)
    return {
        "reversal_id": reversal.id,
        "donation_id": donation.id,
        "organization_id": donation.organization_id,
        "campaign_id": donation.campaign_id,
        "amount_fen": donation.amount_fen,
        "currency": donation.currency,
        "channel": donation.channel,
        "receipt_number": receipts.receipt_as_of(donation, reversal.created_at)[0],
    }
