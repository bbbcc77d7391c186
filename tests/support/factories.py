"""factory_boy factories. They use whatever ``db.session`` is current (the test's)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import factory
from stdnum.cn import uscc

from charity.core.clock import today_cst
from charity.extensions import db
from charity.models import (
    Campaign,
    Donation,
    Fund,
    FundCommitteeMember,
    Membership,
    Organization,
    RecurringGift,
    Refund,
    User,
)
from charity.models.base import utcnow
from charity.services import donations
from charity.services.accounts import hash_password

PASSWORD = "correct horse battery"


def make_uscc(type_digit: str, n: int) -> str:
    """A valid civil-affairs USCC: '5', the type digit, then 15 chars and the check character."""
    body = f"5{type_digit}440100{n:09d}"
    return body + uscc.calc_check_digit(body)


class Base(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "flush"


class UserFactory(Base):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    name = factory.Sequence(lambda n: f"用户{n}")
    password_hash = factory.LazyFunction(lambda: hash_password(PASSWORD))
    platform_role = "donor"
    #: Confirmed, as after opening the sign-up mail; ``email_verified_at=None`` for a
    #: fresh, unconfirmed account.
    email_verified_at = factory.LazyFunction(utcnow)


class OrganizationFactory(Base):
    class Meta:
        model = Organization

    class Params:
        type_digit = "3"

    name = factory.Sequence(lambda n: f"测试慈善基金会{n}")
    uscc = factory.LazyAttributeSequence(lambda o, n: make_uscc(o.type_digit, n + 1000))
    org_type = factory.LazyAttribute(
        lambda o: {"1": "social_group", "2": "social_service", "3": "foundation"}[o.type_digit]
    )
    registration_authority = "广东省民政厅"
    province = "广东省"
    city = "广州市"
    district = "越秀区"
    address = "广州市越秀区测试路1号"
    contact_name = "张三"
    contact_phone = "020-12345678"
    contact_email = factory.Sequence(lambda n: f"org{n}@example.org")
    description_md = "我们帮助社区中有需要的人。"
    status = "verified"
    stripe_account_id = factory.Sequence(lambda n: f"acct_test{n:06d}")


class QualifiedOrganizationFactory(OrganizationFactory):
    qualification_number = factory.Sequence(lambda n: f"粤民募字〔2024〕{n:03d}号")
    qualification_authority = "广东省民政厅"
    qualification_date = date(2024, 3, 1)


class MembershipFactory(Base):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = "owner"


class CampaignFactory(Base):
    class Meta:
        model = Campaign

    organization = factory.SubFactory(QualifiedOrganizationFactory)
    title = factory.Sequence(lambda n: f"山区儿童营养午餐计划{n}")
    summary = "为山区学校的孩子提供一年的营养午餐。"
    cause = "children"
    purpose_md = "改善山区学生营养状况。"
    filing_date = factory.LazyFunction(lambda: today_cst() - timedelta(days=30))
    start_date = factory.LazyFunction(lambda: today_cst() - timedelta(days=15))
    end_date = factory.LazyFunction(lambda: today_cst() + timedelta(days=60))
    region = "广东省清远市"
    person_in_charge = "李四"
    acceptance_methods = "平台在线捐赠；银行转账"
    receiving_account = "中国工商银行广州分行 1234 5678 9012 3456"
    beneficiaries = "清远市连山县 12 所小学的学生"
    use_of_funds = "购买食材和厨房设备"
    fundraising_cost = "不超过募得金额的 3%，用于宣传材料"
    leftover_plan = "剩余资金转入同类儿童营养项目"
    expected_amount_fen = 50_000_000
    filing_number = factory.Sequence(lambda n: f"53100000500012345X{n:04d}")
    status = "published"


class DonationFactory(factory.Factory):
    """A gift made the way the giving form makes it: ``donations.create_donation`` with a
    ``NewDonation`` (the open-campaign check, the salted donor commitment, the lower-cased
    e-mail, the organization's Stripe account), then moved to ``status`` (pending by
    default; ``DonationFactory(status="succeeded")`` for a recorded one). Rows only: no
    ledger posting, receipt number or log entry (tests of those go through the services).
    Other keyword arguments are set on the row afterwards; ``donor_email=None`` for a gift
    given without an address."""

    class Meta:
        model = Donation

    campaign = factory.SubFactory(CampaignFactory)
    amount_fen = 8800
    donor_name = "陈捐赠"
    donor_email = factory.Sequence(lambda n: f"donor{n}@example.org")
    donor_user = None
    status = "pending"

    @classmethod
    def _create(  # type: ignore[no-untyped-def, override]
        cls, model_class, campaign, amount_fen, donor_name, donor_email, donor_user, status, **rest
    ):
        command = donations.NewDonation(
            campaign_id=campaign.id,
            amount_fen=amount_fen,
            donor_name=donor_name,
            donor_email=donor_email or "",
            is_anonymous=True,
            consent_show_name=False,
            message="",
            receipt_wanted=True,
            max_amount_fen=10**12,
        )
        donation = donations.create_donation(db.session, donor_user, command)
        if donor_email is None:
            donation.donor_email = None
        if status != "pending":
            donation.status = status
        if status == "succeeded":
            donation.succeeded_at = datetime.now(UTC)
        for name, value in rest.items():
            setattr(donation, name, value)
        db.session.flush()
        return donation


class RefundFactory(Base):
    """A refund row (what the refund services record beside the donation's own figures;
    tests of the refund itself go through the services)."""

    class Meta:
        model = Refund

    donation = factory.SubFactory(DonationFactory, status="succeeded")
    amount_fen = 1000
    reason = "捐赠人要求退款"


class RecurringGiftFactory(Base):
    """An active monthly gift's row (the Stripe side is tested through localstripe)."""

    class Meta:
        model = RecurringGift

    campaign = factory.SubFactory(CampaignFactory)
    organization = factory.SelfAttribute("campaign.organization")
    amount_fen = 5000
    donor_name = "月捐人"
    donor_email = factory.Sequence(lambda n: f"monthly{n}@example.org")
    status = "active"


