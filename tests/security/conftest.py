"""Fixtures for the security tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from charity import create_app
from charity.extensions import db, limiter
from config import TestingConfig
from tests.security.world import World, seed
from tests.support import dbutil


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


@pytest.fixture(scope="class")
def shared_world(app: Flask) -> Iterator[World]:
    """``seed()``'s world made once for a class of tests and committed, instead of once per
    test: the matrix's thousands of cases each request one URL as one user over the same
    world. Each test still runs in its own rolled-back transaction (``db_session``) on top
    of it, so no test sees another's changes; every table is emptied after the class.
    The world's ``users`` are ids: ``world.world_user`` loads one into the test's session."""
    try:
        made = seed(app)
        db.session.commit()
        yield World({role: user.id for role, user in made.users.items()}, dict(made.names))
    finally:
        db.session.remove()
        dbutil.truncate_all(db.engine, db.metadata)
