"""The public audit log's endpoints (served by the ``auditlog`` blueprint), described here
from the contract in the design brief so they join the API's OpenAPI document.

Each operation appears in the document only when the running app really serves its path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

HEX = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
TREE_INDEX = {"type": "integer", "minimum": 0}


@dataclass(frozen=True)
class ExternalOperation:
    """A GET operation served elsewhere in the app and documented by the API."""

    path: str
    operation_id: str
    summary: str
    description: str
    parameters: tuple[tuple[str, dict[str, Any], str], ...]
    media_type: str
    schema: dict[str, Any]
    example: Any


def _obj(required: list[str], **properties: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": properties}


LOG_OPERATIONS: tuple[ExternalOperation, ...] = (
    ExternalOperation(
        "/api/v1/log/checkpoint",
        "log_checkpoint",
        "The latest signed checkpoint",
        "A C2SP tlog-checkpoint in a signed note (Ed25519): origin, tree size, base64 root "
        "hash, a blank line and the signature line.",
        (),
        "text/plain",
        {"type": "string"},
        "charity.example/log\n42\nq1r…=\n\n— charity.example/log AbCd…=\n",
    ),
    ExternalOperation(
        "/api/v1/log/key",
        "log_key",
        "The verifier key",
        "The note verifier key: name+hex key id+base64(0x01 ‖ Ed25519 public key).",
        (),
        "text/plain",
        {"type": "string"},
        "charity.example/log+a1b2c3d4+AQ…=",
    ),
    ExternalOperation(
        "/api/v1/log/entries",
        "log_entries",
        "Log entries by index",
        "Entries with start ≤ index < end (at most 1000), each with its exact canonical "
        "JSON payload and RFC 9162 leaf hash.",
        (
            ("start", TREE_INDEX, "First index (inclusive)."),
            ("end", TREE_INDEX, "Last index (exclusive); end - start ≤ 1000."),
        ),
        "application/json",
        _obj(
            ["entries"],
            entries={
                "type": "array",
                "items": _obj(
                    ["index", "leaf_hash", "payload", "created_at"],
                    index=TREE_INDEX,
                    leaf_hash=HEX,
                    payload={"type": "string"},
                    created_at={"type": "string", "format": "date-time"},
                ),
            },
        ),
        {
            "entries": [
                {
                    "index": 0,
                    "leaf_hash": "ab" * 32,
                    "payload": '{"type":"…"}',
                    "created_at": "2025-03-01T08:00:00Z",
                }
            ]
        },
    ),
    ExternalOperation(
        "/api/v1/log/proof/inclusion",
        "log_inclusion_proof",
        "Inclusion proof",
        "The audit path proving that entry `index` is in the tree of size `tree_size`.",
        (
            ("index", TREE_INDEX, "The entry's index."),
            ("tree_size", {"type": "integer", "minimum": 1}, "A tree size from a checkpoint."),
        ),
        "application/json",
        _obj(
            ["index", "tree_size", "leaf_hash", "path", "root_hash"],
            index=TREE_INDEX,
            tree_size=TREE_INDEX,
            leaf_hash=HEX,
            path={"type": "array", "items": HEX},
            root_hash=HEX,
        ),
        {
            "index": 3,
            "tree_size": 8,
            "leaf_hash": "ab" * 32,
            "path": ["cd" * 32],
            "root_hash": "ef" * 32,
        },
    ),
    ExternalOperation(
        "/api/v1/log/proof/consistency",
        "log_consistency_proof",
        "Consistency proof",
        "The proof that the tree of size `first` is a prefix of the tree of size `second`.",
        (
            ("first", {"type": "integer", "minimum": 1}, "The older tree size."),
            ("second", {"type": "integer", "minimum": 1}, "The newer tree size."),
        ),
        "application/json",
        _obj(
            ["first", "second", "path", "first_root", "second_root"],
            first=TREE_INDEX,
            second=TREE_INDEX,
            path={"type": "array", "items": HEX},
            first_root=HEX,
            second_root=HEX,
        ),
        {
            "first": 4,
            "second": 8,
            "path": ["cd" * 32],
            "first_root": "ab" * 32,
            "second_root": "ef" * 32,
        },
    ),
)
