"""Canonical JSON and donor commitments: the byte-exact parts of the public contract.

Canonical JSON (docs/audit-log.md): UTF-8, keys sorted, separators "," and ":", no
insignificant whitespace, non-ASCII kept as is. Standard library only, so the
standalone verifier can import it.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from typing import Any


def canonical_json(payload: Mapping[str, Any]) -> str:
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def canonical_bytes(payload: Mapping[str, Any]) -> bytes:
    return canonical_json(payload).encode("utf-8")


def new_salt() -> str:
    """256 random bits, hex; kept in the private database and shown only to the donor."""
    return secrets.token_hex(32)


def donor_commitment(salt_hex: str, donor: Mapping[str, Any]) -> str:
    """SHA-256(salt ‖ canonical donor data), hex.

    ``donor`` is {"name": ..., "email": ...} as given at the time of the gift (email
    lower-cased). The salt makes the commitment unguessable; deleting the salt (erasure)
    leaves a commitment nobody can link to a person, while the log stays intact.
    """
    return hashlib.sha256(bytes.fromhex(salt_hex) + canonical_bytes(donor)).hexdigest()
