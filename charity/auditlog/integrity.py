"""`flask audit verify`: recompute the whole log and compare it with what is stored.

Streams the entries in chunks (memory stays bounded whatever the size):
- every leaf hash is recomputed from the stored payload;
- the tree is rebuilt from those leaves and every stored subtree is compared;
- the rebuilt root is compared with the head and with every saved checkpoint;
- the latest saved checkpoint's signature is checked with the configured key;
- every entry whose event type has a payload builder is rebuilt from its domain row,
  so a value edited by hand in a domain table (an organization's USCC, a donation
  amount ...) shows up as a mismatch on the entry and field that recorded it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from charity.auditlog import merkle, store
from charity.auditlog.checkpoint import Signer
from charity.auditlog.verifier import NoteError, open_note, parse_checkpoint, parse_verifier_key
from charity.core import events
from charity.models.auditlog import AuditCheckpoint, AuditEntry, AuditNode

CHUNK = 4096

_entries = AuditEntry.__table__
_nodes = AuditNode.__table__


@dataclass(frozen=True)
class Problem:
    #: The entry concerned (None for log-wide problems).
    index: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"entry {self.index}" if self.index is not None else "log"
        return f"{where}: {self.field}: {self.message}"


@dataclass
class _Walk:
    frontier: list[tuple[int, int, bytes]]
    expected: int = 0


def check_log(session: Session, signer: Signer, origin: str) -> Iterator[Problem]:
    """Yield every problem found; nothing yielded means the log verifies."""
    size, head_root = store.current_head(session)
    count, last = session.execute(sa.select(sa.func.count(), sa.func.max(_entries.c.idx))).one()
    end = max(size, (last + 1) if last is not None else 0)
    walk = _Walk(frontier=[])
    for start in range(0, end, CHUNK):
        yield from _check_chunk(session, walk, start, min(start + CHUNK, end))
        session.expunge_all()  # builders load rows; keep memory bounded
    if count != size or walk.expected != size:
        yield Problem(None, "size", f"the head says {size} entries, the table holds {count}")
    root = merkle.fold_right([hash_ for _l, _i, hash_ in walk.frontier])
    if walk.expected == size and root != head_root:
        yield Problem(None, "head", "the head's root differs from the root rebuilt from leaves")
    yield from _check_node_count(session, walk.expected)
    yield from _check_latest_checkpoint(session, signer, origin, walk.expected)


def _check_chunk(
    session: Session,
    walk: _Walk,
    start: int,
    end: int,
) -> Iterator[Problem]:
    checkpoints = dict(  # the saved checkpoints whose size ends inside this chunk
        session.execute(
            sa.select(AuditCheckpoint.tree_size, AuditCheckpoint.root_hash).where(
                AuditCheckpoint.tree_size > start, AuditCheckpoint.tree_size <= end
            )
        ).all()
    )
    rows = session.execute(
        sa.select(_entries).where(_entries.c.idx >= start, _entries.c.idx < end).order_by("idx")
    ).all()
    computed: list[dict[str, Any]] = []
    for row in rows:
        if row.idx != walk.expected:
            yield Problem(walk.expected, "index", f"missing (next stored entry is {row.idx})")
            return
        leaf = merkle.leaf_hash(row.payload.encode("utf-8"))
        if leaf != row.leaf_hash:
            yield Problem(row.idx, "leaf_hash", "the stored leaf hash does not match the payload")
        store.grow_frontier(walk.frontier, row.idx, leaf, computed)
        walk.expected += 1
        if walk.expected in checkpoints:
            root = merkle.fold_right([h for _l, _i, h in walk.frontier])
            if root != checkpoints[walk.expected]:
                yield Problem(
                    row.idx,
                    "checkpoint",
                    f"the saved checkpoint of size {walk.expected} "
                    "has a root the stored entries no longer give: history was rewritten",
                )
        yield from check_entry_against_domain(session, row)
    yield from _compare_nodes(session, computed)


def _compare_nodes(session: Session, computed: list[dict[str, Any]]) -> Iterator[Problem]:
    by_level: dict[int, list[dict[str, Any]]] = {}
    for node in computed:
        by_level.setdefault(node["level"], []).append(node)
    for level, nodes in by_level.items():
        low, high = nodes[0]["idx"], nodes[-1]["idx"]
        stored = dict(
            session.execute(
                sa.select(_nodes.c.idx, _nodes.c.hash).where(
                    _nodes.c.level == level, _nodes.c.idx.between(low, high)
                )
            ).all()
        )
        for node in nodes:
            first_leaf = node["idx"] << level
            found = stored.get(node["idx"])
            if found is None:
                yield Problem(first_leaf, f"node({level},{node['idx']})", "missing")
            elif found != node["hash"]:
                yield Problem(first_leaf, f"node({level},{node['idx']})", "the stored hash differs")


def _check_node_count(session: Session, size: int) -> Iterator[Problem]:
    expected = sum(size >> level for level in range(size.bit_length()))
    stored = session.execute(sa.select(sa.func.count()).select_from(_nodes)).scalar_one()
    if stored != expected:
        yield Problem(None, "nodes", f"{stored} stored subtrees, a tree of {size} has {expected}")


def _check_latest_checkpoint(
    session: Session, signer: Signer, origin: str, leaves_seen: int
) -> Iterator[Problem]:
    latest = store.latest_saved_checkpoint(session)
    if latest is None:
        return
    try:
        body = parse_checkpoint(open_note(latest.note, parse_verifier_key(signer.verifier_key())))
    except NoteError as error:
        yield Problem(None, "checkpoint", f"size {latest.tree_size}: {error}")
        return
    if body.origin != origin or body.size != latest.tree_size or body.root != latest.root_hash:
        yield Problem(None, "checkpoint", f"size {latest.tree_size}: the note and its row differ")
    if latest.tree_size > leaves_seen:
        yield Problem(None, "checkpoint", f"size {latest.tree_size} is beyond the log")


def check_entry_against_domain(session: Session, row: Any) -> Iterator[Problem]:
    """Rebuild an entry's data from its subject row and compare field by field."""
    registered = events.builder_for(row.event_type)
    if registered is None or row.subject_id is None:
        return
    table, builder = registered
    if row.subject_table != table:
        yield Problem(row.idx, "subject_table", f"{row.subject_table!r}, expected {table!r}")
        return
    try:
        rebuilt = dict(builder(session, row.subject_id))
    except LookupError as error:
        yield Problem(row.idx, "subject", f"{table} row {row.subject_id}: {error}")
        return
    logged = json.loads(row.payload)
    for key in sorted((set(logged) - set(store.RESERVED_KEYS)) | set(rebuilt)):
        if logged.get(key) != rebuilt.get(key):
            yield Problem(
                row.idx,
                key,
                f"the log has {logged.get(key)!r}, {table} row {row.subject_id} gives "
                f"{rebuilt.get(key)!r}",
            )
