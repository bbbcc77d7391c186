"""The audit log in the database: appends, proofs, entries and checkpoints.

Every entry is written in the caller's transaction (roll back the change and its entry
goes too), in one of two ways, chosen by ``AUDITLOG_SEQUENCER``:

* ``inline`` (the default; development, tests): the entry is appended to the tree at
  once, serialized on the log head: ``SELECT ... FOR UPDATE`` on PostgreSQL, the
  database write lock on SQLite (taken up front by a no-op UPDATE of the head).
* ``batched`` (production): the entry, payload final, is inserted into
  ``auditlog_queue`` with no shared lock; the single log sequencer (``flask audit
  sequencer``) appends committed queue rows to the tree in batches and gives them
  their indexes (``sequence_pending``). One head lock and one commit per batch instead
  of per change: docs/scaling.md has the numbers.

An append of k entries reads the O(log n) "frontier" subtrees, writes k leaves and the
subtrees they complete, and moves the head; proofs read O(log n) stored subtrees in one
query.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy.orm import Session

from charity.auditlog import merkle
from charity.auditlog.canonical import canonical_json
from charity.core import events
from charity.core.db import dialect_insert
from charity.models.auditlog import (
    AuditCheckpoint,
    AuditEntry,
    AuditHead,
    AuditNode,
    AuditQueued,
)

HEAD_ID = 1
RESERVED_KEYS = ("type", "at")

_entries = AuditEntry.__table__
_nodes = AuditNode.__table__
_head = AuditHead.__table__
_checkpoints = AuditCheckpoint.__table__
_queue = AuditQueued.__table__

#: ``AUDITLOG_SEQUENCER`` values.
INLINE, BATCHED = "inline", "batched"


def format_timestamp(value: datetime) -> str:
    """RFC 3339 UTC with exactly six fractional digits: ``2026-11-25T14:33:35.123456Z``."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given; use an aware UTC datetime")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_payload(event_type: str, at: datetime, data: Mapping[str, Any]) -> str:
    """The canonical JSON payload of an entry: {"type", "at", ...data}."""
    clash = [key for key in RESERVED_KEYS if key in data]
    if clash:
        raise events.EventError(f"{event_type!r}: event data may not use the keys {clash}")
    return canonical_json({"type": event_type, "at": format_timestamp(at), **data})


@dataclass(frozen=True)
class NewEntry:
    payload: str
    event_type: str
    organization_uscc: str | None = None
    organization_id: int | None = None
    subject_table: str | None = None
    subject_id: int | None = None

    @classmethod
    def from_event(cls, event: events.Event) -> NewEntry:
        uscc = event.data.get("org_uscc")
        org_id = event.data.get("organization_id")
        return cls(
            payload=event_payload(event.type, event.at, event.data),
            event_type=event.type,
            organization_uscc=uscc if isinstance(uscc, str) else None,
            organization_id=org_id if isinstance(org_id, int) else None,
            subject_table=event.subject_table,
            subject_id=event.subject_id,
        )


# --- the head and its lock -------------------------------------------------------------


def insert_ignore(session: Session, table: sa.Table, row: dict[str, Any]) -> None:
    """INSERT the row unless its key exists (ON CONFLICT DO NOTHING)."""
    session.execute(dialect_insert(session)(table).values(**row).on_conflict_do_nothing())


_insert_ignore = insert_ignore


def _select_head(session: Session, *, lock: bool) -> tuple[int, bytes] | None:
    query = sa.select(_head.c.size, _head.c.root_hash).where(_head.c.id == HEAD_ID)
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    row = session.execute(query).first()
    return (row.size, row.root_hash) if row else None


def lock_head(session: Session) -> tuple[int, bytes]:
    """Take the append lock for this transaction; returns the current (size, root)."""
    if session.get_bind().dialect.name == "sqlite":
        # A write first, so this transaction holds SQLite's write lock before reading.
        session.execute(sa.update(_head).where(_head.c.id == HEAD_ID).values(size=_head.c.size))
    head = _select_head(session, lock=True)
    if head is None:
        _insert_ignore(
            session,
            _head,
            {"id": HEAD_ID, "size": 0, "root_hash": merkle.EMPTY_ROOT, "updated_at": now_utc()},
        )
        head = _select_head(session, lock=True)
        assert head is not None
    return head


def current_head(session: Session) -> tuple[int, bytes]:
    """The committed (size, root) as this transaction sees it, without locking."""
    return _select_head(session, lock=False) or (0, merkle.EMPTY_ROOT)


def now_utc() -> datetime:
    return datetime.now(UTC)


