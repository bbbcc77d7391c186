"""Engine-level behaviour that must hold on every connection."""

from __future__ import annotations

import os
import select
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, has_request_context, request
from sqlalchemy import event, exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session


def configure_engine_events(engine: Engine, pre_ping: str = "socket") -> None:
    """On PostgreSQL with ``pre_ping`` "socket" (``DB_POOL_PRE_PING``, the default): test
    each connection's socket as it leaves the pool (``check_pooled_sockets``).

    On SQLite: enforce foreign keys and let SQLAlchemy own transactions.

    pysqlite's own transaction handling breaks SAVEPOINT (used by the test suite's
    rollback-per-test and by nested service transactions), so it is switched off and
    SQLAlchemy emits BEGIN itself, as the SQLAlchemy documentation recommends.
    """
    if getattr(engine, "_charity_configured", False):
        return
    engine._charity_configured = True  # type: ignore[attr-defined]
    if engine.dialect.name == "postgresql" and pre_ping == "socket":
        event.listen(engine, "checkout", check_pooled_sockets)
    if engine.dialect.name != "sqlite":
        return

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
        conn.exec_driver_sql("BEGIN IMMEDIATE" if request_writes() else "BEGIN")


def check_pooled_sockets(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """The pool's checkout test without a round trip (the pre-ping's is one per request):
    an idle psycopg connection has nothing to read unless the server ended it (a restart,
    ``pg_terminate_backend``, an idle timeout, PgBouncer closing the client: the server
    sends its FATAL message and closes, so the socket becomes readable); the app never
    LISTENs. Such a connection raises DisconnectionError, and the pool replaces it with a
    new one before the request uses it. A connection psycopg already knows is closed or
    broken goes the same way."""
    if dbapi_connection.closed or dbapi_connection.broken:
        raise exc.DisconnectionError("pooled connection closed")
    try:
        fd = dbapi_connection.pgconn.socket
    except Exception as error:  # psycopg.OperationalError: no socket any more
        raise exc.DisconnectionError(f"pooled connection has no socket: {error}") from error
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLERR | select.POLLHUP)
    if poller.poll(0):
        raise exc.DisconnectionError("the server ended the pooled connection")


#: Requests with these methods only read, unless their view is marked with ``@writes``.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

View = TypeVar("View", bound=Callable[..., Any])


def writes(view: View) -> View:
    """Mark a GET view that writes (it confirms a payment on the donor's return, opens a
    provider order, saves a checkpoint...), so that on SQLite its transaction takes the
    write lock when it begins, like every POST."""
    view.sqlite_writes = True  # type: ignore[attr-defined]
    return view


def request_writes() -> bool:
    """Whether this request's transactions should begin holding SQLite's write lock.

    In WAL mode a transaction that begins by reading and later writes fails at once with
    SQLITE_BUSY_SNAPSHOT when another connection committed in between: waiting cannot help,
    and the request would be lost. ``BEGIN IMMEDIATE`` takes the write lock first, so
    concurrent writers queue on the busy timeout instead. Reads (GET, HEAD, OPTIONS) keep
    plain ``BEGIN`` and never wait for writers (WAL readers see a snapshot). Outside a
    request (CLI commands, jobs, tests' own sessions) transactions begin deferred.
    PostgreSQL is unaffected (this hook is SQLite's only).
    """
    if not has_request_context() or os.environ.get("CHARITY_SQLITE_DEFERRED") == "1":
        return False
    if request.method not in SAFE_METHODS:
        return True
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "sqlite_writes", False))


def dialect_insert(session: Session) -> Any:
    """The dialect's ``insert`` (with ``on_conflict_do_*``) for the session's database:
    PostgreSQL and SQLite (3.24+) both spell an upsert ``ON CONFLICT``."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert
    return sqlite.insert
