"""A pooled PostgreSQL connection the server ended is replaced before a request uses it,
without the pre-ping's round trip per request (DB_POOL_PRE_PING=socket, the default)."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from charity.extensions import db
from config import ConfigError, pool_pre_ping
from tests.support.dbutil import admin_server_url


def _backend_pid(application) -> int:  # type: ignore[no-untyped-def]
    with application.app_context():
        pid = db.session.scalar(sa.text("SELECT pg_backend_pid()"))
        db.session.remove()  # the connection goes back to the pool
    return int(pid)


def _terminate(database_url: str, pid: int) -> None:
    admin = sa.create_engine(admin_server_url(database_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        assert connection.scalar(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    admin.dispose()
    time.sleep(0.2)  # the server's FATAL message and FIN reach the pooled socket


def test_a_connection_the_server_ended_is_replaced_without_a_round_trip(
    make_app, database_url, postgres_only
):
    application = make_app(DB_POOL_PRE_PING="socket", SQLALCHEMY_ENGINE_OPTIONS={})
    first = _backend_pid(application)
    assert _backend_pid(application) == first  # pooled: the same connection again
    _terminate(database_url, first)
    second = _backend_pid(application)  # no error: the pool replaced it
    assert second != first


def test_without_the_check_the_first_use_fails(make_app, database_url, postgres_only):
    application = make_app(DB_POOL_PRE_PING="off", SQLALCHEMY_ENGINE_OPTIONS={})
    first = _backend_pid(application)
    _terminate(database_url, first)
    with pytest.raises(OperationalError):
        _backend_pid(application)


def test_the_setting(monkeypatch):
    for value, mode in (
        ("", "socket"),
        ("socket", "socket"),
        ("1", "query"),
        ("query", "query"),
        ("0", "off"),
        ("off", "off"),
    ):
        monkeypatch.setenv("DB_POOL_PRE_PING", value)
        assert pool_pre_ping() == mode
    monkeypatch.setenv("DB_POOL_PRE_PING", "sometimes")
    with pytest.raises(ConfigError, match="DB_POOL_PRE_PING"):
        pool_pre_ping()
