"""Giving-day helpers shared by several test packages: a day with its pools, gifts made and
succeeded through the payments service, refunds, company USCCs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from charity import payments
from charity.core.clock import today_cst
from charity.demo import givingdays as demo_givingdays
from charity.extensions import db
from charity.models import Campaign, Donation, GivingDay, MatchingPool, User
from charity.services import donations, givingdays
from tests.support.factories import (
    CampaignFactory,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
)


@dataclass
class Day:
    admin: User
    owner: User
    event: GivingDay
    campaign: Campaign
    pool: MatchingPool


def make_day(**pool_fields) -> Day:  # type: ignore[no-untyped-def]
    admin = UserFactory(platform_role="admin")
    campaign = CampaignFactory()
    owner = MembershipFactory(organization=campaign.organization, role="owner").user
    today = today_cst()
    event = givingdays.create_event(
        db.session,
        admin,
        givingdays.NewEvent("6·30 广东扶贫济困日", "扶贫济困", today - timedelta(days=1), today),
    )
    entry = givingdays.apply_campaign(db.session, owner, event.id, campaign.id)
    givingdays.decide_campaign(db.session, admin, entry.id, accept=True)
    host = OrganizationFactory()
    fields = {"sponsor_name": "示例科技有限公司", "total_fen": 100_000, **pool_fields}
    pool = givingdays.create_pool(
        db.session, admin, givingdays.NewPool(event_id=event.id, organization_id=host.id, **fields)
    )
    db.session.flush()
    return Day(admin, owner, event, campaign, pool)


def new_gift(campaign, amount_fen: int, email: str = "donor@example.org", team_id=None) -> Donation:  # type: ignore[no-untyped-def]
    return demo_givingdays.card_gift(
        campaign, amount_fen, ("王小明", email), team_id, None, ref="gd"
    )


def provider_intent(donation: Donation) -> payments.Intent:
    """What Stripe reports for the donation's PaymentIntent once paid."""
    return demo_givingdays.paid_intent(donation, "gd")


def succeed(donation: Donation) -> bool:
    return donations.mark_donation_succeeded(db.session, donation, provider_intent(donation))


def give(campaign, amount_fen: int, email: str = "donor@example.org", team_id=None) -> Donation:  # type: ignore[no-untyped-def]
    donation = new_gift(campaign, amount_fen, email, team_id)
    assert succeed(donation)
    return donation


def refund(donation: Donation, amount_fen: int, ref: str) -> str:
    return donations.record_provider_refund(db.session, donation.id, "stripe", ref, amount_fen)


def company_uscc(n: int) -> str:
    """A valid USCC of a company (registered by market regulation: "91")."""
    from stdnum.cn import uscc

    body = f"91440101MA{n:07d}"
    return body + uscc.calc_check_digit(body)
