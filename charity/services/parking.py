"""Provider events that could not be applied when they arrived: parked, never dropped.

A refund whose payment's success has not arrived yet waits (``waiting``) and is applied
by ``confirm_payment`` in the success's own transaction (the donation row says so in
``has_parked_events``, so a success without parked events costs nothing extra). An event
that can never apply by itself (a refund larger than what remains, a payment that does
not match its donation, a refund the provider reports as failed) is ``unresolved``:
finance members see it with its reason, ``flask ledger check`` reports it, and a finance
member closes it with a note once it has been handled (``dismissed``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from charity.core.errors import DomainError
from charity.models import Donation, Membership, Organization, ParkedEvent, User, utcnow
from charity.web.i18n import N_


class ParkingError(DomainError, ValueError):
    """A refusal (charity.core.errors.DomainError)."""


def _existing(session: Session, provider: str, key: str) -> ParkedEvent | None:
    return session.scalar(
        sa.select(ParkedEvent).where(ParkedEvent.provider == provider, ParkedEvent.event_key == key)
    )


def park(
    session: Session,
    *,
    provider: str,
    key: str,
    kind: str,
    status: str,
    reason: str,
    organization_id: int | None = None,
    donation_id: int | None = None,
    provider_refund_id: str | None = None,
    amount_fen: int = 0,
    currency: str = "CNY",
) -> ParkedEvent:
    """Park an event once (a redelivery of the same event finds the first)."""
    found = _existing(session, provider, key)
    if found is not None:
        return found
    parked = ParkedEvent(
        provider=provider,
        event_key=key[:120],
        kind=kind[:20],
        status=status,
        reason=reason[:500],
        organization_id=organization_id,
        donation_id=donation_id,
        provider_refund_id=provider_refund_id,
        amount_fen=amount_fen,
        currency=currency,
    )
    session.add(parked)
    session.flush()
    return parked


def park_refund(
    session: Session,
    donation: Donation,
    provider: str,
    refund_id: str,
    amount_fen: int,
    status: str,
    reason: str,
) -> ParkedEvent:
    """A refund of ``donation`` (row-locked by the caller) that cannot apply now."""
    if status == "waiting":
        donation.has_parked_events = True
    return park(
        session,
        provider=provider,
        key=f"refund:{refund_id}",
        kind="refund",
        status=status,
        reason=reason,
        organization_id=donation.organization_id,
        donation_id=donation.id,
        provider_refund_id=refund_id,
        amount_fen=amount_fen,
        currency=donation.currency,
    )


def open_events(session: Session, organization_id: int) -> list[ParkedEvent]:
    return list(
        session.scalars(
            sa.select(ParkedEvent)
            .where(
                ParkedEvent.organization_id == organization_id,
                ParkedEvent.status.in_(("waiting", "unresolved")),
            )
            .order_by(ParkedEvent.id)
        )
    )


def dismiss(session: Session, actor: User, parked_id: int, note: str) -> ParkedEvent:
    """A finance member closes an unresolved event once handled, saying how."""
    parked = session.get(ParkedEvent, parked_id, with_for_update=True)
    if parked is None or parked.status not in ("waiting", "unresolved"):
        raise ParkingError(N_("This event is not open."))
    role = session.scalar(
        sa.select(Membership.role).where(
            Membership.user_id == actor.id, Membership.organization_id == parked.organization_id
        )
    )
    if role not in ("owner", "finance"):
        raise ParkingError(N_("Only the organization's finance members can do this."))
    if not note.strip():
        raise ParkingError(N_("Say how the event was handled."))
    parked.status, parked.resolved_at, parked.resolved_by_id = "dismissed", utcnow(), actor.id
    parked.resolution_note = note.strip()[:500]
    return parked


def check_parked(session: Session, now: datetime, grace_hours: int) -> tuple[list[str], list[str]]:
    """For `flask ledger check`: (problems, notes). Unresolved events are problems, and so
    are events still waiting after the grace period; fresh waiting ones are notes."""
    problems, notes = [], []
    rows = session.execute(
        sa.select(ParkedEvent, Organization.name)
        .outerjoin(Organization, Organization.id == ParkedEvent.organization_id)
        .where(ParkedEvent.status.in_(("waiting", "unresolved")))
        .order_by(ParkedEvent.id)
    ).all()
    cutoff = now - timedelta(hours=grace_hours)
    for parked, org_name in rows:
        text = (
            f"parked {parked.provider} {parked.kind} event {parked.event_key} "
            f"(donation {parked.donation_id}, {org_name or 'unknown organization'}, "
            f"{parked.amount_fen} fen): {parked.status}, {parked.reason}"
        )
        if parked.status == "unresolved" or parked.created_at < cutoff:
            problems.append(text)
        else:
            notes.append(text)
    return problems, notes
