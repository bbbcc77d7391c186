"""Organizations: applications, verification, members.

Public log payloads for organization events are built here from immutable fields only
(id, USCC and the type it implies), so `flask audit verify` can recompute them.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, fields
from datetime import date, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, false, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from stdnum.cn import uscc
from stdnum.exceptions import InvalidChecksum, ValidationError

from charity.core import regions
from charity.core.clock import today_cst
from charity.core.errors import DomainError
from charity.core.events import record_event
from charity.core.permissions import ensure_org_role, ensure_platform_role
from charity.core.uow import after_commit
from charity.models import Invitation, Membership, Organization, User, utcnow
from charity.models.organization import USCC_TYPE_DIGIT
from charity.models.user import MEMBER_ROLES
from charity.ops import jobs
from charity.services.compliance_triggers import record_compliance_trigger

STOP_MONTHLY_JOB = "charity.services.recurring_stops.stop_for_qualification_loss"


def organization_payload(session: Session, organization_id: int) -> dict[str, Any]:
    organization = session.get(Organization, organization_id)
    if organization is None:
        raise LookupError(f"organization {organization_id} is gone")
    return {
        "organization_id": organization.id,
        "org_uscc": organization.uscc,
        "org_type": organization.org_type,
    }


def member_added_payload(session: Session, membership_id: int) -> dict[str, Any]:
    membership = session.get(Membership, membership_id)
    if membership is None:
        raise LookupError(f"membership {membership_id} is gone")
    payload = organization_payload(session, membership.organization_id)
    payload["membership_id"] = membership.id
    return payload


# --- errors and checks ------------------------------------------------------------------


class OrganizationError(DomainError):
    """A domain error the view maps back onto a form field (``field``), or the page."""


class NotAllowedError(OrganizationError):
    """The actor may not do this (the view answers 403)."""

    def __init__(self, message: str = "You may not change this organization.") -> None:
        super().__init__(message)


def normalize_uscc(value: str) -> str:
    return uscc.compact(value or "").upper()


def org_type_from_uscc(value: str) -> str:
    """Check a USCC and return the organization type its second character gives.

    Raises OrganizationError(..., "uscc") saying exactly what is wrong.
    """
    code = normalize_uscc(value)
    try:
        uscc.validate(code)
    except InvalidChecksum:
        raise OrganizationError(
            _l("The check character (the last one) is wrong: please check the code."), "uscc"
        ) from None
    except ValidationError:
        raise OrganizationError(
            _l("A USCC has 18 characters: digits and capital letters (no I, O, S, V, Z)."), "uscc"
        ) from None
    if code[0] != "5":
        raise OrganizationError(
            _l(
                "This is not a civil-affairs registration: codes of charitable organizations "
                "start with 5."
            ),
            "uscc",
        )
    if code[1] not in USCC_TYPE_DIGIT:
        raise OrganizationError(
            _l(
                "Unknown organization type: the second character must be 1 (social group), "
                "2 (social service institution) or 3 (foundation)."
            ),
            "uscc",
        )
    return USCC_TYPE_DIGIT[code[1]]


def check_qualification(number: str, authority: str, issued_on: date | None) -> None:
    """公开募捐资格: all three parts or none; never dated in the future."""
    given = [bool(number), bool(authority), issued_on is not None]
    if any(given) and not all(given):
        missing = [
            field for field, present in zip(QUALIFICATION_FIELDS, given, strict=True) if not present
        ]
        raise OrganizationError(
            _l("Give the certificate number, the issuing authority and the date, or none of them."),
            missing[0],
        )
    if issued_on is not None and issued_on > today_cst():
        raise OrganizationError(_l("The date cannot be in the future."), "qualification_date")


QUALIFICATION_FIELDS = ("qualification_number", "qualification_authority", "qualification_date")


# --- applications and review --------------------------------------------------------------


@dataclass(frozen=True)
class ApplicationData:
    """What an applicant types (already stripped and length-checked by the form)."""

    name: str
    uscc: str
    registration_authority: str
    province: str
    city: str
    district: str
    address: str
    contact_name: str
    contact_phone: str
    contact_email: str
    website: str
    description_md: str
    qualification_number: str = ""
    qualification_authority: str = ""
    qualification_date: date | None = None
    #: 登记/认定日期: legal registration or recognition as a charitable organization.
    registered_on: date | None = None


#: The People's Republic's first registrations; an earlier date is a typing mistake.
EARLIEST_REGISTRATION = date(1949, 10, 1)


def _check_application(data: ApplicationData) -> str:
    if not regions.is_province(data.province):
        raise OrganizationError(_l("Choose a province from the list."), "province")
    if data.registered_on is not None and data.registered_on > today_cst():
        raise OrganizationError(_l("The date cannot be in the future."), "registered_on")
    if data.registered_on is not None and data.registered_on < EARLIEST_REGISTRATION:
        raise OrganizationError(_l("Check the date: it is too early."), "registered_on")
    check_qualification(
        data.qualification_number, data.qualification_authority, data.qualification_date
    )
    return org_type_from_uscc(data.uscc)


def _uscc_taken(
    session: Session, code: str, except_id: int | None = None, applicant: User | None = None
) -> bool:
    """Whether a verified organization has the code, or ``applicant`` already has an open
    application for it. Someone else's pending or rejected application never blocks a
    code (issue 15 finding 10): whoever proves the registration to the reviewer gets it."""
    verified = Organization.status == "verified"
    mine = (
        (Organization.applied_by_id == applicant.id) & (Organization.status == "pending")
        if applicant is not None
        else false()
    )
    query = select(Organization.id).where(Organization.uscc == code, verified | mine)
    if except_id is not None:
        query = query.where(Organization.id != except_id)
    return session.scalar(query.limit(1)) is not None


DUPLICATE_USCC = _l("An organization with this USCC is already registered or has applied.")


def _store_application(session: Session, organization: Organization, data: ApplicationData):  # type: ignore[no-untyped-def]
    organization.org_type = _check_application(data)
    code = normalize_uscc(data.uscc)
    if _uscc_taken(session, code, organization.id, organization.applied_by):
        raise OrganizationError(DUPLICATE_USCC, "uscc")
    for field in fields(ApplicationData):
        setattr(organization, field.name, getattr(data, field.name))
    organization.uscc = code
    for name in QUALIFICATION_FIELDS:
        setattr(organization, name, getattr(data, name) or None)
    organization.contact_email = data.contact_email.lower()
    try:
        # A savepoint, so that a concurrent application with the same USCC (caught only
        # by the unique constraint) becomes a field error and the request can go on.
        with session.begin_nested():
            session.add(organization)
            session.flush()
    except IntegrityError:
        raise OrganizationError(DUPLICATE_USCC, "uscc") from None


def apply_for_organization(session: Session, actor: User, data: ApplicationData) -> Organization:
    """A new application (pending); the applicant becomes its owner."""
    if actor.platform_role == "regulator":
        raise NotAllowedError(_l("Regulators cannot register organizations."))
    organization = Organization(status="pending", applied_by=actor)
    _store_application(session, organization, data)
    membership = Membership(user=actor, organization=organization, role="owner")
    session.add(membership)
    session.flush()  # membership id for later events
    return organization


def update_application(
    session: Session, actor: User, organization: Organization, data: ApplicationData
) -> Organization:
    """Owners edit a pending or rejected application; a rejected one goes back to review."""
    ensure_org_role(actor, organization.id, ("owner",), error=NotAllowedError, verified_email=True)
    if organization.status == "verified":
        raise OrganizationError(
            _l("A verified organization's registration cannot be edited."), None
        )
    _store_application(session, organization, data)
    if organization.status == "rejected":
        organization.status = "pending"
    return organization


def pending_applications(session: Session) -> list[Organization]:
    query = (
        select(Organization)
        .where(Organization.status == "pending")
        .order_by(Organization.created_at, Organization.id)
    )
    return list(session.scalars(query))


USCC_ALREADY_VERIFIED = _l("Another organization with this USCC is already verified.")


def approve_organization(session: Session, actor: User, organization: Organization) -> None:
    """Verify an application; only one organization per USCC can be verified (a partial
    unique index decides between two approvals racing)."""
    if _uscc_taken(session, organization.uscc, organization.id):
        raise OrganizationError(USCC_ALREADY_VERIFIED)
    _review(actor, organization, "verified", "")
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise OrganizationError(USCC_ALREADY_VERIFIED) from None
    record_event(session, "organization.verified", subject_id=organization.id)
    # Members become public with the organization: log those added while it was pending.
    for membership in organization.active_memberships:
        record_event(session, "organization.member_added", subject_id=membership.id)


def reject_organization(
    session: Session, actor: User, organization: Organization, reason: str
) -> None:
    if not reason.strip():
        raise OrganizationError(_l("Give the applicant a reason for the rejection."), "reason")
    _review(actor, organization, "rejected", reason.strip())
    record_event(session, "organization.rejected", subject_id=organization.id)


def _review(actor: User, organization: Organization, status: str, reason: str) -> None:
    if not actor.is_admin:
        raise NotAllowedError(_l("Only platform administrators review applications."))
    if organization.status != "pending":
        raise OrganizationError(_l("This application has already been reviewed."))
    organization.status = status
    organization.review_reason = reason
    organization.reviewed_at = utcnow()
    organization.reviewed_by_id = actor.id


# --- members ------------------------------------------------------------------------------

INVITATION_LIFETIME = timedelta(days=7)
LAST_OWNER = _l("An organization always keeps an owner: add another owner first.")


def _active_owners(organization: Organization) -> list[Membership]:
    return [m for m in organization.active_memberships if m.role == "owner"]


def _add_member(session: Session, organization: Organization, user: User, role: str) -> Membership:
    """Create the membership, or reactivate the ended one (rows are never deleted)."""
    if user.is_regulator:
        # Regulators oversee organizations; they never act for one.
        raise OrganizationError(_l("Regulator accounts cannot join an organization."), "email")
    membership = session.scalar(
        select(Membership).where(
            Membership.organization_id == organization.id, Membership.user_id == user.id
        )
    )
    if membership is not None and membership.is_active:
        raise OrganizationError(_l("This person is already a member."), "email")
    if membership is None:
        membership = Membership(organization=organization, user=user, role=role)
        session.add(membership)
    else:
        membership.role = role
        membership.ended_at = None
        membership.since = utcnow()  # a new spell: the four-eyes age starts again
    session.flush()  # the membership id goes into the event
    if organization.is_verified:
        record_event(session, "organization.member_added", subject_id=membership.id)
    return membership


@dataclass(frozen=True)
class InviteResult:
    membership: Membership | None = None
    invitation: Invitation | None = None
    #: The secret for the emailed link (only for a new invitation).
    token: str | None = None


def invite_member(
    session: Session, actor: User, organization: Organization, email: str, role: str
) -> InviteResult:
    """An expiring emailed invitation, whether or not the address has an account: nobody
    becomes a member without opening the link and accepting, signed in with that address
    (issue 15 findings 5 and 11), and the owner learns nothing about who has an account."""
    ensure_org_role(actor, organization.id, ("owner",), error=NotAllowedError, verified_email=True)
    if role not in MEMBER_ROLES:
        raise OrganizationError(_l("Choose a role from the list."), "role")
    email = email.strip().lower()
    if any(m.user.email.lower() == email for m in organization.active_memberships):
        raise OrganizationError(_l("This person is already a member."), "email")
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        organization=organization,
        email=email,
        role=role,
        token_hash=hash_token(token),
        expires_at=utcnow() + INVITATION_LIFETIME,
        invited_by_id=actor.id,
    )
    session.add(invitation)
    session.flush()
    return InviteResult(invitation=invitation, token=token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def find_invitation(session: Session, token: str) -> Invitation | None:
    return session.scalar(select(Invitation).where(Invitation.token_hash == hash_token(token)))


def accept_invitation(session: Session, actor: User, token: str) -> Membership:
    invitation = find_invitation(session, token)
    if invitation is None or not invitation.is_open:
        raise OrganizationError(_l("This invitation is not valid or has already been used."))
    if invitation.is_expired:
        raise OrganizationError(
            _l("This invitation has expired. Ask the owner for a new one."), None
        )
    if actor.email.lower() != invitation.email:
        raise NotAllowedError(_l("This invitation was sent to another email address."))
    membership = _add_member(session, invitation.organization, actor, invitation.role)
    invitation.accepted_at = utcnow()
    if actor.email_verified_at is None:
        # The link went to this address, and its holder is signed in with it.
        actor.email_verified_at = invitation.accepted_at
    return membership


def revoke_invitation(
    session: Session, actor: User, organization: Organization, invitation_id: int
) -> Invitation:
    ensure_org_role(actor, organization.id, ("owner",), error=NotAllowedError, verified_email=True)
    invitation = session.get(Invitation, invitation_id)
    if invitation is None or invitation.organization_id != organization.id:
        raise OrganizationError(_l("This invitation does not exist."))
    if not invitation.is_open:
        raise OrganizationError(_l("This invitation has already been used."))
    invitation.revoked_at = utcnow()
    return invitation


def _member_of(organization: Organization, membership_id: int) -> Membership:
    for membership in organization.active_memberships:
        if membership.id == membership_id:
            return membership
    raise OrganizationError(_l("This person is not a member."))


def change_member_role(
    session: Session, actor: User, organization: Organization, membership_id: int, role: str
) -> Membership:
    ensure_org_role(actor, organization.id, ("owner",), error=NotAllowedError, verified_email=True)
    if role not in MEMBER_ROLES:
        raise OrganizationError(_l("Choose a role from the list."), "role")
    membership = _member_of(organization, membership_id)
    if membership.role == "owner" and role != "owner" and len(_active_owners(organization)) == 1:
        raise OrganizationError(LAST_OWNER, "role")
    membership.role = role
    return membership


def remove_member(
    session: Session, actor: User, organization: Organization, membership_id: int
) -> Membership:
    ensure_org_role(actor, organization.id, ("owner",), error=NotAllowedError, verified_email=True)
    membership = _member_of(organization, membership_id)
    if membership.role == "owner" and len(_active_owners(organization)) == 1:
        raise OrganizationError(LAST_OWNER)
    membership.ended_at = utcnow()
    return membership


def open_invitations(session: Session, organization: Organization) -> list[Invitation]:
    query = (
        select(Invitation)
        .where(
            Invitation.organization_id == organization.id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > utcnow(),
        )
        .order_by(Invitation.created_at)
    )
    return list(session.scalars(query))


# --- the public directory -----------------------------------------------------------------

DIRECTORY_PAGE_SIZE = 20


@dataclass(frozen=True)
class DirectoryQuery:
    text: str = ""
    province: str = ""
    org_type: str = ""
    #: "yes", "no" or "" (either).
    qualified: str = ""


def directory_select(query: DirectoryQuery) -> Select:
    """Verified organizations matching the search, by name."""
    statement = select(Organization).where(Organization.status == "verified")
    if query.text:
        statement = statement.where(
            or_(
                Organization.name.icontains(query.text, autoescape=True),
                Organization.uscc == normalize_uscc(query.text),
            )
        )
    if query.province:
        statement = statement.where(Organization.province == query.province)
    if query.org_type:
        statement = statement.where(Organization.org_type == query.org_type)
    if query.qualified == "yes":
        statement = statement.where(Organization.qualification_number.is_not(None))
    elif query.qualified == "no":
        statement = statement.where(Organization.qualification_number.is_(None))
    return statement.order_by(Organization.name, Organization.id)


# --- the receiving payment account ---------------------------------------------------------

#: A Stripe account id as Stripe issues them (``acct_`` and letters/digits).
STRIPE_ACCOUNT_RE = re.compile(r"^acct_[A-Za-z0-9]{6,64}$")


def check_payment_account(actor: User, organization: Organization, account_id: str) -> str | None:
    """The owner names the organization's own Stripe account, which receives its gifts
    directly (the platform never holds donors' money): the cleaned id, or None when it is
    the current one. The change then waits (charity.services.payout_changes)."""
    ensure_org_role(actor, organization.id, ("owner",), error=NotAllowedError, verified_email=True)
    if not organization.is_verified:
        raise OrganizationError(_l("Only a verified organization can receive gifts."))
    account_id = account_id.strip()
    if not STRIPE_ACCOUNT_RE.match(account_id):
        raise OrganizationError(
            _l("Enter the Stripe account id, which starts with acct_."), "stripe_account_id"
        )
    return None if account_id == organization.stripe_account_id else account_id


def apply_payment_account(session: Session, organization: Organization, account_id: str) -> None:
    """Gifts are paid into this Stripe account from now on. Logged: donors and regulators
    can see when the receiving account changed."""
    organization.stripe_account_id = account_id
    record_event(
        session,
        "organization.payment_account_set",
        {**organization_payload(session, organization.id), "stripe_account_id": account_id},
        subject_table="organizations",
        subject_id=organization.id,
    )


# --- changes of a verified organization's basic information ------------------------------

#: The public basic information an owner may change after verification (never the USCC,
#: name, type or region: those are the registration, changed through the authority).
BASIC_INFO_FIELDS = (
    "address",
    "contact_name",
    "contact_phone",
    "contact_email",
    "website",
    "description_md",
)


@dataclass(frozen=True)
class BasicInfoData:
    address: str
    contact_name: str
    contact_phone: str
    contact_email: str
    website: str
    description_md: str


def update_basic_info(
    session: Session,
    actor: User,
    organization: Organization,
    data: BasicInfoData,
    today: date | None = None,
) -> tuple[str, ...]:
    """The owner changes the organization's public basic information. A real change is
    logged (``organization.basic_info_changed``, with the names of the changed fields)
    and starts the 30-day obligation to publish the new basic information (a
    ``basic_info_change`` compliance trigger dated ``today``, CST). Returns the names of
    the changed fields (empty: nothing changed, nothing recorded)."""
    ensure_org_role(actor, organization.id, ("owner",), error=NotAllowedError, verified_email=True)
    if not organization.is_verified:
        raise NotAllowedError()
    values = {name: getattr(data, name).strip() for name in BASIC_INFO_FIELDS}
    values["contact_email"] = values["contact_email"].lower()
    changed = tuple(
        name for name in BASIC_INFO_FIELDS if getattr(organization, name) != values[name]
    )
    if not changed:
        return ()
    for name in changed:
        setattr(organization, name, values[name])
    session.flush()
    record_compliance_trigger(
        session,
        organization.id,
        "basic_info_change",
        today or today_cst(),
        "Changed: " + ", ".join(changed),
    )
    record_event(
        session,
        "organization.basic_info_changed",
        {**organization_payload(session, organization.id), "changed_fields": list(changed)},
        subject_table="organizations",
        subject_id=organization.id,
    )
    return changed


#: Basic-information items that change outside the platform (CL art. 78, Order 81): the
#: organization records the change and its date; each starts the 30-day duty to publish
#: the changed basic information. Address and contacts change through update_basic_info.
BASIC_INFO_ITEMS = {
    "charter": _l("Charter (章程)"),
    "board": _l("Board (理事会)"),
    "supervisors": _l("Supervisors (监事)"),
    "legal_representative": _l("Legal representative (法定代表人)"),
    "qualification": _l("Qualifications and certificates (资格证书)"),
    "address": _l("Address (住所)"),
    "contacts": _l("Contacts (联系方式)"),
    "special_fund": _l("A special fund set up outside the platform (专项基金)"),
}


def record_basic_info_change(
    session: Session,
    actor: User,
    organization: Organization,
    item: str,
    occurred_on: date,
    today: date | None = None,
) -> int:
    """The owner records that a basic-information item changed on ``occurred_on`` (CST):
    the 30-day duty to publish the changed basic information runs from that day
    (CL art. 78, Order 81). Returns the compliance trigger's id. Refused with a field
    error, nothing written: an unknown item, a future date, a date before the
    organization's legal registration."""
    ensure_org_role(actor, organization.id, ("owner",), error=NotAllowedError, verified_email=True)
    if not organization.is_verified:
        raise NotAllowedError()
    if item not in BASIC_INFO_ITEMS:
        raise OrganizationError(_l("Choose one of the listed items."), "item")
    if occurred_on > (today or today_cst()):
        raise OrganizationError(_l("The date cannot be in the future."), "occurred_on")
    if organization.registered_on is not None and occurred_on < organization.registered_on:
        raise OrganizationError(
            _l("The date cannot be before the organization's registration."), "occurred_on"
        )
    trigger = record_compliance_trigger(
        session, organization.id, "basic_info_change", occurred_on, f"Changed: {item}"
    )
    record_event(
        session,
        "organization.basic_info_changed",
        {**organization_payload(session, organization.id), "changed_fields": [item]},
        subject_table="organizations",
        subject_id=organization.id,
    )
    return trigger.id


# --- loss of the public fundraising qualification (CL art. 22, MCA Order 74) -------------


def record_qualification_loss(
    session: Session,
    actor: User,
    organization: Organization,
    lost_on: date,
    reason: str,
    source: str,
    today: date | None = None,
) -> None:
    """A regulator or platform admin records that the organization lost its public
    fundraising qualification (revoked, cancelled, not renewed) from ``lost_on`` (CST),
    why, and the decision it comes from. From that day its campaigns take no gifts,
    online or offline, and their pages say why; the ratio rules judge each year by the
    qualification held during it (issue 16 point 8). Logged as
    ``organization.qualification_lost``. Refused with a field error, nothing written:
    no qualification, already lost, a date in the future or before the certificate's,
    an empty or too long reason or source."""
    ensure_platform_role(actor, ("admin", "regulator"), error=NotAllowedError)
    if not organization.qualification_number:
        raise OrganizationError(_l("This organization holds no qualification."))
    if organization.qualification_lost_on is not None:
        raise OrganizationError(_l("The loss of the qualification is already recorded."))
    if lost_on > (today or today_cst()):
        raise OrganizationError(_l("The date cannot be in the future."), "lost_on")
    if organization.qualification_date is not None and lost_on < organization.qualification_date:
        raise OrganizationError(
            _l("The date cannot be before the qualification was granted."), "lost_on"
        )
    reason, source = reason.strip(), source.strip()
    if not reason or len(reason) > 2000:
        raise OrganizationError(_l("Give the reason (at most 2000 characters)."), "reason")
    if not source or len(source) > 300:
        raise OrganizationError(
            _l("Give the decision: authority and document number (at most 300)."), "source"
        )
    organization.qualification_lost_on = lost_on
    organization.qualification_loss_reason = reason
    organization.qualification_loss_source = source
    session.flush()
    record_event(
        session,
        "organization.qualification_lost",
        {
            **organization_payload(session, organization.id),
            "qualification_number": organization.qualification_number,
            "lost_on": lost_on.isoformat(),
            "reason": reason,
            "source": source,
        },
        subject_table="organizations",
        subject_id=organization.id,
    )
    # Its monthly gifts are cancelled at their provider (charity.services.recurring_stops).
    organization_id = organization.id
    after_commit(lambda: jobs.enqueue(STOP_MONTHLY_JOB, organization_id, retry=jobs.Retry()))
