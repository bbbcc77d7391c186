"""Fixtures for the security tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from charity import create_app
from charity.extensions import db, limiter
from config import TestingConfig


@pytest.fixture
def limited_app(app, database_url, db_session) -> Iterator[Flask]:  # type: ignore[no-untyped-def]
    """An app with rate limits on, over the test's (rolled-back) database session.

    Flask-Limiter keeps its switch and storage on the one ``limiter`` object, so creating
    this app turns limiting on for the whole process: the switch is put back and the
    (fresh, in-memory) storage emptied afterwards, so no other test is limited.
    """
    was_enabled = limiter.enabled

    def build(**overrides: object) -> Flask:
        config = TestingConfig(
            database_url,
            RATELIMIT_ENABLED=True,
            RATELIMIT_STORAGE_URI="memory://",
            **overrides,
        )
        application = create_app(config)
        application.instance_path = app.instance_path
        built.append(application)
        return application

    built: list[Flask] = []
    try:
        yield build
    finally:
        limiter.reset()
        limiter.enabled = was_enabled
        for application in built:
            with application.app_context():
                db.engine.dispose()
