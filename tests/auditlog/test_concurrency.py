"""Appends from many threads and processes at once: no gaps, no duplicates, no forks."""

from __future__ import annotations

import multiprocessing
import threading

import sqlalchemy as sa
from sqlalchemy.orm import Session

from charity.auditlog import checkpoint, integrity, merkle, store
from charity.auditlog.canonical import canonical_json
from charity.models import AuditEntry
from config import transaction_pooling

THREADS = 6
PROCESSES = 2
APPENDS_EACH = 12


def _append_many(url: str, worker: str) -> None:
    """One worker: APPENDS_EACH transactions of 1–3 entries each, on its own engine (with the
    app's options: through PgBouncer, no server-side prepared statements)."""
    engine = sa.create_engine(url, **transaction_pooling({}))
    try:
        for n in range(APPENDS_EACH):
            batch = [
                store.NewEntry(
                    payload=canonical_json(
                        {"type": "test.concurrent", "worker": worker, "n": n, "k": k}
                    ),
                    event_type="test.concurrent",
                )
                for k in range(n % 3 + 1)
            ]
            with Session(engine) as session, session.begin():
                store.append_entries(session, batch)
    finally:
        engine.dispose()


def test_concurrent_appends_from_threads_and_processes(app, committed_db, postgres_only) -> None:  # type: ignore[no-untyped-def]
    url = committed_db.get_bind().url.render_as_string(hide_password=False)
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=_append_many, args=(url, f"p{i}")) for i in range(PROCESSES)
    ]
    threads = [threading.Thread(target=_append_many, args=(url, f"t{i}")) for i in range(THREADS)]
    for worker in [*processes, *threads]:
        worker.start()
    for worker in [*processes, *threads]:
        worker.join(timeout=120)
    assert all(process.exitcode == 0 for process in processes)

    per_worker = sum(n % 3 + 1 for n in range(APPENDS_EACH))
    expected = per_worker * (THREADS + PROCESSES)
    size, root = store.current_head(committed_db)
    indexes = list(committed_db.scalars(sa.select(AuditEntry.index).order_by(AuditEntry.index)))
    assert size == expected
    assert indexes == list(range(expected))  # no gaps, no duplicates
    leaves = list(committed_db.scalars(sa.select(AuditEntry.leaf_hash).order_by(AuditEntry.index)))
    assert root == merkle.root_hash(leaves)  # the root of a from-scratch computation
    signer = checkpoint.signer_for(app)
    assert list(integrity.check_log(committed_db, signer, app.config["AUDITLOG_ORIGIN"])) == []