# --- stored subtrees -------------------------------------------------------------------


def subtree_hashes(
    session: Session, keys: Iterable[tuple[int, int]]
) -> dict[tuple[int, int], bytes]:
    """Stored perfect subtree hashes for (level, index) keys, in one query.

    Proofs are the hot path (p99 ≤ 5 ms at 1M entries), so this is one plain SQL
    statement: the keys are integers, formatted with ``:d`` (no injection possible),
    which spares SQLAlchemy building and compiling a statement of varying shape.
    """
    by_level: dict[int, set[int]] = {}
    for level, index in keys:
        by_level.setdefault(int(level), set()).add(int(index))
    if not by_level:
        return {}
    condition = " OR ".join(
        f"(level = {level:d} AND idx IN ({','.join(f'{i:d}' for i in sorted(indexes))}))"
        for level, indexes in sorted(by_level.items())
    )
    rows = session.connection().exec_driver_sql(
        f"SELECT level, idx, hash FROM auditlog_nodes WHERE {condition}"  # noqa: S608 (ints)
    )
    return {(level, index): bytes(hash_) for level, index, hash_ in rows}


class MissingNodeError(LookupError):
    """A stored subtree the tree needs is missing: the store is damaged."""


def _resolver(session: Session, ranges: Sequence[tuple[int, int]]) -> merkle.SubtreeHash:
    needed = {key for start, end in ranges for key in merkle.perfect_subtrees(start, end)}
    found = subtree_hashes(session, needed)
    missing = needed - found.keys()
    if missing:
        raise MissingNodeError(f"stored subtrees missing: {sorted(missing)[:5]}")

    def subtree_hash(start: int, end: int) -> bytes:
        return merkle.fold_right([found[key] for key in merkle.perfect_subtrees(start, end)])

    return subtree_hash


def root_at(session: Session, size: int) -> bytes:
    """MTH(D[0:size]) from at most log2(size) stored subtrees."""
    if size == 0:
        return merkle.EMPTY_ROOT
    return _resolver(session, [(0, size)])(0, size)


def inclusion_proof(session: Session, index: int, size: int) -> list[bytes]:
    def build(subtree_hash: merkle.SubtreeHash) -> list[bytes]:
        return merkle.inclusion_path(index, size, subtree_hash)

    return build(_resolver(session, merkle.proof_ranges(build)))


def consistency_proof(session: Session, first: int, second: int) -> list[bytes]:
    def build(subtree_hash: merkle.SubtreeHash) -> list[bytes]:
        return merkle.consistency_path(first, second, subtree_hash)

    return build(_resolver(session, merkle.proof_ranges(build)))


def inclusion_bundle(session: Session, index: int, size: int) -> tuple[bytes, list[bytes], bytes]:
    """(leaf hash, inclusion path, root) for ``index`` in the tree of ``size``: one query."""

    def build(subtree_hash: merkle.SubtreeHash) -> list[bytes]:
        return merkle.inclusion_path(index, size, subtree_hash)

    resolve = _resolver(session, [*merkle.proof_ranges(build), (0, size), (index, index + 1)])
    return resolve(index, index + 1), build(resolve), resolve(0, size)


def consistency_bundle(
    session: Session, first: int, second: int
) -> tuple[list[bytes], bytes, bytes]:
    """(consistency path, first root, second root): one query."""

    def build(subtree_hash: merkle.SubtreeHash) -> list[bytes]:
        return merkle.consistency_path(first, second, subtree_hash)

    resolve = _resolver(session, [*merkle.proof_ranges(build), (0, first), (0, second)])
    return build(resolve), resolve(0, first), resolve(0, second)


def leaf_hash_at(session: Session, index: int) -> bytes | None:
    return subtree_hashes(session, [(0, index)]).get((0, index))


# --- appends ---------------------------------------------------------------------------


