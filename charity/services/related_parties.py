"""Related parties (关联方): the organization's list, the yearly filing of the list with
the registration authority, and the 30-day related-party disclosure a gift from a listed
party starts (MCA Order 81 arts. 14–15; issue 16 point 9)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from charity.compliance.obligations.refresh import refresh_obligations
from charity.core.clock import cst_date, today_cst
from charity.core.errors import DomainError
from charity.core.events import Event
from charity.models import Donation, Organization, RelatedParty, RelatedPartyListFiling, User
from charity.models.disclosure import ComplianceTrigger
from charity.services.compliance_triggers import record_compliance_trigger

ROLES = ("owner", "finance")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class RelatedPartyError(DomainError, ValueError):
    """A refusal (charity.core.errors.DomainError)."""


def _require(actor: User, organization: Organization) -> None:
    if actor.role_in(organization.id) not in ROLES or not organization.is_verified:
        raise PermissionError("owners and finance staff of a verified organization only")


def _text(value: str, field: str, limit: int) -> str:
    value = value.strip()
    if not value or len(value) > limit or _CONTROL.search(value):
        raise RelatedPartyError(
            _l("Enter at most %(n)s characters, without control characters.", n=limit), field
        )
    return value


def add_related_party(
    session: Session,
    actor: User,
    organization: Organization,
    name: str,
    relationship: str,
    email: str = "",
) -> RelatedParty:
    """Put a person or organization on the list (refused with a field error, nothing
    written: empty or too long texts, control characters, a malformed email)."""
    _require(actor, organization)
    email = email.strip().lower()
    if email and (len(email) > 254 or not _EMAIL.match(email)):
        raise RelatedPartyError(_l("Enter a valid email address or leave it empty."), "email")
    party = RelatedParty(
        organization_id=organization.id,
        name=_text(name, "name", 200),
        relationship=_text(relationship, "relationship", 200),
        email=email,
    )
    session.add(party)
    session.flush()
    return party


def list_parties(session: Session, organization_id: int) -> list[RelatedParty]:
    return list(
        session.scalars(
            select(RelatedParty)
            .where(RelatedParty.organization_id == organization_id, RelatedParty.ended_on.is_(None))
            .order_by(RelatedParty.name, RelatedParty.id)
        )
    )


def record_list_filing(
    session: Session,
    actor: User,
    organization: Organization,
    year: int,
    filed_on: date,
    today: date | None = None,
) -> RelatedPartyListFiling:
    """The list for ``year`` was sent to the registration authority on ``filed_on``: it
    fulfils the ``related_party_list`` obligation of that year (due May 31 after it)."""
    _require(actor, organization)
    today = today or today_cst()
    if not 2016 <= year < today.year:
        raise RelatedPartyError(_l("Choose a year that has ended."), "year")
    if filed_on > today or filed_on.year <= year:
        raise RelatedPartyError(
            _l("The filing date is after the year's end and not in the future."), "filed_on"
        )
    exists = session.scalar(
        select(RelatedPartyListFiling.id).where(
            RelatedPartyListFiling.organization_id == organization.id,
            RelatedPartyListFiling.year == year,
        )
    )
    if exists is not None:
        raise RelatedPartyError(_l("The list for this year is already recorded."), "year")
    filing = RelatedPartyListFiling(organization_id=organization.id, year=year, filed_on=filed_on)
    session.add(filing)
    session.flush()
    refresh_obligations(session, [organization.id])
    return filing


def matching_party(session: Session, donation: Donation) -> RelatedParty | None:
    """The listed party a gift comes from: same name (as typed on the gift) or, when the
    party has one, the same email (case-insensitive)."""
    name = (donation.donor_name or "").strip()
    email = (donation.donor_email or "").strip().lower()
    if not name and not email:
        return None
    conditions = []
    if name:
        conditions.append(RelatedParty.name == name)
    if email:
        conditions.append((RelatedParty.email != "") & (func.lower(RelatedParty.email) == email))
    return session.scalar(
        select(RelatedParty)
        .where(
            RelatedParty.organization_id == donation.organization_id,
            RelatedParty.ended_on.is_(None),
            or_(*conditions),
        )
        .order_by(RelatedParty.id)
        .limit(1)
    )


def gift_from_related_party(session: Session, event: Event) -> None:
    """Subscriber: a gift that succeeded from a listed related party starts the 30-day
    related-party disclosure (a ``related_party_gift`` compliance trigger dated the day
    the gift succeeded, CST). One trigger per gift."""
    if event.type != "donation.succeeded" or event.subject_id is None:
        return
    # the confirmation passes the locked row it holds (no second load of the donation)
    donation = (
        event.subject if event.subject is not None else session.get(Donation, event.subject_id)
    )
    if donation is None:
        return
    party = matching_party(session, donation)
    if party is None:
        return
    description = f"Gift {donation.id} from related party {party.id}"
    seen = session.scalar(
        select(ComplianceTrigger.id).where(
            ComplianceTrigger.organization_id == donation.organization_id,
            ComplianceTrigger.kind == "related_party_gift",
            ComplianceTrigger.description == description,
        )
    )
    if seen is not None:
        return
    day = cst_date(donation.succeeded_at or event.at or datetime.now(UTC))
    record_compliance_trigger(
        session, donation.organization_id, "related_party_gift", day, description
    )
