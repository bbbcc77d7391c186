"""Publishing the log beyond the database: witness cosignatures and static tiles.

After each sequencer batch (``flask audit sequencer``; ``flask audit publish`` on its
own), in this order:

1. **Witnesses** (C2SP tlog-witness): every saved checkpoint a configured witness has not
   cosigned yet is submitted to it, oldest first, with a consistency proof from the last
   one it cosigned; its cosignature line (cosignature/v1) is checked and stored with the
   checkpoint (``auditlog_cosignatures``). A witness that answers 409 tells us the size it
   last cosigned; we continue from there (after a crash between its answer and our
   commit, it cosigns that size again). A size we never signed means someone showed it
   another history: that is logged as an error and the witness is left alone.
2. **The served checkpoint**: the newest one cosigned by ``AUDITLOG_WITNESS_QUORUM``
   witnesses (all configured ones by default), with every cosignature it has; without
   witnesses, the newest signed one. The API serves the same bytes.
3. **Tiles** (C2SP tlog-tiles): the tiles and entry bundles the served checkpoint needs
   that were not published yet, then the checkpoint itself, to a directory or any
   S3-compatible bucket (:class:`TileStorage`: read and write, nothing else). Tiles and
   bundles are immutable (a year's cache); the checkpoint is cached for 5 seconds.
"""

from __future__ import annotations

import base64
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from charity.auditlog import cosignature, store, tiles
from charity.models.auditlog import AuditCheckpoint, AuditCosignature, AuditEntry, AuditNode

# --- where tiles go --------------------------------------------------------------------


class TileStorage(Protocol):
    """A place that serves files by path: a directory behind a web server, a bucket."""

    def read(self, path: str) -> bytes | None: ...

    def write(self, path: str, data: bytes, *, content_type: str, cache_control: str) -> None: ...


class DirectoryStorage:
    """Files under ``root``, each written atomically (a reader never sees half a tile).

    Cache lifetimes cannot be stored with a file: the web server in front sets them from
    the path (docs/audit-log.md has an nginx example)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, path: str) -> Path:
        target = (self.root / path).resolve()
        if self.root.resolve() not in target.parents:
            raise ValueError(f"{path!r} is outside the tile directory")
        return target

    def read(self, path: str) -> bytes | None:
        try:
            return self._path(path).read_bytes()
        except FileNotFoundError:
            return None

    def write(self, path: str, data: bytes, *, content_type: str, cache_control: str) -> None:
        target = self._path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.chmod(temporary, 0o644)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


class S3Storage:
    """Objects in an S3-compatible bucket (AWS, MinIO, Ceph, Aliyun OSS, ...) with boto3,
    each with its Content-Type and Cache-Control (``pip install 'charity[s3]'``)."""

    def __init__(self, bucket: str, prefix: str = "", endpoint_url: str | None = None) -> None:
        import boto3  # heavy (about 30 MB), and only when the log is published to S3

        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.client = boto3.client("s3", endpoint_url=endpoint_url or None)

    def read(self, path: str) -> bytes | None:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self.prefix + path)
        except self.client.exceptions.NoSuchKey:
            return None
        return answer["Body"].read()

    def write(self, path: str, data: bytes, *, content_type: str, cache_control: str) -> None:
        self.client.put_object(
            Bucket=self.bucket,
            Key=self.prefix + path,
            Body=data,
            ContentType=content_type,
            CacheControl=cache_control,
        )


def open_storage(target: str, s3_endpoint: str = "") -> TileStorage:
    """``s3://bucket/prefix`` or a directory (``file:///srv/log`` or ``/srv/log``)."""
    if target.startswith("s3://"):
        bucket, _, prefix = target.removeprefix("s3://").partition("/")
        return S3Storage(bucket, prefix, s3_endpoint or None)
    return DirectoryStorage(target.removeprefix("file://"))


# --- witnesses -------------------------------------------------------------------------


@dataclass(frozen=True)
class WitnessEndpoint:
    key: cosignature.WitnessKey
    url: str

    @property
    def name(self) -> str:
        return self.key.name


def parse_witnesses(value: str) -> list[WitnessEndpoint]:
    """``AUDITLOG_WITNESSES``: "<verifier key> <URL>" pairs, comma- or newline-separated."""
    endpoints = []
    for item in value.replace("\n", ",").split(","):
        if not item.strip():
            continue
        parts = item.split()
        if len(parts) != 2:
            raise cosignature.CosignatureError(
                f"AUDITLOG_WITNESSES: {item.strip()!r} is not '<witness key> <URL>'"
            )
        key_text, url = parts
        if not url.startswith(("http://", "https://")):
            key_text, url = url, key_text
        endpoints.append(WitnessEndpoint(cosignature.parse_witness_key(key_text), url))
    return endpoints


