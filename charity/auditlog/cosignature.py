"""Witness cosignatures: C2SP tlog-cosignature, ``cosignature/v1`` (Ed25519).

Standard library + ``cryptography``, so the standalone verifier and the witness
(``python -m charity.auditlog.witness``) can be copied and run without the platform.

* A witness key is named (e.g. ``witness.example/w1``); its key ID is
  SHA-256(name ‖ 0x0A ‖ 0x04 ‖ 32-byte Ed25519 public key)[:4] and its verifier key is
  ``<name>+<hex key id>+base64(0x04 ‖ public key)``.
* A cosignature is a signed-note signature line ``— <name> base64(key id ‖ timestamp ‖
  signature)``: an 8-byte big-endian POSIX timestamp and a 64-byte Ed25519 signature over
  ``cosignature/v1\\n`` ``time <timestamp>\\n`` and the checkpoint body (its origin, size
  and root lines, with the final newline).
* The statement: as of that time, the largest consistent tree the witness has seen of
  that log (the origin) has that root.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

COSIGNATURE_V1 = b"\x04"
SIGNATURE_PREFIX = "\u2014 "
HEADER = "cosignature/v1\n"


class CosignatureError(ValueError):
    """A witness key or cosignature that is malformed."""


def key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode("utf-8") + b"\n" + COSIGNATURE_V1 + public_key).digest()[:4]


def _check_name(name: str) -> None:
    if not name or "+" in name or any(ch.isspace() for ch in name):
        raise CosignatureError("a key name is non-empty, without spaces or '+'")


@dataclass(frozen=True)
class WitnessKey:
    """A witness's public key, as a verifier or a log configures it."""

    name: str
    public_key: bytes

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.public_key)

    def __str__(self) -> str:
        encoded = base64.b64encode(COSIGNATURE_V1 + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{encoded}"


def parse_witness_key(text: str) -> WitnessKey:
    """``name+hexkeyid+base64(0x04 ‖ public key)``."""
    parts = text.strip().split("+", 2)
    if len(parts) != 3:
        raise CosignatureError("a witness key has the form name+hexkeyid+base64key")
    name, hex_id, encoded = parts
    _check_name(name)
    try:
        raw = base64.b64decode(encoded, validate=True)
        wanted = bytes.fromhex(hex_id)
    except (binascii.Error, ValueError):
        raise CosignatureError("the witness key's id or key is not hex/base64") from None
    if len(raw) != 33 or raw[:1] != COSIGNATURE_V1:
        raise CosignatureError("not a cosignature/v1 (Ed25519, type 0x04) witness key")
    key = WitnessKey(name, raw[1:])
    if key.key_id != wanted:
        raise CosignatureError("the witness key's id does not match its name and key")
    return key


def signed_message(checkpoint_body: str, timestamp: int) -> bytes:
    return f"{HEADER}time {timestamp}\n{checkpoint_body}".encode()


@dataclass(frozen=True)
class WitnessSigner:
    name: str
    private_key: Ed25519PrivateKey

    @property
    def public(self) -> WitnessKey:
        raw = self.private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return WitnessKey(self.name, raw)

    def cosign(self, checkpoint_body: str, timestamp: int) -> str:
        """The signature line (with its newline) cosigning ``checkpoint_body``."""
        if not 0 <= timestamp < 2**63:
            raise CosignatureError("the timestamp is out of range")
        signature = self.private_key.sign(signed_message(checkpoint_body, timestamp))
        blob = self.public.key_id + timestamp.to_bytes(8, "big") + signature
        return f"{SIGNATURE_PREFIX}{self.name} {base64.b64encode(blob).decode()}\n"

    def seed(self) -> bytes:
        raw, private = serialization.Encoding.Raw, serialization.PrivateFormat.Raw
        return self.private_key.private_bytes(raw, private, serialization.NoEncryption())


def new_signer(name: str) -> WitnessSigner:
    _check_name(name)
    return WitnessSigner(name, Ed25519PrivateKey.generate())


def signer_from_seed(name: str, seed: bytes) -> WitnessSigner:
    _check_name(name)
    if len(seed) != 32:
        raise CosignatureError("a witness seed is 32 bytes")
    return WitnessSigner(name, Ed25519PrivateKey.from_private_bytes(seed))


def split_note(note: str) -> tuple[str, list[str]]:
    """(text, signature lines) of a signed note: the text ends at the last blank line."""
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise CosignatureError("not a signed note")
    return note[: split + 1], note[split + 2 :].splitlines()


def verify_cosignature(key: WitnessKey, body: str, line: str) -> int | None:
    """The timestamp if ``line`` is a valid cosignature of ``body`` by ``key``; None if
    the line is by another key; raises if it claims to be by ``key`` and does not verify."""
    if not line.startswith(SIGNATURE_PREFIX):
        return None
    name, _, encoded = line[len(SIGNATURE_PREFIX) :].rpartition(" ")
    if name != key.name:
        return None
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) != 4 + 8 + 64 or raw[:4] != key.key_id:
        return None
    timestamp = int.from_bytes(raw[4:12], "big")
    try:
        Ed25519PublicKey.from_public_bytes(key.public_key).verify(
            raw[12:], signed_message(body, timestamp)
        )
    except InvalidSignature:
        raise CosignatureError(f"the cosignature by {key.name} does not verify") from None
    return timestamp


def cosigned_by(note: str, witnesses: list[WitnessKey]) -> dict[str, int]:
    """{witness name: timestamp} for every configured witness that cosigned the note."""
    body, lines = split_note(note)
    found: dict[str, int] = {}
    for key in witnesses:
        for line in lines:
            timestamp = verify_cosignature(key, body, line)
            if timestamp is not None:
                found[key.name] = timestamp
                break
    return found
