"""Test fixtures.

The suite runs against the database named by TEST_DATABASE_URL (PostgreSQL) or, when it
is unset, a fresh SQLite file. The schema is built by running the Alembic migrations
from empty, so every run also proves the migrations. Each test runs inside an outer
transaction that is rolled back (SAVEPOINTs for the code's own commits); tests that need
real commits across connections (concurrency, live servers) use ``committed_db``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask, g, request_started
from flask_migrate import upgrade

from charity import create_app
from charity.extensions import db
from config import TestingConfig
from tests.support import dbutil
from tests.support.dbutil import ConnectionBoundSession
from tests.support.factories import session_id

#: Fixtures shared by several test packages (tests/support).
pytest_plugins = [
    "tests.support.apps",
    "tests.support.funds",
    "tests.support.payments",
    "tests.support.security",
]


def pytest_report_header(config: pytest.Config) -> str:
    return f"database: {dbutil.describe(dbutil.test_database_url())}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = dbutil.test_database_url()
    if url.startswith("postgresql"):
        dbutil.recreate_postgres_database(url)
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    instance = tmp_path_factory.mktemp("instance")
    application = create_app(TestingConfig(database_url, UPLOAD_DIR=str(instance / "uploads")))
    application.instance_path = str(instance)
    with application.app_context():
        upgrade()
        yield application
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def db_session(app: Flask) -> Iterator[sa.orm.scoped_session]:
    """A session whose work is rolled back after the test, commits included."""
    connection = db.engine.connect()
    outer = connection.begin()
    original = db.session
    db.session = db._make_scoped_session(
        {
            "bind": connection,
            "join_transaction_mode": "create_savepoint",
            "class_": ConnectionBoundSession,
        }
    )

    def settle(sender, **extra):  # type: ignore[no-untyped-def]
        # What the test built before a request is already there when a real request starts:
        # a request that fails rolls back its own work, not the test's setting.
        db.session.commit()

    try:
        with request_started.connected_to(settle, app):
            yield db.session
    finally:
        db.session.remove()
        db.session = original
        if outer.is_active:
            outer.rollback()
        connection.close()


@pytest.fixture
def committed_db(app: Flask) -> Iterator[sa.orm.scoped_session]:
    """Real commits, visible to other connections/threads; every table emptied afterwards."""
    try:
        yield db.session
    finally:
        db.session.remove()
        dbutil.truncate_all(db.engine, db.metadata)


@pytest.fixture(autouse=True)
def _fresh_g_per_request(app: Flask) -> Iterator[None]:
    """The session-wide app context makes ``g`` outlive a request; a real server has one app
    context per request. Empty ``g`` when each request starts (Flask-Login caches the user
    there), so nothing leaks between requests or tests."""

    def forget(sender, **extra):  # type: ignore[no-untyped-def]
        for key in list(g):
            g.pop(key, None)

    forget(app)
    with request_started.connected_to(forget, app):
        yield
    forget(app)


@pytest.fixture
def client(app: Flask, db_session):  # type: ignore[no-untyped-def]
    with app.test_client() as test_client:
        yield test_client


@pytest.fixture(autouse=True)
def _english_pages(request):  # type: ignore[no-untyped-def]
    """Assertions read English msgids, so test clients browse in English; tests about the
    Chinese default are marked ``@pytest.mark.chinese`` and see the real default."""
    if "client" in request.fixturenames and not request.node.get_closest_marker("chinese"):
        client = request.getfixturevalue("client")
        with client.session_transaction() as session:
            session["lang"] = "en"


@pytest.fixture
def login(client):  # type: ignore[no-untyped-def]
    """Log a user in through Flask-Login's session keys (the login form is tested elsewhere);
    ``login(None)`` logs out."""

    def log_in(user) -> None:  # type: ignore[no-untyped-def]
        with client.session_transaction() as session:
            if user is None:
                session.pop("_user_id", None)
                return
            session["_user_id"] = session_id(user)
            session["_fresh"] = True

    return log_in


@pytest.fixture
def recorded_events():  # type: ignore[no-untyped-def]
    """Every event recorded during the test, via a real subscriber."""
    from charity.core import events

    seen: list = []

    def handler(session, event):  # type: ignore[no-untyped-def]
        seen.append(event)

    events.subscribe(handler)
    try:
        yield seen
    finally:
        events.unsubscribe(handler)


@pytest.fixture
def mail_outbox() -> Iterator[list]:
    from charity.ops import mail

    mail.outbox.clear()
    yield mail.outbox
    mail.outbox.clear()


@pytest.fixture
def postgres_only(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL (runs in the PostgreSQL pass of `make test`)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On SQLite, PostgreSQL-only tests are deselected rather than skipped: they run in the
    PostgreSQL pass of `make test`, and a CI run shows no skips."""
    if dbutil.test_database_url().startswith("postgresql"):
        return
    selected, deselected = [], []
    for item in items:
        (deselected if "postgres_only" in getattr(item, "fixturenames", ()) else selected).append(
            item
        )
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("CHARITY_ENV", "testing")
