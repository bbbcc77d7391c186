"""The fixtures themselves: a view's commit stays inside the test's outer transaction."""

from __future__ import annotations

import sqlalchemy as sa

from charity.extensions import db
from charity.models import User


def test_view_commits_are_invisible_to_other_connections(client, monkeypatch):
    response = client.post(
        "/account/signup",
        data={
            "name": "Fixture",
            "email": "fixture@example.org",
            "password": "long enough pass",
            "confirm": "long enough pass",
        },
    )
    assert response.status_code == 302
    assert db.session.scalar(sa.select(User).filter_by(email="fixture@example.org"))
    # The test client keeps the POST's request context: without this the other connection
    # would begin IMMEDIATE (charity.core.db.request_writes) and wait for the test's own lock.
    monkeypatch.setenv("CHARITY_SQLITE_DEFERRED", "1")
    with db.engine.connect() as other:
        count = other.scalar(
            sa.text("SELECT count(*) FROM users WHERE email = 'fixture@example.org'")
        )
    assert count == 0
