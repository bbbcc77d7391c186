"""Engine-level behaviour that must hold on every connection."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session


def configure_engine_events(engine: Engine) -> None:
    """On SQLite: enforce foreign keys and let SQLAlchemy own transactions.

    pysqlite's own transaction handling breaks SAVEPOINT (used by the test suite's
    rollback-per-test and by nested service transactions), so it is switched off and
    SQLAlchemy emits BEGIN itself, as the SQLAlchemy documentation recommends.
    """
    if engine.dialect.name != "sqlite":
        return
    if getattr(engine, "_charity_configured", False):
        return
    engine._charity_configured = True  # type: ignore[attr-defined]

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # type: ignore[no-untyped-def]
        conn.exec_driver_sql("BEGIN")


def commit() -> None:
    """The one commit of a request. Side effects queued during it (mail) go out after."""
    from charity.extensions import db
    from charity.ops.mail import flush_queued_mail

    db.session.commit()
    flush_queued_mail()


def dialect_insert(session: Session) -> Any:
    """The dialect's ``insert`` (with ``on_conflict_do_*``) for the session's database:
    PostgreSQL and SQLite (3.24+) both spell an upsert ``ON CONFLICT``."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert
    return sqlite.insert
