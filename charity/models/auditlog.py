"""The public audit log: entries, stored Merkle subtrees, the head and served checkpoints.

Storage (see charity/auditlog/store.py): every complete perfect subtree of the RFC 9162
tree is one ``auditlog_nodes`` row keyed by (level, index) — level 0 are the leaves.
An append adds one leaf and the O(log n) subtrees it completes; any inclusion or
consistency proof, for any tree size, is assembled from O(log n) of these rows.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from charity.extensions import db
from charity.models.base import UTCDateTime, utcnow


class AuditEntry(db.Model):
    __tablename__ = "auditlog_entries"
    __table_args__ = (
        CheckConstraint("idx >= 0", name="index_not_negative"),
        Index("ix_auditlog_entries_subject", "subject_table", "subject_id"),
        Index("ix_auditlog_entries_org_uscc", "organization_uscc"),
        Index("ix_auditlog_entries_org_id", "organization_id"),
        Index("ix_auditlog_entries_type", "event_type"),
        Index("ix_auditlog_entries_created_at", "created_at"),
    )

    #: Position in the log, from 0, gapless.
    #: (Column ``idx``: INDEX is an SQL keyword.)
    index: Mapped[int] = mapped_column("idx", BigInteger, primary_key=True, autoincrement=False)
    #: The exact canonical JSON served to the public; the leaf is SHA-256(0x00 ‖ UTF-8).
    payload: Mapped[str] = mapped_column(Text, nullable=False)
    #: SHA-256(0x00 ‖ payload), 32 bytes.
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    #: Copied from the payload for filtering: ``subject.action``.
    event_type: Mapped[str] = mapped_column(String(64), nullable=False)
    #: Copied from the payload (``org_uscc`` / ``organization_id``) for filtering.
    organization_uscc: Mapped[str | None] = mapped_column(String(18))
    organization_id: Mapped[int | None] = mapped_column(Integer)
    #: The domain row the entry was built from, so `flask audit verify` can rebuild it.
    #: No foreign key: the log outlives any row and must never cascade.
    subject_table: Mapped[str | None] = mapped_column(String(64))
    subject_id: Mapped[int | None] = mapped_column(BigInteger)

    def __repr__(self) -> str:
        return f"<AuditEntry {self.index} {self.event_type}>"


class AuditNode(db.Model):
    """The hash of a complete perfect subtree covering leaves [index·2^level, (index+1)·2^level)."""

    __tablename__ = "auditlog_nodes"
    __table_args__ = (CheckConstraint("level >= 0 AND level < 64", name="level_range"),)

    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    index: Mapped[int] = mapped_column("idx", BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)


class AuditHead(db.Model):
    """The one row (id 1) holding the current size and root; appends lock it."""

    __tablename__ = "auditlog_head"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("size >= 0", name="size_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


class AuditQueued(db.Model):
    """An entry written in its change's transaction, waiting for the log sequencer.

    With ``AUDITLOG_SEQUENCER = "batched"`` (production), ``record_event`` inserts here
    instead of appending under the log head lock; ``flask audit sequencer`` moves committed
    rows into the tree in batches (charity.auditlog.store.sequence_pending). The payload
    is final when queued: sequencing only gives it its index.
    """

    __tablename__ = "auditlog_queue"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    payload: Mapped[str] = mapped_column(Text, nullable=False)
    event_type: Mapped[str] = mapped_column(String(64), nullable=False)
    organization_uscc: Mapped[str | None] = mapped_column(String(18))
    organization_id: Mapped[int | None] = mapped_column(Integer)
    subject_table: Mapped[str | None] = mapped_column(String(64))
    subject_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


class AuditCheckpoint(db.Model):
    """A signed checkpoint we served, kept so that later consistency can be proven."""

    __tablename__ = "auditlog_checkpoints"

    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    #: The signed note exactly as served (text/plain).
    note: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


class AuditCosignature(db.Model):
    """A witness's cosignature (C2SP tlog-cosignature, cosignature/v1) of a checkpoint.

    The checkpoint is served with the cosignature lines of every configured witness that
    cosigned it (charity.auditlog.publish); a witness cosigns each tree size at most once
    here (a re-submission after a crash keeps the first)."""

    __tablename__ = "auditlog_cosignatures"

    tree_size: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("auditlog_checkpoints.tree_size", ondelete="RESTRICT"),
        primary_key=True,
        autoincrement=False,
    )
    #: The witness's key name (its verifier key is in AUDITLOG_WITNESSES).
    witness: Mapped[str] = mapped_column(String(255), primary_key=True)
    #: The signature line exactly as served, ending in a newline.
    line: Mapped[str] = mapped_column(Text, nullable=False)
    #: The witness's own time in the cosignature (POSIX seconds).
    signed_at: Mapped[int] = mapped_column(BigInteger, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
