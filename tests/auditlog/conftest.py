"""Audit-log fixtures: appending synthetic entries and recording real events."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from charity.auditlog import store
from charity.auditlog.canonical import canonical_json


def synthetic(n: int, start: int = 0) -> list[store.NewEntry]:
    return [
        store.NewEntry(
            payload=canonical_json({"type": "test.synthetic", "n": start + i, "备注": "测试"}),
            event_type="test.synthetic",
        )
        for i in range(n)
    ]


@pytest.fixture
def append_synthetic(db_session) -> Callable[[int], list[int]]:  # type: ignore[no-untyped-def]
    def append(n: int) -> list[int]:
        size, _root = store.current_head(db_session)
        return store.append_entries(db_session, synthetic(n, size))

    return append