def witnesses(app: Flask) -> list[WitnessEndpoint]:
    cached = app.extensions.get("auditlog_witnesses")
    if cached is None:
        cached = parse_witnesses(app.config.get("AUDITLOG_WITNESSES") or "")
        app.extensions["auditlog_witnesses"] = cached
    return cached


def quorum(app: Flask) -> int:
    configured = app.config.get("AUDITLOG_WITNESS_QUORUM")
    return int(configured) if str(configured or "").strip() else len(witnesses(app))


@dataclass
class Submission:
    witness: WitnessEndpoint
    size: int
    body: bytes


@dataclass
class Answer:
    submission: Submission
    status: int
    text: str


def _post(submission: Submission, timeout: float) -> Answer:
    request = urllib.request.Request(  # noqa: S310 (configured witness URLs)
        submission.witness.url.rstrip("/") + "/add-checkpoint",
        data=submission.body,
        method="POST",
        headers={"Content-Type": "text/plain; charset=utf-8"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return Answer(submission, response.status, response.read().decode("utf-8", "replace"))
    except urllib.error.HTTPError as error:
        return Answer(submission, error.code, error.read().decode("utf-8", "replace"))
    except (urllib.error.URLError, OSError) as error:
        return Answer(submission, 0, str(error))


def request_body(old_size: int, proof: Sequence[bytes], note: str) -> bytes:
    lines = [f"old {old_size}", *(base64.b64encode(node).decode() for node in proof)]
    return ("\n".join(lines) + "\n\n" + note).encode("utf-8")


def _cosigned_sizes(session: Session, name: str) -> set[int]:
    query = sa.select(AuditCosignature.tree_size).where(AuditCosignature.witness == name)
    return set(session.scalars(query))


def _plan(
    session: Session, witness: WitnessEndpoint, known: int | None, limit: int
) -> list[Submission]:
    """The checkpoints to submit to ``witness`` now, in order, each with its proof."""
    done = _cosigned_sizes(session, witness.name)
    last = known if known is not None else max(done, default=0)
    query = (
        sa.select(AuditCheckpoint)
        .where(AuditCheckpoint.tree_size >= max(last, 1))
        .order_by(AuditCheckpoint.tree_size)
        .limit(limit + 1)
    )
    plan, old = [], last
    for saved in session.scalars(query):
        if saved.tree_size == last and last in done:
            continue  # already cosigned: start after it
        proof = (
            store.consistency_proof(session, old, saved.tree_size)
            if 0 < old < saved.tree_size
            else []
        )
        plan.append(Submission(witness, saved.tree_size, request_body(old, proof, saved.note)))
        old = saved.tree_size
        if len(plan) >= limit:
            break
    return plan


def cosign(session: Session, app: Flask, limit: int = 50) -> int:
    """Ask every witness for what it has not cosigned yet; store what comes back. Returns
    the number of new cosignatures (the caller commits)."""
    endpoints = witnesses(app)
    if not endpoints:
        return 0
    known: dict[str, int] = app.extensions.setdefault("auditlog_witness_sizes", {})
    plans = [_plan(session, witness, known.get(witness.name), limit) for witness in endpoints]
    timeout = float(app.config.get("AUDITLOG_WITNESS_TIMEOUT", 5.0))

    def submit_in_order(plan: list[Submission]) -> list[Answer]:
        answers = []
        for submission in plan:
            answer = _post(submission, timeout)
            answers.append(answer)
            if answer.status != 200:
                break
        return answers

    with ThreadPoolExecutor(max_workers=len(endpoints)) as pool:
        results = list(pool.map(submit_in_order, [plan for plan in plans if plan]))
    stored = 0
    for answers in results:
        for answer in answers:
            stored += _record(session, app, answer, known)
    return stored


def _record(session: Session, app: Flask, answer: Answer, known: dict[str, int]) -> int:
    witness, size = answer.submission.witness, answer.submission.size
    if answer.status == 200:
        saved = session.get(AuditCheckpoint, size)
        body, _ = cosignature.split_note(saved.note)
        for line in answer.text.splitlines():
            try:
                signed_at = cosignature.verify_cosignature(witness.key, body, line)
            except cosignature.CosignatureError as error:
                app.logger.error("witness %s: %s", witness.name, error)
                return 0
            if signed_at is not None:
                store.insert_ignore(
                    session,
                    AuditCosignature.__table__,
                    {
                        "tree_size": size,
                        "witness": witness.name,
                        "line": line + "\n",
                        "signed_at": signed_at,
                        "created_at": store.now_utc(),
                    },
                )
                known[witness.name] = size
                return 1
        app.logger.error("witness %s answered without its cosignature", witness.name)
        return 0
    if answer.status == 409 and answer.text.strip().isdigit():
        theirs = int(answer.text.strip())
        if theirs and session.get(AuditCheckpoint, theirs) is None:
            app.logger.error(
                "witness %s has cosigned a size %d this log never signed: it was shown "
                "another history (a split view); not submitting to it",
                witness.name,
                theirs,
            )
            known.pop(witness.name, None)
            return 0
        known[witness.name] = theirs  # continue from its size next round
        return 0
    app.logger.warning(
        "witness %s refused size %d: %s %s", witness.name, size, answer.status, answer.text[:200]
    )
    return 0


# --- the served checkpoint -------------------------------------------------------------


def cosignature_lines(session: Session, size: int) -> list[str]:
    query = (
        sa.select(AuditCosignature.line)
        .where(AuditCosignature.tree_size == size)
        .order_by(AuditCosignature.witness)
    )
    return list(session.scalars(query))


def served_checkpoint(session: Session, app: Flask) -> AuditCheckpoint | None:
    """The newest checkpoint cosigned by the quorum (or, without witnesses or before any
    has cosigned, the newest signed one)."""
    needed = quorum(app)
    if witnesses(app) and needed > 0:
        cosigned = (
            sa.select(AuditCosignature.tree_size)
            .group_by(AuditCosignature.tree_size)
            .having(sa.func.count() >= needed)
            .order_by(AuditCosignature.tree_size.desc())
            .limit(1)
        )
        size = session.scalar(cosigned)
        if size is not None:
            return session.get(AuditCheckpoint, size)
    return store.latest_saved_checkpoint(session)


def with_cosignatures(session: Session, saved: AuditCheckpoint) -> str:
    return saved.note + "".join(cosignature_lines(session, saved.tree_size))


# --- tiles -----------------------------------------------------------------------------


def _tile_bytes(session: Session, tile: tiles.Tile) -> bytes:
    query = (
        sa.select(AuditNode.index, AuditNode.hash)
        .where(
            AuditNode.level == tile.level * tiles.TILE_HEIGHT,
            AuditNode.index >= tile.first,
            AuditNode.index < tile.first + tile.width,
        )
        .order_by(AuditNode.index)
    )
    hashes = [bytes(hash_) for _index, hash_ in session.execute(query)]
    if len(hashes) != tile.width:
        raise store.MissingNodeError(f"tile {tile.path}: {len(hashes)} of {tile.width} hashes")
    return b"".join(hashes)


def _bundle_bytes(session: Session, tile: tiles.Tile) -> bytes:
    query = (
        sa.select(AuditEntry.payload)
        .where(AuditEntry.index >= tile.first, AuditEntry.index < tile.first + tile.width)
        .order_by(AuditEntry.index)
    )
    return tiles.encode_bundle([payload.encode("utf-8") for payload in session.scalars(query)])


def published_size(storage: TileStorage) -> int:
    data = storage.read(tiles.CHECKPOINT)
    if not data:
        return 0
    lines = data.decode("utf-8", "replace").split("\n")
    return int(lines[1]) if len(lines) > 2 and lines[1].isdigit() else 0


def publish_tiles(session: Session, storage: TileStorage, size: int, note: str) -> int:
    """Write what a tree of ``size`` needs beyond what is published, then ``note`` as the
    checkpoint. Never moves the published checkpoint backwards. Returns files written."""
    current = storage.read(tiles.CHECKPOINT)
    published = published_size(storage)
    if size < published or (current is not None and current.decode("utf-8", "replace") == note):
        return 0
    written = 0
    for tile in tiles.tiles_between(published, size):
        immutable = {"content_type": tiles.TILE_TYPE, "cache_control": tiles.IMMUTABLE}
        storage.write(tile.path, _tile_bytes(session, tile), **immutable)
        written += 1
        if tile.level == 0:
            storage.write(
                tiles.bundle_path(tile.index, tile.width), _bundle_bytes(session, tile), **immutable
            )
            written += 1
    storage.write(
        tiles.CHECKPOINT,
        note.encode("utf-8"),
        content_type=tiles.CHECKPOINT_TYPE,
        cache_control=tiles.CHECKPOINT_CACHE,
    )
    return written + 1


def storage_for(app: Flask) -> TileStorage | None:
    target = app.config.get("AUDITLOG_TILES") or ""
    if not target:
        return None
    storage = app.extensions.get("auditlog_tiles")
    if storage is None:
        storage = open_storage(target, app.config.get("AUDITLOG_TILES_S3_ENDPOINT") or "")
        app.extensions["auditlog_tiles"] = storage
    return storage


def publish(session: Session, app: Flask) -> dict[str, Any]:
    """Cosign, commit, then write tiles for the served checkpoint (commits itself)."""
    cosigned = cosign(session, app)
    session.commit()
    summary: dict[str, Any] = {"cosignatures": cosigned, "tiles": 0, "size": None}
    storage = storage_for(app)
    saved = served_checkpoint(session, app)
    if storage is not None and saved is not None:
        note = with_cosignatures(session, saved)
        summary["tiles"] = publish_tiles(session, storage, saved.tree_size, note)
        summary["size"] = saved.tree_size
    session.rollback()
    return summary
