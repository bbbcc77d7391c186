"""Audit-log helpers shared by several test packages: synthetic log entries."""

from __future__ import annotations

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
