"""The batched log (AUDITLOG_SEQUENCER=batched): entries queued in their change's
transaction, appended by the sequencer in batches; on both databases, and under
concurrency on PostgreSQL."""

from __future__ import annotations

import json
import threading

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from charity.auditlog import checkpoint, integrity, merkle, store
from charity.auditlog.canonical import canonical_json
from charity.core.events import record_event
from charity.models import AuditEntry, AuditQueued
from tests.support.auditlog import synthetic
from tests.support.factories import OrganizationFactory


@pytest.fixture
def batched(app, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setitem(app.config, "AUDITLOG_SEQUENCER", "batched")
    return app


def _leaves(session) -> list[bytes]:  # type: ignore[no-untyped-def]
    return list(session.scalars(sa.select(AuditEntry.leaf_hash).order_by(AuditEntry.index)))


def test_event_is_queued_in_its_transaction_then_sequenced(batched, db_session) -> None:  # type: ignore[no-untyped-def]
    organization = OrganizationFactory()
    size, root = store.current_head(db_session)

    assert record_event(db_session, "organization.verified", subject_id=organization.id) == []
    assert store.current_head(db_session) == (size, root)  # not in the tree yet
    [queued] = db_session.scalars(sa.select(AuditQueued)).all()
    assert json.loads(queued.payload)["org_uscc"] == organization.uscc

    assert store.sequence_pending(db_session) == [size]
    entry = db_session.get(AuditEntry, size)
    assert entry.payload == queued.payload  # final when queued: sequencing adds the index
    assert (entry.subject_table, entry.subject_id) == ("organizations", organization.id)
    assert store.pending_count(db_session) == 0
    assert store.current_head(db_session) == (size + 1, merkle.root_hash(_leaves(db_session)))
    assert store.sequence_pending(db_session) == []  # nothing left: nothing happens


def test_rolled_back_change_leaves_nothing_queued(batched, db_session) -> None:  # type: ignore[no-untyped-def]
    organization = OrganizationFactory()
    nested = db_session.begin_nested()
    record_event(db_session, "organization.verified", subject_id=organization.id)
    assert store.pending_count(db_session) == 1
    nested.rollback()
    assert store.pending_count(db_session) == 0


def test_batches_keep_queue_order_and_respect_the_limit(batched, db_session) -> None:  # type: ignore[no-untyped-def]
    size, _root = store.current_head(db_session)
    at = store.now_utc()
    for entry in synthetic(7, 100):
        store.enqueue_entry(db_session, entry, at)
    assert store.sequence_pending(db_session, limit=3) == [size, size + 1, size + 2]
    assert store.sequence_pending(db_session, limit=3) == [size + 3, size + 4, size + 5]
    assert store.sequence_pending(db_session, limit=3) == [size + 6]
    numbers = [
        json.loads(e.payload)["n"] for e in store.entries_between(db_session, size, size + 7)
    ]
    assert numbers == list(range(100, 107))
    assert store.current_head(db_session)[1] == merkle.root_hash(_leaves(db_session))


def test_sequencer_command_and_verify_report_the_queue(batched, committed_db) -> None:  # type: ignore[no-untyped-def]
    organization = OrganizationFactory()
    committed_db.commit()
    record_event(committed_db, "organization.verified", subject_id=organization.id)
    committed_db.commit()
    runner = batched.test_cli_runner()

    waiting = runner.invoke(args=["audit", "verify"])
    assert waiting.exit_code == 0, waiting.output
    assert "1 queued for the sequencer" in waiting.output

    result = runner.invoke(args=["audit", "sequencer", "--once"])
    assert result.exit_code == 0, result.output
    assert "sequenced 1 entries" in result.output
    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0 and "queued" not in verified.output, verified.output
    committed_db.expire_all()
    assert (
        committed_db.scalar(
            sa.select(AuditEntry.subject_id).where(AuditEntry.event_type == "organization.verified")
        )
        == organization.id
    )


def test_sequencer_waits_for_a_transaction_that_has_not_committed(
    batched, committed_db, postgres_only
) -> None:  # type: ignore[no-untyped-def]
    """A queue row is invisible until its change commits; the sequencer takes it later."""
    engine = committed_db.get_bind()
    with Session(engine) as writer:
        writer.begin()
        store.enqueue_entry(writer, synthetic(1, 500)[0], store.now_utc())
        writer.flush()
        with Session(engine) as sequencer, sequencer.begin():
            assert store.sequence_pending(sequencer) == []
        writer.commit()
    with Session(engine) as sequencer, sequencer.begin():
        assert len(store.sequence_pending(sequencer)) == 1


WRITERS = 6
EACH = 25


def test_concurrent_writers_and_two_sequencers_make_one_gapless_log(
    batched, committed_db, postgres_only
) -> None:  # type: ignore[no-untyped-def]
    """Six threads queue entries in their own transactions while two sequencers run:
    every entry lands exactly once, indexes are gapless, the root matches a from-scratch
    computation, and a checkpoint signed midway is consistent with the end."""
    engine = committed_db.get_bind()
    done = threading.Event()
    errors: list[BaseException] = []
    midway: list[tuple[int, bytes]] = []

    def write(worker: int) -> None:
        try:
            for n in range(EACH):
                payload = canonical_json({"type": "test.batched", "w": worker, "n": n})
                entry = store.NewEntry(payload=payload, event_type="test.batched")
                with Session(engine) as session, session.begin():
                    store.enqueue_entry(session, entry, store.now_utc())
        except BaseException as error:
            errors.append(error)

    def sequence() -> None:
        try:
            while not done.is_set() or _pending(engine):
                with Session(engine) as session, session.begin():
                    store.sequence_pending(session, limit=17)
                with Session(engine) as session:
                    if not midway and store.current_head(session)[0] > WRITERS * EACH // 2:
                        midway.append(store.current_head(session))
        except BaseException as error:
            errors.append(error)

    sequencers = [threading.Thread(target=sequence) for _ in range(2)]
    writers = [threading.Thread(target=write, args=(i,)) for i in range(WRITERS)]
    for thread in [*sequencers, *writers]:
        thread.start()
    for thread in writers:
        thread.join(timeout=120)
    done.set()
    for thread in sequencers:
        thread.join(timeout=120)
    assert errors == []

    size, root = store.current_head(committed_db)
    assert size == WRITERS * EACH
    indexes = list(committed_db.scalars(sa.select(AuditEntry.index).order_by(AuditEntry.index)))
    assert indexes == list(range(size))
    payloads = [json.loads(p) for p in committed_db.scalars(sa.select(AuditEntry.payload))]
    assert sorted((p["w"], p["n"]) for p in payloads) == [
        (w, n) for w in range(WRITERS) for n in range(EACH)
    ]
    assert root == merkle.root_hash(_leaves(committed_db))
    assert store.pending_count(committed_db) == 0
    # A checkpoint taken midway is a prefix of the final tree.
    [(first, first_root)] = midway
    proof = store.consistency_proof(committed_db, first, size)
    merkle.verify_consistency(first, size, first_root, root, proof)  # raises if not
    signer = checkpoint.signer_for(batched)
    problems = list(integrity.check_log(committed_db, signer, batched.config["AUDITLOG_ORIGIN"]))
    assert problems == []


def _pending(engine: sa.Engine) -> int:
    with Session(engine) as session:
        return store.pending_count(session)


def test_each_batch_signs_its_checkpoint_so_serving_the_log_never_writes(
    batched, committed_db
) -> None:  # type: ignore[no-untyped-def]
    from charity.models import AuditCheckpoint

    at = store.now_utc()
    for entry in synthetic(3, 900):
        store.enqueue_entry(committed_db, entry, at)
    committed_db.commit()
    result = batched.test_cli_runner().invoke(args=["audit", "sequencer", "--once"])
    assert result.exit_code == 0, result.output

    def saved() -> int:
        committed_db.expire_all()
        return committed_db.scalar(sa.select(sa.func.count()).select_from(AuditCheckpoint))

    size, root = store.current_head(committed_db)
    assert saved() == 1 and store.saved_checkpoint(committed_db, size).root_hash == root
    writes: list[str] = []

    def count_writes(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            writes.append(statement)

    engine = committed_db.get_bind()
    sa.event.listen(engine, "before_cursor_execute", count_writes)
    try:
        client = batched.test_client()
        note = client.get("/api/v1/log/checkpoint").get_data(as_text=True)
        assert client.get(f"/log/{size - 1}").status_code == 200
        assert (
            client.get(f"/api/v1/log/proof/inclusion?index=0&tree_size={size}").status_code == 200
        )
    finally:
        sa.event.remove(engine, "before_cursor_execute", count_writes)
    assert note.splitlines()[1] == str(size)
    assert writes == [] and saved() == 1
