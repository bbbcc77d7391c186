"""The public audit-log API (docs/audit-log.md): checkpoint, key, entries, proofs.

Read-only and unauthenticated. Hashes are hex, except the checkpoint's base64 root as
C2SP prescribes. Anything malformed or out of range is a 400 JSON error.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy.exc import OperationalError

from charity.auditlog import checkpoint, publish, store
from charity.core import uow
from charity.extensions import db
from charity.web import replicas
from charity.web.errors import json_error

bp = Blueprint("auditlog_api", __name__)

MAX_ENTRIES = 1000
#: Answers about fixed tree sizes never change; the head moves.
IMMUTABLE = "public, max-age=31536000, immutable"
MOVING = "public, max-age=5"


class BadParameterError(ValueError):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


@bp.errorhandler(BadParameterError)
def _bad_parameter(error: BadParameterError):  # type: ignore[no-untyped-def]
    response, status = json_error(400, "bad_parameter", error.message, parameter=error.name)
    response.headers["Cache-Control"] = "no-store"
    return response, status


def int_arg(name: str) -> int:
    raw = request.args.get(name, "")
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise BadParameterError(name, f"'{name}' must be a non-negative integer")
    return int(raw)


def _text(body: str, cache: str) -> Response:
    response = current_app.response_class(body, mimetype="text/plain")
    response.headers["Cache-Control"] = cache
    return response


def _json(body: dict, cache: str) -> Response:
    response = jsonify(body)
    response.headers["Cache-Control"] = cache
    return response


def latest_checkpoint() -> tuple[int, bytes, str]:
    """The signed checkpoint of the current head (signed and saved on first request).

    With witnesses configured (AUDITLOG_WITNESSES), the newest checkpoint they cosigned,
    with their cosignatures (charity.auditlog.publish; the tiles serve the same note)."""
    if publish.witnesses(current_app):
        saved = publish.served_checkpoint(db.session, current_app)
        if saved is not None:
            note = publish.with_cosignatures(db.session, saved)
            return saved.tree_size, saved.root_hash, note
    signer = checkpoint.signer_for(current_app)
    origin = current_app.config["AUDITLOG_ORIGIN"]
    if replicas.reading_replica() is not None:  # a standby cannot save a note
        return checkpoint.current_checkpoint(db.session, signer, origin, save=False)
    try:
        size, root, note = checkpoint.current_checkpoint(db.session, signer, origin)
    except OperationalError:
        # SQLite (development): this request's transaction began by reading, and another
        # writer committed before it saved the new checkpoint, so SQLite refuses to turn
        # it into a write (SQLITE_BUSY_SNAPSHOT; waiting cannot help). Start again holding
        # the write lock first. PostgreSQL never gets here.
        uow.discard()
        if db.session.get_bind().dialect.name != "sqlite":
            raise
        store.lock_head(db.session)
        size, root, note = checkpoint.current_checkpoint(db.session, signer, origin)
    return size, root, note


@bp.get("/checkpoint")
def get_checkpoint() -> Response:
    _size, _root, note = latest_checkpoint()
    return _text(note, MOVING)


@bp.get("/key")
def get_key() -> Response:
    return _text(checkpoint.signer_for(current_app).verifier_key() + "\n", "public, max-age=3600")


@bp.get("/entries")
def get_entries() -> Response:
    start, end = int_arg("start"), int_arg("end")
    size, _root = store.current_head(db.session)
    if not start < end <= size:
        raise BadParameterError("end", f"need start < end ≤ {size} (the tree size)")
    if end - start > MAX_ENTRIES:
        raise BadParameterError("end", f"at most {MAX_ENTRIES} entries per request")
    entries = store.entries_between(db.session, start, end)
    return _json({"entries": [store.entry_json(entry) for entry in entries]}, IMMUTABLE)


@bp.get("/proof/inclusion")
def get_inclusion_proof() -> Response:
    index, tree_size = int_arg("index"), int_arg("tree_size")
    size, _root = store.current_head(db.session)
    if not 0 < tree_size <= size:
        raise BadParameterError("tree_size", f"tree_size must be between 1 and {size}")
    if index >= tree_size:
        raise BadParameterError("index", "index must be below tree_size")
    leaf, path, root = store.inclusion_bundle(db.session, index, tree_size)
    body = {
        "index": index,
        "tree_size": tree_size,
        "leaf_hash": leaf.hex(),
        "path": [node.hex() for node in path],
        "root_hash": root.hex(),
    }
    return _json(body, IMMUTABLE)


@bp.get("/proof/consistency")
def get_consistency_proof() -> Response:
    first, second = int_arg("first"), int_arg("second")
    size, _root = store.current_head(db.session)
    if not 0 < second <= size:
        raise BadParameterError("second", f"second must be between 1 and {size}")
    if not 0 < first <= second:
        raise BadParameterError("first", "first must be between 1 and second")
    path, first_root, second_root = store.consistency_bundle(db.session, first, second)
    body = {
        "first": first,
        "second": second,
        "path": [node.hex() for node in path],
        "first_root": first_root.hex(),
        "second_root": second_root.hex(),
    }
    return _json(body, IMMUTABLE)
