"""Funds helpers shared by several test packages: the people of a fund (fixture, registered
suite-wide by pytest_plugins in tests/conftest.py), committee seats, a new-fund command,
gifts posted to the ledger at chosen times.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from charity.core.events import record_event
from charity.extensions import db
from charity.models import Donation, Fund, Organization, User
from charity.services import funds, ledger
from tests.support.factories import (
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
    second_person,
)

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@dataclass
class People:
    host: Organization
    owner: User
    finance: User
    finance2: User
    committee: list[User]
    donor: User
    regulator: User
    other_editor: User


def seats(users: list[User] | None = None, **overrides) -> tuple[funds.Seat, ...]:  # type: ignore[no-untyped-def]
    users = users or []
    roles = ["chair", "member", "member", "member", "supervisor"]
    result = []
    for i, role in enumerate(roles):
        email = users[i].email if i < len(users) else ""
        result.append(funds.Seat(name=f"委员{i}", role=role, user_email=email))
    return tuple(result)


@pytest.fixture
def people(request: pytest.FixtureRequest) -> People:
    request.getfixturevalue("db_session")
    host = OrganizationFactory(name="广州市越秀区测试慈善会", stripe_account_id="acct_fundshost")

    def member(role: str, org: Organization = host) -> User:
        return MembershipFactory(organization=org, role=role, user=UserFactory()).user

    # Everyone who approves here is a qualified second person (issue 15 finding 6):
    # two-factor on, memberships a month old (committee seats: see ``fund``).
    return People(
        host=host,
        owner=second_person(member("owner")),
        finance=second_person(member("finance")),
        finance2=second_person(member("finance")),
        committee=[second_person(UserFactory()) for _ in range(5)],
        donor=UserFactory(),
        regulator=UserFactory(platform_role="regulator"),
        other_editor=member("editor", OrganizationFactory()),
    )


def new_fund_command(host: Organization, committee: tuple[funds.Seat, ...], **kw) -> funds.NewFund:  # type: ignore[no-untyped-def]
    values = {
        "organization_id": host.id,
        "name": f"{host.name}长者关爱社区慈善基金",
        "purpose_md": "关爱社区长者。",
        "restriction": "仅用于社区长者服务。",
        "service_area": "越秀区北京街道",
        "committee": committee,
        **kw,
    }
    return funds.NewFund(**values)


def gift(
    target: Fund | object, amount_fen: int, at: datetime, *, user: User | None = None
) -> Donation:
    """A succeeded online gift at ``at`` (ledger posted as the payments code posts it)."""
    is_fund = isinstance(target, Fund)
    donation = Donation(
        organization_id=target.organization_id,  # type: ignore[attr-defined]
        fund_id=target.id if is_fund else None,  # type: ignore[attr-defined]
        campaign_id=None if is_fund else target.id,  # type: ignore[attr-defined]
        amount_fen=amount_fen,
        status="succeeded",
        succeeded_at=at,
        donor_user=user,
        donor_name="捐赠人",
        donor_email="giver@example.org",
    )
    db.session.add(donation)
    db.session.flush()
    ledger.post_donation(db.session, donation)
    record_event(db.session, "donation.succeeded", subject_id=donation.id)
    db.session.commit()  # a view's rollback must not take the gift with it (the test's
    # outer transaction still undoes everything at the end)
    return donation


def day(n: int, hour: int = 12) -> datetime:
    return datetime(2026, 3, n, hour, tzinfo=UTC)
