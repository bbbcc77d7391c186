"""Database helpers for the test suite (no app code here)."""

from __future__ import annotations

import os

import sqlalchemy as sa
from flask_sqlalchemy.session import Session as FlaskSQLAlchemySession

from bench.database import recreate_database
from config import database_url


def test_database_url() -> str:
    return database_url(os.environ.get("TEST_DATABASE_URL", ""))


def describe(url: str) -> str:
    if not url:
        return "SQLite (temporary file)"
    return sa.engine.make_url(url).render_as_string(hide_password=True)


def admin_server_url(url: str) -> sa.URL:
    """Where to DROP/CREATE the test database: the server itself. When the suite runs
    through PgBouncer (TEST_DATABASE_URL names it), TEST_DATABASE_ADMIN_URL names the
    PostgreSQL server behind it."""
    direct = os.environ.get("TEST_DATABASE_ADMIN_URL")
    return sa.engine.make_url(database_url(direct) if direct else url)


def recreate_postgres_database(url: str) -> None:
    """Drop and create the test database so migrations run from empty."""
    recreate_database(url, server=admin_server_url(url))


def truncate_all(engine: sa.Engine, metadata: sa.MetaData) -> None:
    tables = [t for t in reversed(metadata.sorted_tables)]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            connection.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(table.delete())


class ConnectionBoundSession(FlaskSQLAlchemySession):
    """Flask-SQLAlchemy's Session.get_bind() ignores ``bind=`` and returns the engine, which
    would send the views' commits to another connection, outliving the test."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):  # type: ignore[no-untyped-def]
        return bind if bind is not None else self.bind
