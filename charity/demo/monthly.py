"""A demo monthly gift (issue 17 point 1), so the monthly pages show something: 王小明
(donor@demo.charity) gives ¥50 a month to the running demo campaign since two months ago;
each month is a Donation of channel "recurring" with its receipt, ledger entry and log
entry, as a paid Stripe invoice leaves it. No Stripe subscription stands behind it (the
demo has no Stripe): cancelling it on its page works, updating the card needs Stripe.
Idempotent: nothing is done when the donor already has a monthly gift.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from charity.core.clock import CST, today_cst
from charity.core.events import record_event
from charity.extensions import db
from charity.models import Campaign, Donation, RecurringGift, User
from charity.services import ledger, receipts, recurring
from charity.services.donations import log_index_of

DONOR_EMAIL = "donor@demo.charity"
MONTHLY_FEN = 5_000
MESSAGE = "每月一点心意，希望孩子们吃得饱。"


def _month(gift: RecurringGift, when: datetime, n: int) -> Donation:
    """One paid month, built by the service's own constructor (recurring.month_donation),
    then succeeded as a paid invoice leaves it, dated ``when``."""
    donation = recurring.month_donation(gift, f"in_demo_monthly_{gift.id}_{n}")
    donation.status, donation.succeeded_at = "succeeded", when
    db.session.add(donation)
    db.session.flush()
    if not donation.receipt_waived:
        receipts.assign_receipt_number(db.session, donation, when)
    ledger.post_donation(db.session, donation, created_at=when)
    results = record_event(db.session, "donation.succeeded", subject_id=donation.id)
    donation.log_index = log_index_of(results)
    return donation


def load_monthly_gift() -> list[str]:
    donor = db.session.scalar(select(User).where(User.email == DONOR_EMAIL))
    today = today_cst()
    campaigns = db.session.scalars(
        select(Campaign)
        .where(Campaign.status == "published", Campaign.is_emergency.is_(False))
        .order_by(Campaign.id)
    ).all()
    running = [c for c in campaigns if c.start_date <= today <= c.end_date]
    if donor is None or not running:
        return []
    campaign = running[0]
    existing = db.session.scalar(
        select(RecurringGift).where(RecurringGift.donor_user_id == donor.id)
    )
    if existing is None:
        existing = RecurringGift(
            organization_id=campaign.organization_id,
            campaign=campaign,
            amount_fen=MONTHLY_FEN,
            status="active",
            donor_user_id=donor.id,
            donor_name=donor.name,
            donor_email=donor.email,
            is_anonymous=False,
            consent_show_name=True,
            message=MESSAGE,
            stripe_account_id=campaign.organization.stripe_account_id,
        )
        db.session.add(existing)
        db.session.flush()
        # monthly since the campaign's first days (never before it started), at 10:00 CST
        first = max(campaign.start_date, today - timedelta(days=35))
        days = [first + timedelta(days=30 * n) for n in range(3)]
        for n, day in enumerate(d for d in days if d <= today):
            when = datetime.combine(day, time(10), CST).astimezone(UTC)
            if when <= datetime.now(UTC):  # never a payment later today
                _month(existing, when, n + 1)
        existing.created_at = datetime.combine(first, time(9, 55), CST).astimezone(UTC)
    return [f"  {'monthly':<10} {f'/monthly/{existing.public_token}':<28} {DONOR_EMAIL}"]
