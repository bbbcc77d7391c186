"""API helpers shared by several test packages."""

from __future__ import annotations

from dataclasses import dataclass

from charity.models import Campaign, Donation, Organization
from charity.models.base import utcnow


def make_donation(campaign: Campaign, amount_fen: int, **overrides) -> Donation:  # type: ignore[no-untyped-def]
    from charity.extensions import db

    values = {
        "organization_id": campaign.organization_id,
        "campaign_id": campaign.id,
        "amount_fen": amount_fen,
        "status": "succeeded",
        "donor_name": "王小明",
        "donor_email": "wang.private@example.org",
        "commitment_salt": "5a" * 32,
        "donor_commitment": "c0" * 32,
        "stripe_payment_intent_id": None,
        "succeeded_at": utcnow(),
        **overrides,
    }
    donation = Donation(**values)
    db.session.add(donation)
    db.session.flush()
    return donation


@dataclass
class PublicData:
    qualified: Organization
    plain: Organization
    pending: Organization
    campaign: Campaign
    draft: Campaign
    pending_campaign: Campaign
    named: Donation
    anonymous: Donation
    refunded_part: Donation
    failed: Donation
