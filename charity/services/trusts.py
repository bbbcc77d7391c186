"""The registry of charitable trusts (慈善信托) filed with civil affairs (issue 16 point
14): recording a filing with its settlors, reading the registry, and the drafts of the
disclosures MCA Order 81 art. 12 asks of charity trustees and settlors.

Who records: platform admins, and regulators (a regulator scoped to a province only
filings with a department of that province). Refused with a field error, nothing
written: empty or too long texts, a filing number already registered, a filing before
the trust was set up, a term ending before it, a negative amount, a trustee that is
neither a verified charity on the platform nor a named company (exactly one), a settlor
without a name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from charity.compliance.rules import law as r
from charity.core import regions
from charity.core.clock import today_cst
from charity.core.errors import DomainError
from charity.core.events import record_event
from charity.models import Organization, User
from charity.models.trust import CharitableTrust, TrustSettlor

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_FEN = 10**14


class TrustError(DomainError, ValueError):
    """A refusal (charity.core.errors.DomainError)."""


@dataclass(frozen=True)
class Settlor:
    name: str
    amount_fen: int = 0
    #: A charity on the platform (it owes the 30-day disclosure), or None.
    organization_id: int | None = None


@dataclass(frozen=True)
class NewTrust:
    name: str
    filing_number: str
    filing_date: date
    filing_authority: str
    province: str
    purpose: str
    assets_fen: int
    established_on: date
    settlors: tuple[Settlor, ...]
    trustee_org_id: int | None = None
    trustee_company: str = ""
    assets_note: str = ""
    term_end: date | None = None


def can_record(user: Any, province: str | None = None) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if getattr(user, "is_admin", False):
        return True
    if not getattr(user, "is_regulator", False):
        return False
    scoped = user.regulator_province
    return not scoped or province is None or scoped == province


def _text(value: str, field: str, limit: int, required: bool = True) -> str:
    value = (value or "").strip()
    if (required and not value) or len(value) > limit or _CONTROL.search(value):
        raise TrustError(
            _l("Enter at most %(n)s characters, without control characters.", n=limit), field
        )
    return value


def _check(session: Session, command: NewTrust, today: date) -> None:
    if not regions.is_province(command.province):
        raise TrustError(_l("Choose a province."), "province")
    if command.filing_date > today:
        raise TrustError(_l("The filing date cannot be in the future."), "filing_date")
    if command.filing_date < command.established_on:
        raise TrustError(_l("A trust is filed on or after the day it is set up."), "filing_date")
    if command.term_end is not None and command.term_end < command.established_on:
        raise TrustError(_l("The term ends on or after the day it is set up."), "term_end")
    if not 0 <= command.assets_fen <= MAX_FEN:
        raise TrustError(_l("Enter an amount in yuan, zero or more."), "assets")
    if (command.trustee_org_id is None) == (not command.trustee_company.strip()):
        raise TrustError(
            _l("Name the trustee: a charity on the platform or a trust company (one)."),
            "trustee_company",
        )
    if command.trustee_org_id is not None:
        org = session.get(Organization, command.trustee_org_id)
        if org is None or not org.is_verified:
            raise TrustError(_l("Choose a verified charity."), "trustee_org_id")
    taken = session.scalar(
        select(CharitableTrust.id).where(
            CharitableTrust.filing_number == command.filing_number.strip()
        )
    )
    if taken is not None:
        raise TrustError(_l("This filing number is already registered."), "filing_number")
    if not command.settlors:
        raise TrustError(_l("Name at least one settlor."), "settlors")


def record_trust(
    session: Session, actor: User, command: NewTrust, today: date | None = None
) -> CharitableTrust:
    """Register a filed trust with its settlors; logged as ``trust.filed``."""
    if not can_record(actor, command.province):
        raise PermissionError("admins and the province's regulators only")
    today = today or today_cst()
    _check(session, command, today)
    trust = CharitableTrust(
        name=_text(command.name, "name", 200),
        filing_number=_text(command.filing_number, "filing_number", 64),
        filing_date=command.filing_date,
        filing_authority=_text(command.filing_authority, "filing_authority", 100),
        province=command.province,
        trustee_org_id=command.trustee_org_id,
        trustee_company=_text(command.trustee_company, "trustee_company", 200, required=False),
        purpose=_text(command.purpose, "purpose", 5000),
        assets_fen=command.assets_fen,
        assets_note=_text(command.assets_note, "assets_note", 500, required=False),
        established_on=command.established_on,
        term_end=command.term_end,
        created_by_id=actor.id,
    )
    for settlor in command.settlors:
        if not 0 <= settlor.amount_fen <= MAX_FEN:
            raise TrustError(_l("Enter an amount in yuan, zero or more."), "settlors")
        if settlor.organization_id is not None:
            org = session.get(Organization, settlor.organization_id)
            if org is None or not org.is_verified:
                raise TrustError(_l("Choose a verified charity."), "settlors")
        trust.settlors.append(
            TrustSettlor(
                name=_text(settlor.name, "settlors", 200),
                amount_fen=settlor.amount_fen,
                organization_id=settlor.organization_id,
            )
        )
    session.add(trust)
    session.flush()  # the trust id is the event's subject
    record_event(session, "trust.filed", subject_id=trust.id)
    return trust


# --- reading --------------------------------------------------------------------------


def registry(session: Session, province: str | None = None) -> list[CharitableTrust]:
    query = select(CharitableTrust).order_by(
        CharitableTrust.filing_date.desc(), CharitableTrust.id.desc()
    )
    if province:
        query = query.where(CharitableTrust.province == province)
    return list(session.scalars(query))


def totals(session: Session, province: str | None = None) -> tuple[int, int]:
    """(number of trusts, total trust property in fen), one aggregate query."""
    query = select(
        func.count(CharitableTrust.id), func.coalesce(func.sum(CharitableTrust.assets_fen), 0)
    )
    if province:
        query = query.where(CharitableTrust.province == province)
    count, assets = session.execute(query).one()
    return int(count), int(assets)


def recent_filings(session: Session, limit: int) -> list[CharitableTrust]:
    """The trusts entered in the registry most recently (for the public feed)."""
    return list(
        session.scalars(
            select(CharitableTrust)
            .order_by(CharitableTrust.created_at.desc(), CharitableTrust.id.desc())
            .limit(limit)
        )
    )


def trust_subject(subject_key: str) -> int | None:
    match = re.fullmatch(r"trust:(\d{1,11})", subject_key)
    return int(match.group(1)) if match else None


def trust_for(session: Session, kind: str, organization_id: int, subject_key: str):  # type: ignore[no-untyped-def]
    """The trust a disclosure of this organization may be about: as trustee for the
    yearly report, as settlor for the 30-day disclosure (None otherwise)."""
    trust_id = trust_subject(subject_key)
    trust = session.get(CharitableTrust, trust_id) if trust_id is not None else None
    if trust is None:
        return None
    if kind == r.TRUST_ANNUAL:
        return trust if trust.trustee_org_id == organization_id else None
    settles = any(s.organization_id == organization_id for s in trust.settlors)
    return trust if settles else None


def draft(session: Session, kind: str, organization_id: int, subject_key: str) -> dict[str, Any]:
    trust = trust_for(session, kind, organization_id, subject_key)
    if trust is None:
        return {}
    if kind == r.TRUST_ANNUAL:
        return {"trust_name": trust.name, "filing_number": trust.filing_number}
    amount = sum(s.amount_fen for s in trust.settlors if s.organization_id == organization_id)
    return {
        "trust_name": trust.name,
        "trustee_name": trust.trustee_name,
        "amount_fen": amount,
        "filing_number": trust.filing_number,
    }


def filed_payload(session: Session, trust_id: int) -> dict[str, Any]:
    trust = session.get(CharitableTrust, trust_id)
    if trust is None:
        raise LookupError(f"trust {trust_id} is gone")
    return {
        "trust_id": trust.id,
        "filing_number": trust.filing_number,
        "filing_date": trust.filing_date.isoformat(),
        "province": trust.province,
        "trustee_org_id": trust.trustee_org_id,
        "assets_fen": trust.assets_fen,
        "settlor_org_ids": sorted(s.organization_id for s in trust.settlors if s.organization_id),
    }
