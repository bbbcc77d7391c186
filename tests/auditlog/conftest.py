"""Audit-log fixtures: appending synthetic entries and recording real events."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_sqlalchemy.session import Session as FlaskSession

from charity.auditlog import integrity, store
from charity.auditlog.canonical import canonical_json
from charity.extensions import db

integrity.load_payload_builders()  # organization.* builders, as `flask audit verify` does


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


class _ConnectionBoundSession(FlaskSession):
    """Flask-SQLAlchemy's Session.get_bind() returns the *engine* for mapped tables,
    ignoring ``bind=connection``: the suite-wide ``db_session`` then commits for real
    on another pooled connection and leaks rows into later tests. Here every statement
    goes through the test's connection, so the outer rollback really undoes it."""

    def get_bind(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return self.bind


@pytest.fixture
def db_session(app: Flask) -> Iterator[sa.orm.scoped_session]:
    connection = db.engine.connect()
    outer = connection.begin()
    original = db.session
    db.session = db._make_scoped_session(
        {
            "bind": connection,
            "join_transaction_mode": "create_savepoint",
            "class_": _ConnectionBoundSession,
        }
    )
    try:
        yield db.session
    finally:
        db.session.remove()
        db.session = original
        if outer.is_active:
            outer.rollback()
        connection.close()
