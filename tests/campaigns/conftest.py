"""Fixtures for the campaign tests: organizations with members, logins, plans, gifts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import event

from charity.core.clock import today_cst
from charity.extensions import db
from tests.support.campaigns import StatementCounter
from tests.support.factories import (
    MembershipFactory,
    OrganizationFactory,
    QualifiedOrganizationFactory,
    UserFactory,
)


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
