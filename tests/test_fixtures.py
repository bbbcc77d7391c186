"""The fixtures themselves: a view's commit stays inside the test's outer transaction."""

from __future__ import annotations

import threading

import sqlalchemy as sa
from flask import current_app

from charity.extensions import db
from charity.models import User


def test_view_commits_are_invisible_to_other_connections(client):
    response = client.post(
        "/account/signup",
        data={
            "name": "Fixture",
            "email": "fixture@example.org",
            "password": "long enough pass",
            "confirm": "long enough pass",
        },
    )
    assert response.status_code == 200  # "check your mail": the address is confirmed first
    assert db.session.scalar(sa.select(User).filter_by(email="fixture@example.org"))
    # Another connection looks from another thread, as another request would: this
    # thread may still hold the POST's request context, whose transactions begin with
    # SQLite's write lock (BEGIN IMMEDIATE) and would wait for the test's own transaction.
    counts: list[int] = []

    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def look() -> None:
        with app.app_context(), db.engine.connect() as other:
            counts.append(
                other.scalar(
                    sa.text("SELECT count(*) FROM users WHERE email = 'fixture@example.org'")
                )
            )

    thread = threading.Thread(target=look)
    thread.start()
    thread.join(timeout=60)
    assert counts == [0]
