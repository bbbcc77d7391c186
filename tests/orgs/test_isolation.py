"""The area's db_session fixture really rolls back what views commit (see conftest)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from charity.core.uow import commit
from charity.models import Organization
from tests.support.factories import OrganizationFactory


@pytest.mark.parametrize("attempt", [1, 2])
def test_committed_rows_do_not_outlive_the_test(db_session, attempt):
    assert db_session.scalar(select(func.count()).select_from(Organization)) == 0
    OrganizationFactory()
    commit()
