"""Audit-log fixtures: appending synthetic entries and recording real events."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from charity.auditlog import store
from tests.support.auditlog import synthetic


@pytest.fixture
def append_synthetic(db_session) -> Callable[[int], list[int]]:  # type: ignore[no-untyped-def]
    def append(n: int) -> list[int]:
        size, _root = store.current_head(db_session)
        return store.append_entries(db_session, synthetic(n, size))

    return append
