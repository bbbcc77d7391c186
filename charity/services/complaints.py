"""Complaints (举报) from the public about an organization, one of its campaigns or funds
(issue 16 point 15; Charity Law as amended 2023-12-29, art. 108 — art. 97 before the
renumbering: anyone who finds a charitable organization or trust acting unlawfully may
complain to civil affairs, other departments or the sector's associations (投诉、举报),
which must investigate and deal with it promptly).

The platform acknowledges at once with a reference number and a check code (the
contact-free path: with both, an anonymous complainant reads the status and the reply),
and owes a reply within 5 working days (Chinese working days: holidays and 调休 make-up
days from the State Council's notices, ``charity.compliance.rules.dates.add_working_days``).
Admins and the regulator of the organization's province see the queue, the complainant's
data and the evidence; the public log records each step without any of it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, select
from sqlalchemy.orm import Session

from charity.compliance.rules.dates import add_working_days
from charity.core.clock import cst_date
from charity.core.errors import DomainError
from charity.core.events import record_event
from charity.core.permissions import has_platform_role
from charity.models import Campaign, Fund, Organization, User
from charity.models.enforcement import (
    COMPLAINT_CATEGORIES,
    COMPLAINT_TRANSITIONS,
    OPEN_STATUSES,
    Complaint,
)
from charity.ops.mail import Mail, queue_mail
from charity.services import uploads

#: The reply is due within this many working days of receipt.
REPLY_WORKING_DAYS = 5
BODY_MAX = 5000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9][0-9 -]{5,20}$")
#: No 0/O or 1/I: references are read over the phone.
_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


class ComplaintError(DomainError, ValueError):
    """Refused input; ``message`` is a lazy msgid for the form's ``field``."""


@dataclass(frozen=True)
class NewComplaint:
    organization_id: int
    category: str
    body: str
    is_anonymous: bool
    name: str = ""
    email: str = ""
    phone: str = ""
    campaign_id: int | None = None
    fund_id: int | None = None
    evidence: bytes | None = None


