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
from flask import Flask, g
from flask_migrate import upgrade
from flask_sqlalchemy.session import Session as FlaskSession

from charity import create_app
from charity.extensions import db
from config import TestingConfig
from tests import dbutil


def pytest_report_header(config: pytest.Config) -> str:
    return f"database: {dbutil.describe(dbutil.test_database_url())}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = dbutil.test_database_url()
    if url.startswith("postgresql"):
        dbutil.recreate_postgres_database(url)
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


def _fresh_request_globals() -> None:
    g.__dict__.clear()


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    instance = tmp_path_factory.mktemp("instance")
    application = create_app(TestingConfig(database_url, UPLOAD_DIR=str(instance / "uploads")))
    application.instance_path = str(instance)
    # The suite keeps one application context open, and requests reuse it, so ``g`` would
    # carry Flask-Login's user, Flask-WTF's CSRF token and Flask-Babel's locale from one
    # request (and test client) to the next. In production every request has a fresh ``g``.
    application.before_request_funcs.setdefault(None, []).insert(0, _fresh_request_globals)
    with application.app_context():
        upgrade()
        yield application
        db.session.remove()
        db.engine.dispose()


class _ConnectionBoundSession(FlaskSession):
    """Flask-SQLAlchemy's Session.get_bind answers with the engine and ignores ``bind=``;
    the test session must use the test's connection, or nothing is rolled back."""

    def get_bind(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return self.bind


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


@pytest.fixture
def committed_db(app: Flask) -> Iterator[sa.orm.scoped_session]:
    """Real commits, visible to other connections/threads; every table emptied afterwards."""
    try:
        yield db.session
    finally:
        db.session.remove()
        dbutil.truncate_all(db.engine, db.metadata)


@pytest.fixture
def client(app: Flask, db_session):  # type: ignore[no-untyped-def]
    with app.test_client() as test_client:
        yield test_client


@pytest.fixture
def mail_outbox() -> Iterator[list]:
    from charity import mail

    mail.outbox.clear()
    yield mail.outbox
    mail.outbox.clear()


@pytest.fixture
def postgres_only(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL (runs in the PostgreSQL pass of `make test`)")


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("CHARITY_ENV", "testing")
