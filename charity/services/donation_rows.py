"""Two small pieces of a donation that services below ``donations`` need too: the row
re-read under a lock, and the canonical donor data its commitment covers (receipts,
offline gifts, monthly renewals and payment wallets share them without importing
``charity.services.donations``)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from charity.models import Donation


def donor_data(name: str, email: str) -> dict[str, str]:
    """The canonical donor data the commitment covers (shown on the donor's receipt)."""
    return {"email": email.strip().lower(), "name": name.strip()}


def lock_donation(session: Session, donation_id: int) -> Donation:
    """Re-read the donation with a row lock (FOR UPDATE OF donations on PostgreSQL), its
    organization joined in the same statement (receipts and log payloads need it)."""
    return session.scalars(
        sa.select(Donation)
        .options(joinedload(Donation.organization, innerjoin=True))
        .where(Donation.id == donation_id)
        .with_for_update(of=Donation)
        .execution_options(populate_existing=True)
    ).one()
