"""Drop and create a PostgreSQL database, for a run that starts from empty: the benches
(bench/run.py and those built on it) and the test session (tests/support/dbutil.py)."""

from __future__ import annotations

import sqlalchemy as sa


def recreate_database(url: str | sa.URL, server: str | sa.URL | None = None) -> None:
    """Drop the database ``url`` names (ending its other connections first) and create it
    empty. ``server`` is where to do it when ``url`` does not name the PostgreSQL server
    itself (a PgBouncer in front of it); by default ``url``'s own server."""
    name = sa.engine.make_url(url).database
    admin_url = sa.engine.make_url(server if server is not None else url).set(database="postgres")
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(
            sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": name},
        )
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