def _random(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def hash_code(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


def _check_text(command: NewComplaint) -> str:
    body = command.body.strip()
    if not body or len(body) > BODY_MAX or _CONTROL.search(body):
        raise ComplaintError(
            _l("Describe what happened (at most %(n)s characters).", n=BODY_MAX), "body"
        )
    if command.category not in COMPLAINT_CATEGORIES:
        raise ComplaintError(_l("Choose what the complaint is about."), "category")
    return body


def _contact(command: NewComplaint) -> tuple[str, str, str]:
    """(name, email, phone): empty for an anonymous complaint, whatever was typed."""
    if command.is_anonymous:
        return "", "", ""
    name, email, phone = command.name.strip(), command.email.strip().lower(), command.phone.strip()
    if not name or len(name) > 100 or _CONTROL.search(name):
        raise ComplaintError(_l("Give your name, or choose to complain anonymously."), "name")
    if email and (len(email) > 254 or not _EMAIL.match(email)):
        raise ComplaintError(_l("Enter a valid email address or leave it empty."), "email")
    if phone and not _PHONE.match(phone):
        raise ComplaintError(_l("Enter a valid phone number or leave it empty."), "phone")
    if not email and not phone:
        raise ComplaintError(_l("Give an email address or a phone number."), "email")
    return name, email, phone


def _target(session: Session, command: NewComplaint) -> Organization:
    """The organization complained about; a campaign or fund must be one of its own."""
    organization = session.get(Organization, command.organization_id)
    if organization is None or not organization.is_verified:
        raise LookupError(command.organization_id)
    if command.campaign_id is not None:
        campaign = session.get(Campaign, command.campaign_id)
        if campaign is None or campaign.organization_id != organization.id:
            raise LookupError(command.campaign_id)
    if command.fund_id is not None:
        fund = session.get(Fund, command.fund_id)
        if fund is None or fund.organization_id != organization.id:
            raise LookupError(command.fund_id)
    return organization


def submit_complaint(
    session: Session, command: NewComplaint, upload_dir: str, now: datetime | None = None
) -> tuple[Complaint, str]:
    """Record a complaint; returns it and its check code (shown once, stored hashed).
    Refused with a field error, nothing written: empty or too long text, an unknown
    category, a named complaint without a name or any contact, a malformed e-mail or
    phone, evidence that is not a PDF or an image. An e-mail given gets the
    acknowledgement after the commit."""
    now = now or datetime.now(UTC)
    organization = _target(session, command)
    body = _check_text(command)
    name, email, phone = _contact(command)
    stored = None
    if command.evidence:
        try:
            stored = uploads.store_file(upload_dir, command.evidence)
        except uploads.UploadError as error:
            raise ComplaintError(error.args[0], "evidence") from error
    received_on = cst_date(now)
    code = _random(8)
    complaint = Complaint(
        reference=f"JB{received_on:%Y%m%d}-{_random(8)}",
        check_code_hash=hash_code(code),
        organization_id=organization.id, campaign_id=command.campaign_id,
        fund_id=command.fund_id, category=command.category, body=body,
        is_anonymous=command.is_anonymous, complainant_name=name, complainant_email=email,
        complainant_phone=phone, evidence_sha256=stored.sha256 if stored else None,
        evidence_type=stored.content_type if stored else None, status="received",
        received_at=now, received_on=received_on,
        reply_due_on=add_working_days(received_on, REPLY_WORKING_DAYS),
    )  # fmt: skip
    session.add(complaint)
    session.flush()  # the id, for the log entry
    record_event(session, "complaint.received", subject_id=complaint.id)
    if email:
        queue_mail(_acknowledgement(complaint, organization, email))
    return complaint, code


def _acknowledgement(complaint: Complaint, organization: Organization, email: str) -> Mail:
    return Mail(
        to=email,
        subject=str(_l("Complaint received: %(ref)s", ref=complaint.reference)),
        body=str(
            _l(
                "We received your complaint about %(org)s on %(day)s. Reference: %(ref)s. "
                "A reply is due by %(due)s (5 working days).",
                org=organization.name,
                day=complaint.received_on.isoformat(),
                ref=complaint.reference,
                due=complaint.reply_due_on.isoformat(),
            )
        ),
    )


def find_by_reference(session: Session, reference: str, code: str) -> Complaint | None:
    """The complaint for a reference and its check code (None if either is wrong)."""
    complaint = session.scalar(
        select(Complaint).where(Complaint.reference == reference.strip().upper()[:32])
    )
    if complaint is None or not hmac.compare_digest(complaint.check_code_hash, hash_code(code)):
        return None
    return complaint


# --- handling ---------------------------------------------------------------------------


def may_handle(actor: User | None, organization: Organization) -> bool:
    """Admins, and regulators of the organization's province (or of every province)."""
    if not has_platform_role(actor, ("admin", "regulator")):
        return False
    province = actor.regulator_province if actor.platform_role == "regulator" else None
    return not province or province == organization.province


def _transition(session: Session, actor: User, complaint: Complaint, status: str) -> None:
    if not may_handle(actor, complaint.organization):
        raise PermissionError("admins and the region's regulator only")
    if status not in COMPLAINT_TRANSITIONS[complaint.status]:
        raise ComplaintError(_l("This complaint cannot go to that step now."))
    complaint.status = status
    complaint.handled_by_id = actor.id


def start_review(session: Session, actor: User, complaint: Complaint, now: datetime) -> None:
    _transition(session, actor, complaint, "in_review")
    complaint.reviewed_at = now
    record_event(session, "complaint.in_review", subject_id=complaint.id)


def reply_to_complaint(
    session: Session, actor: User, complaint: Complaint, reply: str, now: datetime
) -> None:
    """Record the reply (the complainant reads it with the reference and check code; an
    e-mail given gets it after the commit)."""
    reply = reply.strip()
    if not reply or len(reply) > BODY_MAX or _CONTROL.search(reply):
        raise ComplaintError(_l("Write the reply (at most %(n)s characters).", n=BODY_MAX), "reply")
    _transition(session, actor, complaint, "replied")
    complaint.reply, complaint.replied_at, complaint.replied_on = reply, now, cst_date(now)
    record_event(session, "complaint.replied", subject_id=complaint.id)
    if complaint.complainant_email:
        queue_mail(
            Mail(
                to=complaint.complainant_email,
                subject=str(_l("Reply to your complaint %(ref)s", ref=complaint.reference)),
                body=reply,
            )
        )


def close_complaint(session: Session, actor: User, complaint: Complaint, now: datetime) -> None:
    _transition(session, actor, complaint, "closed")
    complaint.closed_at = now
    record_event(session, "complaint.closed", subject_id=complaint.id)


# --- the queue and the dashboard ---------------------------------------------------------


def queue(session: Session, province: str | None, limit: int = 200) -> list[Complaint]:
    """Complaints in a province (None: all), open ones first, oldest due date first."""
    query = select(Complaint).join(Organization, Organization.id == Complaint.organization_id)
    if province:
        query = query.where(Organization.province == province)
    is_open = case((Complaint.status.in_(OPEN_STATUSES), 0), else_=1)
    return list(
        session.scalars(query.order_by(is_open, Complaint.reply_due_on, Complaint.id).limit(limit))
    )


def complaint_payload(session: Session, complaint_id: int) -> dict[str, Any]:
    """The public log's view of a complaint: what, about whom, the clock, and the step
    reached. Never the complainant, the text, the evidence or the reply."""
    complaint = session.get(Complaint, complaint_id)
    if complaint is None:
        raise LookupError(complaint_id)
    organization = complaint.organization
    return {
        "complaint_id": complaint.id,
        "organization_id": organization.id,
        "uscc": organization.uscc,
        "campaign_id": complaint.campaign_id,
        "fund_id": complaint.fund_id,
        "category": complaint.category,
        "received_on": complaint.received_on.isoformat(),
        "reply_due_on": complaint.reply_due_on.isoformat(),
    }


def replied_payload(session: Session, complaint_id: int) -> dict[str, Any]:
    payload = complaint_payload(session, complaint_id)
    complaint = session.get(Complaint, complaint_id)
    replied_on = complaint.replied_on if complaint else None
    payload["replied_on"] = replied_on.isoformat() if replied_on else None
    payload["on_time"] = bool(
        replied_on and replied_on <= date.fromisoformat(payload["reply_due_on"])
    )
    return payload