def append_entries(
    session: Session, new_entries: Sequence[NewEntry], *, at: datetime | None = None
) -> list[int]:
    """Append entries in the caller's transaction; returns their indexes."""
    if not new_entries:
        return []
    size, _root = lock_head(session)
    keys = merkle.perfect_subtrees(0, size)
    stored = subtree_hashes(session, keys)
    if len(stored) != len(keys):
        raise MissingNodeError(f"the frontier of a tree of size {size} is incomplete")
    frontier = [(level, index, stored[(level, index)]) for level, index in keys]
    now = at or now_utc()
    entry_rows: list[dict[str, Any]] = []
    node_rows: list[dict[str, Any]] = []
    for offset, entry in enumerate(new_entries):
        position = size + offset
        leaf = merkle.leaf_hash(entry.payload.encode("utf-8"))
        entry_rows.append(_entry_row(position, leaf, entry, now))
        grow_frontier(frontier, position, leaf, node_rows)
    new_size = size + len(new_entries)
    new_root = merkle.fold_right([hash_ for _level, _index, hash_ in frontier])
    session.execute(sa.insert(_entries), entry_rows)
    session.execute(sa.insert(_nodes), node_rows)
    moved = session.execute(
        sa.update(_head)
        .where(_head.c.id == HEAD_ID, _head.c.size == size)
        .values(size=new_size, root_hash=new_root, updated_at=now)
    )
    if moved.rowcount != 1:
        raise RuntimeError("the log head moved while it was locked")
    return list(range(size, new_size))


def _entry_row(position: int, leaf: bytes, entry: NewEntry, now: datetime) -> dict[str, Any]:
    return {
        "idx": position,
        "payload": entry.payload,
        "leaf_hash": leaf,
        "created_at": now,
        "event_type": entry.event_type,
        "organization_uscc": entry.organization_uscc,
        "organization_id": entry.organization_id,
        "subject_table": entry.subject_table,
        "subject_id": entry.subject_id,
    }


def grow_frontier(
    frontier: list[tuple[int, int, bytes]],
    position: int,
    leaf: bytes,
    node_rows: list[dict[str, Any]],
) -> None:
    """Add leaf ``position`` to the frontier, recording every subtree it completes."""
    level, index, current = 0, position, leaf
    node_rows.append({"level": 0, "idx": index, "hash": current})
    while frontier and frontier[-1][0] == level:
        _left_level, _left_index, left = frontier.pop()
        current = merkle.node_hash(left, current)
        level, index = level + 1, index >> 1
        node_rows.append({"level": level, "idx": index, "hash": current})
    frontier.append((level, index, current))


def sequencer_mode() -> str:
    """``AUDITLOG_SEQUENCER`` of the running app (inline outside an app)."""
    if has_app_context():
        return str(current_app.config.get("AUDITLOG_SEQUENCER", INLINE))
    return INLINE


def append_event(session: Session, event: events.Event) -> int | None:
    """The record_event subscriber: one entry in the caller's transaction.

    Inline: appended now; returns its index. Batched: queued for the sequencer; returns
    None (the index is known once the sequencer has run: ``INDEX_COLUMNS``).
    """
    if event.queued:  # its entry is in the queue already, written by the caller
        if sequencer_mode() != BATCHED:
            raise events.EventError(f"{event.type!r}: queued by the caller, log not batched")
        return None
    entry = NewEntry.from_event(event)
    if sequencer_mode() == BATCHED:
        enqueue_entry(session, entry, event.at)
        return None
    return append_entries(session, [entry])[0]


# --- the batching sequencer ------------------------------------------------------------

#: event type -> the column (in a table with an integer ``id``) that keeps the index of
#: the subject's entry, filled in by the sequencer (e.g. a donation's ``log_index``, which
#: its receipt links). Registered in charity.wiring.
INDEX_COLUMNS: dict[str, sa.Column] = {}


def record_index_in(event_type: str, column: sa.Column) -> None:
    INDEX_COLUMNS[event_type] = column


_ENQUEUE = _queue.insert()


def enqueue_entry(session: Session, entry: NewEntry, at: datetime) -> None:
    """One INSERT on the session's connection, no lock: every confirmation's log entry."""
    session.connection().execute(
        _ENQUEUE,
        {
            "payload": entry.payload,
            "event_type": entry.event_type,
            "organization_uscc": entry.organization_uscc,
            "organization_id": entry.organization_id,
            "subject_table": entry.subject_table,
            "subject_id": entry.subject_id,
            "created_at": at,
        },
    )


def enqueue_named(payload: Any = None) -> sa.Insert:
    """The queue's INSERT with ``queue_params``' named parameters: a CTE of a caller's own
    statement that queues its event's entry itself (``record_event(..., queued=True)``),
    e.g. the donation's success UPDATE (one statement fewer per confirmation). With a SQL
    expression for the payload when given (one that puts a number the same statement
    takes into ``:q_payload``)."""
    return _queue.insert().values(
        payload=sa.bindparam("q_payload") if payload is None else payload,
        event_type=sa.bindparam("q_event_type"),
        organization_uscc=sa.bindparam("q_organization_uscc"),
        organization_id=sa.bindparam("q_organization_id"),
        subject_table=sa.bindparam("q_subject_table"),
        subject_id=sa.bindparam("q_subject_id"),
        created_at=sa.bindparam("q_created_at", type_=_queue.c.created_at.type),
    )


