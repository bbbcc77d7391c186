"""Fixtures for the campaign tests: organizations with members, logins, plans, gifts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import factory
import pytest
from sqlalchemy import event

from charity.core.clock import today_cst
from charity.extensions import db
from charity.models import Donation
from tests.support.factories import (
    Base,
    CampaignFactory,
    MembershipFactory,
    OrganizationFactory,
    QualifiedOrganizationFactory,
    UserFactory,
    session_id,
)


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


class DraftCampaignFactory(CampaignFactory):
    status = "draft"


def sign_in(client, user) -> None:  # type: ignore[no-untyped-def]
    """Like the shared ``login`` fixture, as a plain function for helpers and classes."""
    with client.session_transaction() as session:
        session["_user_id"] = session_id(user)
        session["_fresh"] = True


@pytest.fixture
def today() -> date:
    return today_cst()


@pytest.fixture
def qualified_org(db_session):  # type: ignore[no-untyped-def]
    return QualifiedOrganizationFactory()


@pytest.fixture
def owner(db_session, qualified_org):  # type: ignore[no-untyped-def]
    return MembershipFactory(organization=qualified_org, role="owner").user


@pytest.fixture
def editor(db_session, qualified_org):  # type: ignore[no-untyped-def]
    return MembershipFactory(organization=qualified_org, role="editor").user


@pytest.fixture
def unqualified_org(db_session):  # type: ignore[no-untyped-def]
    return OrganizationFactory(province="湖南省", city="长沙市", district="")


@pytest.fixture
def donor(db_session):  # type: ignore[no-untyped-def]
    return UserFactory()


def plan_form(today: date, **overrides: object) -> dict[str, object]:
    """A complete, valid filing form as a browser would post it."""
    data: dict[str, object] = {
        "title": "乡村学校图书角",
        "summary": "为 20 所乡村小学建设图书角。",
        "cause": "education",
        "purpose_md": "让乡村孩子读上好书。",
        "filing_number": "53440100MJL0000001A26001",
        "filing_date": (today - timedelta(days=2)).isoformat(),
        "start_date": (today + timedelta(days=8)).isoformat(),
        "end_date": (today + timedelta(days=100)).isoformat(),
        "region": "广东省梅州市",
        "person_in_charge": "周五",
        "acceptance_methods": "平台在线捐赠",
        "receiving_account": "中国银行梅州分行 6217 0000 0000 0000",
        "beneficiaries": "梅州市 20 所乡村小学的学生",
        "use_of_funds": "购书和书架",
        "fundraising_cost": "不超过 2%",
        "leftover_plan": "转入同类项目",
        "expected_amount": "500,000",
        "partner_uscc": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


class StatementCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, _conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            self.statements.append(statement)


@pytest.fixture
def count_statements():  # type: ignore[no-untyped-def]
    """Context manager factory: counts SQL statements sent on the engine."""
    from contextlib import contextmanager

    @contextmanager
    def counting() -> Iterator[StatementCounter]:
        counter = StatementCounter()
        event.listen(db.engine, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            event.remove(db.engine, "before_cursor_execute", counter)

    return counting