def log_in(client, user: User, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    """Log ``client`` in through the real login form (sessions carry a password stamp,
    so setting ``_user_id`` by hand does not work). A user whose role needs two-factor
    authentication is enrolled first (``enrol_if_required``), as demo staff are; an
    enrolled user then passes the login's second step with a fresh code."""
    enrol_if_required(user)
    response = client.post("/account/login", data={"email": user.email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    if user.totp_enabled_at is not None:  # the login's second step
        passed = client.post("/account/2fa/", data={"code": fresh_code(user)})
        assert passed.status_code == 302, passed.get_data(as_text=True)[:400]
    return response


#: A base32 TOTP secret for accounts the tests turn two-factor on for.
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def enrol_two_factor(user: User, secret: str = TOTP_SECRET) -> User:
    """Two-factor on with a fixed secret, as if the user had scanned it (the setup page
    itself is tested in tests/security/test_two_factor.py)."""
    if user.totp_enabled_at is None:
        user.totp_secret = secret
        user.totp_enabled_at = utcnow()
        db.session.flush()
    return user


def enrol_if_required(user: User) -> User:
    """Roles that need two-factor (``two_factor.required_for``: admins, regulators,
    owners, finance members, fund committee members) are enrolled before they log in, the
    way every real account in such a role is (the gate sends them to set it up)."""
    from charity.services import two_factor

    db.session.flush()
    if user.totp_enabled_at is None and two_factor.required_for(user, db.session):
        enrol_two_factor(user)
    return user


def fresh_code(user: User) -> str:
    """A code of ``user``'s app that was not used yet: codes are accepted once (replay
    protection), so a test that logs the same account in twice within 30 seconds takes
    the next step of the drift window, or, past it, forgets the last step as if 30
    seconds had passed."""
    import time

    import pyotp

    from charity.services import two_factor

    db.session.refresh(user, ["totp_last_step"])
    current = int(time.time()) // two_factor.STEP_SECONDS
    # Never an earlier step than the current one: the clock may cross into the next step
    # before the code is checked, and the step before would then be outside the window.
    step = max(current, (user.totp_last_step or 0) + 1)
    if step > current + two_factor.VALID_WINDOW:
        user.totp_last_step = None
        db.session.flush()
        step = current
    return pyotp.TOTP(user.totp_secret).at(step * two_factor.STEP_SECONDS)


def second_person(user: User, *, days: int = 30, fund: Fund | None = None) -> User:
    """Make ``user`` a qualified second person (issue 15 finding 6): two-factor on and
    their memberships (and seat on ``fund``'s committee) ``days`` old."""
    enrol_two_factor(user)
    long_ago = utcnow() - timedelta(days=days)
    for membership in user.memberships:
        membership.since = long_ago
    if fund is not None:
        for seat in fund.committee:
            if seat.user_id == user.id:
                seat.created_at = long_ago
    db.session.flush()
    return user


# --- funds -------------------------------------------------------------------------------
class FundFactory(Base):
    class Meta:
        model = Fund

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.LazyAttributeSequence(lambda o, n: f"{o.organization.name}邻里{n}社区慈善基金")
    purpose_md = "支持社区长者关爱与邻里互助。"
    restriction = "仅用于本社区的长者关爱与应急救助，不得用于行政开支。"
    service_area = "广州市越秀区北京街道"
    committee = factory.LazyFunction(
        lambda: [
            FundCommitteeMember(name=name, role=role)
            for name, role in (
                ("陈主任", "chair"),
                ("李委员", "member"),
                ("王委员", "member"),
                ("赵委员", "member"),
                ("周监事", "supervisor"),
            )
        ]
    )


def session_id(user: User) -> str:
    """What the login form puts in the session cookie (``user.get_id()``), with a real
    server-side session behind it, for helpers that set ``_user_id`` by hand."""
    from charity.services import accounts, two_factor

    enrol_if_required(user)
    accounts.start_session(db.session, user)
    if user.totp_enabled_at is not None:  # as if the login's second step was passed
        two_factor.mark_passed(db.session, user)
    else:  # as if the password was just entered
        two_factor.mark_confirmed(db.session, user)
    db.session.flush()  # (a test's expire_all() before the request would drop it)
    return user.get_id()


def open_verification_link(client, outbox):  # type: ignore[no-untyped-def]
    """Open the link of the last sign-up mail, as the new account's owner would."""
    import re

    body = outbox[-1].get_body(("plain",)).get_content()
    found = re.search(r"https?://[^/\s]+(/account/verify/\S+)", body)
    assert found, body
    return client.get(found.group(1))


class GiftFactory(Base):
    """A donation row as the payments code leaves it (only what the campaign pages read)."""

    class Meta:
        model = Donation

    campaign = factory.SubFactory(CampaignFactory)
    organization = factory.LazyAttribute(lambda o: o.campaign.organization)
    amount_fen = 10_000
    status = "succeeded"
    channel = "online_card"
    donor_name = "王小明"
    donor_email = factory.Sequence(lambda n: f"donor{n}@example.org")
    is_anonymous = False
    consent_show_name = False
    succeeded_at = factory.LazyFunction(lambda: datetime.now(UTC))