ENQUEUE_NAMED = enqueue_named()


def queue_params(
    event_type: str, data: Mapping[str, Any], at: datetime, subject_table: str, subject_id: int
) -> dict[str, Any]:
    """``ENQUEUE_NAMED``'s parameters: the entry ``append_event`` would queue for the
    event (the same ``NewEntry.from_event``, payload byte for byte)."""
    entry = NewEntry.from_event(
        events.Event(
            type=event_type,
            data=dict(data),
            at=at,
            subject_table=subject_table,
            subject_id=subject_id,
        )
    )
    return {
        "q_payload": entry.payload,
        "q_event_type": entry.event_type,
        "q_organization_uscc": entry.organization_uscc,
        "q_organization_id": entry.organization_id,
        "q_subject_table": entry.subject_table,
        "q_subject_id": entry.subject_id,
        "q_created_at": at,
    }


def pending_count(session: Session) -> int:
    """Entries committed to the queue and not yet in the tree."""
    return int(session.scalar(sa.select(sa.func.count()).select_from(_queue)) or 0)


def sequence_pending(session: Session, limit: int = 2000) -> list[int]:
    """Append up to ``limit`` queued entries to the tree, oldest first, in the caller's
    transaction; returns their new indexes. The caller commits.

    Safe to run from several processes: the head lock makes them take turns, and a
    queue row is deleted in the same transaction that appends it, so each row becomes
    exactly one entry. Rows of transactions that have not committed yet are invisible
    and wait for the next batch; a change that rolls back leaves no row at all.
    """
    lock_head(session)  # first: a second sequencer waits here, then sees the rows gone
    rows = session.execute(sa.select(_queue).order_by(_queue.c.id).limit(max(1, int(limit)))).all()
    if not rows:
        return []
    indexes = append_entries(
        session,
        [
            NewEntry(
                payload=row.payload,
                event_type=row.event_type,
                organization_uscc=row.organization_uscc,
                organization_id=row.organization_id,
                subject_table=row.subject_table,
                subject_id=row.subject_id,
            )
            for row in rows
        ],
    )
    session.execute(sa.delete(_queue).where(_queue.c.id.in_([row.id for row in rows])))
    _fill_index_columns(session, rows, indexes)
    return indexes


def _fill_index_columns(session: Session, rows: Sequence[Any], indexes: list[int]) -> None:
    updates: dict[str, list[dict[str, int]]] = {}
    for row, index in zip(rows, indexes, strict=True):
        column = INDEX_COLUMNS.get(row.event_type)
        if column is not None and row.subject_id is not None:
            updates.setdefault(row.event_type, []).append({"subject": row.subject_id, "idx": index})
    for event_type, params in updates.items():
        column = INDEX_COLUMNS[event_type]
        table = column.table
        session.execute(
            sa.update(table)
            .where(table.c.id == sa.bindparam("subject"))
            .values({column.name: sa.bindparam("idx")}),
            params,
        )


# --- reading ---------------------------------------------------------------------------


def entries_between(session: Session, start: int, end: int) -> list[AuditEntry]:
    query = (
        sa.select(AuditEntry)
        .where(AuditEntry.index >= start, AuditEntry.index < end)
        .order_by(AuditEntry.index)
    )
    return list(session.scalars(query))


def entry_json(entry: AuditEntry) -> dict[str, Any]:
    return {
        "index": entry.index,
        "leaf_hash": entry.leaf_hash.hex(),
        "payload": entry.payload,
        "created_at": format_timestamp(entry.created_at),
    }


def entries_for_subject(session: Session, table: str, subject_id: int) -> list[int]:
    query = (
        sa.select(AuditEntry.index)
        .where(AuditEntry.subject_table == table, AuditEntry.subject_id == subject_id)
        .order_by(AuditEntry.index)
    )
    return list(session.scalars(query))


# --- checkpoints -----------------------------------------------------------------------


def save_checkpoint(session: Session, size: int, root: bytes, note: str) -> None:
    """Remember a served checkpoint (the first one signed for a size wins)."""
    _insert_ignore(
        session,
        _checkpoints,
        {"tree_size": size, "root_hash": root, "note": note, "created_at": now_utc()},
    )


def latest_saved_checkpoint(session: Session) -> AuditCheckpoint | None:
    query = sa.select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size.desc()).limit(1)
    return session.scalars(query).first()


def saved_checkpoint(session: Session, size: int) -> AuditCheckpoint | None:
    return session.get(AuditCheckpoint, size)
