"""What a dishonest operator would do: rewrite an entry and make every hash consistent."""

from __future__ import annotations

import sqlalchemy as sa

from charity.auditlog import merkle, store


def rewrite_payload(session, index: int, payload: str) -> None:  # type: ignore[no-untyped-def]
    """Replace entry ``index``'s payload, then rebuild all nodes and the head from scratch."""
    session.execute(
        sa.text("UPDATE auditlog_entries SET payload = :p, leaf_hash = :h WHERE idx = :i"),
        {"p": payload, "h": merkle.leaf_hash(payload.encode()), "i": index},
    )
    leaves = list(
        session.execute(sa.text("SELECT leaf_hash FROM auditlog_entries ORDER BY idx")).scalars()
    )
    session.execute(sa.text("DELETE FROM auditlog_nodes"))
    rows: list[dict] = []
    frontier: list[tuple[int, int, bytes]] = []
    for position, leaf in enumerate(leaves):
        store.grow_frontier(frontier, position, bytes(leaf), rows)
    session.execute(sa.insert(store.AuditNode.__table__), rows)
    session.execute(
        sa.text("UPDATE auditlog_head SET root_hash = :r"),
        {"r": merkle.root_hash([bytes(leaf) for leaf in leaves])},
    )
