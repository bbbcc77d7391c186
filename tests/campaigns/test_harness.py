"""The campaign tests' db_session really rolls back what the code under test commits."""

from __future__ import annotations

from sqlalchemy import func, select

from charity.core.uow import commit
from charity.models import Organization
from tests.support.factories import QualifiedOrganizationFactory

MARK = "回滚检查基金会"


def _marked(db_session) -> int:  # type: ignore[no-untyped-def]
    query = select(func.count()).select_from(Organization).where(Organization.name == MARK)
    return db_session.scalar(query)


def test_a_commit_inside_a_test(db_session):
    QualifiedOrganizationFactory(name=MARK)
    commit()
    assert _marked(db_session) == 1


def test_is_gone_in_the_next_test(db_session):
    assert _marked(db_session) == 0
