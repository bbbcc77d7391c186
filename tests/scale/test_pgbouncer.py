"""The app behind PgBouncer in transaction pooling mode (issue 20, part 2).

In transaction pooling, each transaction of a client connection may run on a different
server connection, so nothing may outlive a transaction on the server. What that rules
out, and how the app keeps to it:

* server-side prepared statements: psycopg prepares a statement on its 5th run;
  ``DB_TRANSACTION_POOLING=1`` switches that off (config.transaction_pooling);
* session-level state: only ``SET LOCAL``; no session advisory locks (row locks and
  ``pg_advisory_xact_lock`` are transaction-scoped and fine); no ``LISTEN``.

The PostgreSQL pass of `make test` also runs the money and log tests through PgBouncer
(scripts/run_tests.py).
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from flask import Flask

import config
from bench.cluster import PgBouncer
from charity import create_app
from charity.auditlog import checkpoint, integrity, store
from charity.auditlog.canonical import canonical_json
from charity.extensions import db

ROOT = Path(__file__).resolve().parents[2]


def _engine(url: str, options: dict) -> sa.Engine:
    return sa.create_engine(url, poolclass=sa.pool.NullPool, **options)


@pytest.mark.usefixtures("postgres_only")
def test_prepared_statements_are_switched_off_behind_transaction_pooling(
    pgbouncer: PgBouncer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the setting, a statement prepared on one server connection is missing on
    the next one PgBouncer hands out; with it, the same sequence works."""

    def run(options: dict) -> None:
        first = _engine(pgbouncer.url(), options).connect()
        second = _engine(pgbouncer.url(), options).connect()
        try:
            query = sa.text("SELECT count(*) + :n FROM pg_class")
            for n in range(6):  # psycopg prepares it server-side on the 5th run
                first.execute(query, {"n": n})
                first.commit()
            # The other client takes the server connection the first one just released
            # (PgBouncer reuses the most recently used), so the first lands on another.
            second.execute(sa.text("SELECT 1"))
            first.execute(query, {"n": 7})
            first.commit()
        finally:
            second.rollback()
            second.close()
            first.close()

    with pytest.raises(sa.exc.DBAPIError) as failure:
        run({})
    assert isinstance(
        failure.value.orig,
        psycopg.errors.InvalidSqlStatementName | psycopg.errors.DuplicatePreparedStatement,
    )
    monkeypatch.setenv("DB_TRANSACTION_POOLING", "1")
    run(config.transaction_pooling({}))


@pytest.fixture
def bounced_app(pgbouncer: PgBouncer, database_url: str, app: Flask, committed_db, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DB_TRANSACTION_POOLING", "1")
    application = create_app(
        config.TestingConfig(
            pgbouncer.url(),
            AUDITLOG_SEQUENCER="batched",
            SQLALCHEMY_ENGINE_OPTIONS=config.transaction_pooling(
                {"pool_pre_ping": True, "pool_size": 8}
            ),
        )
    )
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.usefixtures("postgres_only")
def test_the_log_and_its_sequencer_work_through_pgbouncer(
    bounced_app: Flask, pgbouncer: PgBouncer
) -> None:
    """Eight threads queue log entries and read the API while a sequencer appends, all
    through a PgBouncer pool of four server connections: one gapless, verified log."""
    writers, each = 8, 15
    errors: list[BaseException] = []
    done = threading.Event()

    def write(worker: int) -> None:
        client = bounced_app.test_client()
        try:
            for n in range(each):
                with bounced_app.app_context():
                    payload = canonical_json({"type": "test.bounced", "worker": worker, "n": n})
                    store.enqueue_entry(
                        db.session,
                        store.NewEntry(payload=payload, event_type="test.bounced"),
                        store.now_utc(),
                    )
                    db.session.commit()
                assert client.get("/api/v1/log/checkpoint").status_code == 200
        except BaseException as error:  # reported below
            errors.append(error)

    def sequence() -> None:
        with bounced_app.app_context():
            signer = checkpoint.signer_for(bounced_app)
            origin = bounced_app.config["AUDITLOG_ORIGIN"]
            while True:
                finished = done.is_set()
                checkpoint.sequence_batch(db.session, signer, origin, 50)
                db.session.commit()
                if finished and not store.pending_count(db.session):
                    db.session.rollback()
                    return
                db.session.rollback()

    sequencer = threading.Thread(target=sequence)
    sequencer.start()
    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    sequencer.join()
    assert not errors, errors

    with bounced_app.app_context():
        size, _root = store.current_head(db.session)
        assert size == writers * each
        signer = checkpoint.signer_for(bounced_app)
        assert (
            list(integrity.check_log(db.session, signer, bounced_app.config["AUDITLOG_ORIGIN"]))
            == []
        )
        db.session.rollback()
    pools = [
        row for row in pgbouncer.show("POOLS") if row["database"] == pgbouncer.primary.database
    ]
    assert pools and all(row["pool_mode"] == "transaction" for row in pools)
    servers = pgbouncer.show("SERVERS")
    assert 0 < len([s for s in servers if s["database"] == pgbouncer.primary.database]) <= 4


def test_no_session_state_that_transaction_pooling_would_break() -> None:
    """Guard: nothing in the app relies on server session state (docs/scaling.md)."""
    forbidden = re.compile(
        r"pg_(try_)?advisory_lock(_shared)?\s*\(|\bSET\s+(SESSION\s+)?"
        r"(statement_timeout|lock_timeout|search_path|TIME ZONE|timezone)\b",
        re.IGNORECASE,
    )
    listen = re.compile(r"[\"']\s*(LISTEN|UNLISTEN)\s+\w")  # SQL is written in capitals
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in (ROOT / "charity").rglob("*.py")
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        if (forbidden.search(line) and "SET LOCAL" not in line.upper()) or listen.search(line)
    ]
    assert offenders == []


def test_an_app_leaves_the_engine_options_it_was_given_alone() -> None:
    """Behind PgBouncer the config class's engine options carry connect_args
    (prepare_threshold); Flask-SQLAlchemy used to add SQLite's check_same_thread to that
    shared dict, and every PostgreSQL app made afterwards in the process failed to connect."""
    options = config.transaction_pooling({"connect_args": {"connect_timeout": 3}})
    options["connect_args"]["prepare_threshold"] = None
    before = {**options, "connect_args": dict(options["connect_args"])}
    create_app(config.TestingConfig("sqlite://", SQLALCHEMY_ENGINE_OPTIONS=options))
    assert options == before
