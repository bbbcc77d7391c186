"""Demo giving day for `make run`: a running 6·30 广东扶贫济困日 with the running demo
campaign accepted, two matching pools (one all day, one 09:00–12:00 Beijing time), two
teams started by the demo donors, gifts through them that succeed on the real
confirmation path (so they are matched, booked and logged like any gift), and two company
pledges, one of them overdue and partly received. Fictional names only
(charity.demo.names). Idempotent: nothing is done when the event exists.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from charity import payments
from charity.core.clock import today_cst
from charity.demo.orgs import demo_uscc
from charity.extensions import db
from charity.models import Campaign, Donation, GivingDay, Membership, Organization, User
from charity.services import donations, givingdays

EVENT_NAME = "6·30 广东扶贫济困日"
SPONSOR = "广州粤信科技有限公司"
SECOND_SPONSOR = "广东晴川物流有限公司"
#: The demo gifts' PaymentIntent ids: pi_demo_givingday_<gift id>.
REF = "demo_givingday"
PLEDGERS = (
    ("佛山禾岚建材有限公司", "91440604MA0000301"),
    ("广东晴川物流有限公司", "91440101MA0000302"),
)


def _user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email))


def card_gift(
    campaign: Campaign,
    fen: int,
    who: tuple[str, str],
    team_id: int | None,
    user: User | None,
    *,
    ref: str,
    message: str = "",
    show_name: bool = False,
) -> Donation:
    """A card gift from ``who`` (name, e-mail) waiting for its payment, its PaymentIntent
    id ``pi_{ref}_{gift id}`` (also the test suite's giving-day gifts, tests/support)."""
    donation = donations.create_donation(
        db.session,
        user,
        donations.NewDonation(
            campaign_id=campaign.id,
            amount_fen=fen,
            donor_name=who[0],
            donor_email=who[1],
            is_anonymous=False,
            consent_show_name=show_name,
            message=message,
            receipt_wanted=True,
            max_amount_fen=10**9,
            team_id=team_id,
        ),
    )
    db.session.flush()
    donation.stripe_payment_intent_id = f"pi_{ref}_{donation.id}"
    db.session.flush()
    return donation


def paid_intent(donation: Donation, ref: str) -> payments.Intent:
    """What Stripe reports for a :func:`card_gift`'s PaymentIntent once paid."""
    return payments.Intent(
        id=donation.stripe_payment_intent_id or "",
        status="succeeded",
        amount=donation.amount_fen,
        currency="cny",
        metadata={"donation_id": str(donation.id)},
        client_secret="",
        latest_charge=f"ch_{ref}_{donation.id}",
        failure_message="",
    )


def _succeed(campaign: Campaign, fen: int, who: tuple[str, str], team_id: int | None, user):  # type: ignore[no-untyped-def]
    """A gift that succeeds through donations.confirm_payment, as a paid card gift does."""
    donation = card_gift(
        campaign, fen, who, team_id, user, ref=REF, message="一起加油！", show_name=True
    )
    donations.mark_donation_succeeded(db.session, donation, paid_intent(donation, REF))
    return donation


def load_givingday() -> list[str]:
    admin = _user("admin@demo.charity")
    donor, donor2 = _user("donor@demo.charity"), _user("donor2@demo.charity")
    campaign = db.session.scalar(
        select(Campaign)
        .where(Campaign.status == "published", Campaign.is_emergency.is_(False))
        .order_by(Campaign.id)
    )
    host = db.session.scalar(
        select(Organization).where(Organization.stripe_account_id == "acct_demo_yuexiu")
    )
    if None in (admin, donor, donor2, campaign, host):
        return []
    event = db.session.scalar(select(GivingDay).where(GivingDay.name == EVENT_NAME))
    if event is not None:
        return [f"  {'givingday':<10} {f'/events/{event.id}':<28} {event.name}"]
    owner = _member(campaign.organization_id, "owner")
    finance = _member(campaign.organization_id, "finance")
    if owner is None or finance is None:
        return []
    today = today_cst()
    event = givingdays.create_event(
        db.session,
        admin,
        givingdays.NewEvent(
            EVENT_NAME, "扶贫济困，共建共享：企业认捐、一起捐、配捐", today - timedelta(days=1),
            today + timedelta(days=1), "广东省",
        ),
    )  # fmt: skip
    entry = givingdays.apply_campaign(db.session, owner, event.id, campaign.id)
    givingdays.decide_campaign(db.session, admin, entry.id, accept=True)
    givingdays.create_pool(
        db.session,
        admin,
        givingdays.NewPool(
            event_id=event.id, organization_id=host.id, sponsor_name=SPONSOR,
            total_fen=5_000_000, ratio_percent=100, cap_per_gift_fen=10_000,
            cap_per_donor_day_fen=20_000,
        ),
    )  # fmt: skip
    givingdays.create_pool(
        db.session,
        admin,
        givingdays.NewPool(
            event_id=event.id, organization_id=host.id, sponsor_name=SECOND_SPONSOR,
            sponsor_uscc=demo_uscc(PLEDGERS[1][1]), total_fen=1_000_000, ratio_percent=50,
            cap_per_gift_fen=5_000, windows="09:00-12:00",
        ),
    )  # fmt: skip
    first = givingdays.NewTeam(
        campaign.id, "小明的午餐接力队", 200_000, "每人一份午餐钱，一起让孩子们吃饱。"
    )
    second = givingdays.NewTeam(campaign.id, "李华和同学们", 100_000, "同学们，一起捐！")
    teams = [
        givingdays.create_team(db.session, donor, first),
        givingdays.create_team(db.session, donor2, second),
    ]
    _succeed(campaign, 5_000, ("王小明", "donor@demo.charity"), teams[0].id, donor)
    _succeed(campaign, 12_000, ("李华", "donor2@demo.charity"), teams[1].id, donor2)
    _succeed(campaign, 3_000, ("李华", "donor2@demo.charity"), teams[0].id, donor2)
    company_gift = _succeed(
        campaign, 300_000, (PLEDGERS[0][0], "finance@helan.example"), None, None
    )
    overdue = givingdays.record_pledge(
        db.session,
        finance,
        givingdays.NewPledge(
            event.id, campaign.organization_id, PLEDGERS[0][0], demo_uscc(PLEDGERS[0][1]),
            1_000_000, today - timedelta(days=2), campaign.id,
        ),
    )  # fmt: skip
    givingdays.link_gift(db.session, finance, overdue.id, company_gift.id)
    givingdays.record_pledge(
        db.session,
        finance,
        givingdays.NewPledge(
            event.id, campaign.organization_id, PLEDGERS[1][0], demo_uscc(PLEDGERS[1][1]),
            2_000_000, today + timedelta(days=60), campaign.id,
        ),
    )  # fmt: skip
    return [f"  {'givingday':<10} {f'/events/{event.id}':<28} {event.name}"]


def _member(organization_id: int, role: str) -> User | None:
    return db.session.scalar(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.organization_id == organization_id, Membership.role == role)
        .order_by(User.id)
    )
