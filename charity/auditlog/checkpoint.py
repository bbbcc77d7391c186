"""Signed checkpoints: C2SP tlog-checkpoint bodies in C2SP signed notes, Ed25519.

Checkpoint body (each line ends in a newline)::

    <origin>
    <tree size, decimal>
    <root hash, standard base64>

Signed note: the body, a blank line, then ``— <key name> base64(key id ‖ signature)``
where key id = SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ public key)[:4] and the Ed25519
signature covers the body (with its final newline).

Signing key (``AUDITLOG_SIGNING_KEY``), either:
- the C2SP/Go note signer key string ``PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 ‖ seed)>``
  (its name wins over ``AUDITLOG_KEY_NAME``), or
- standard base64 of the 32-byte Ed25519 seed (named by ``AUDITLOG_KEY_NAME``).
Generate one with ``flask audit new-key``. The verification side lives in
:mod:`charity.auditlog.verifier` so that the standalone verifier stays self-contained.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session

from charity.auditlog import store
from charity.auditlog.verifier import ED25519, NoteError, key_id, verifier_key_string

SIGNATURE_PREFIX = "\u2014 "


class SigningKeyError(ValueError):
    """The configured signing key cannot be read."""


@dataclass(frozen=True)
class Signer:
    name: str
    private_key: Ed25519PrivateKey

    @property
    def public_key(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.public_key)

    def verifier_key(self) -> str:
        """``<name>+<hex key id>+<base64(0x01 ‖ public key)>``."""
        return verifier_key_string(self.name, self.public_key)

    def signer_key(self) -> str:
        seed = self.private_key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        encoded = base64.b64encode(ED25519 + seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.key_id.hex()}+{encoded}"

    def sign(self, text: str) -> str:
        """Wrap ``text`` (ending in a newline) into a signed note."""
        if not text.endswith("\n") or "\n\n" in text:
            raise NoteError("a note's text must end in one newline and have no blank line")
        signature = self.private_key.sign(text.encode("utf-8"))
        encoded = base64.b64encode(self.key_id + signature).decode()
        return f"{text}\n{SIGNATURE_PREFIX}{self.name} {encoded}\n"


def load_signer(secret: str, name: str) -> Signer:
    """A :class:`Signer` from either accepted ``AUDITLOG_SIGNING_KEY`` format."""
    secret = secret.strip()
    if secret.startswith("PRIVATE+KEY+"):
        return _from_signer_key(secret)
    try:
        seed = base64.b64decode(secret, validate=True)
    except (binascii.Error, ValueError):
        raise SigningKeyError("AUDITLOG_SIGNING_KEY is neither a signer key nor base64") from None
    if len(seed) != 32:
        raise SigningKeyError("AUDITLOG_SIGNING_KEY must be base64 of a 32-byte Ed25519 seed")
    _check_name(name)
    return Signer(name, Ed25519PrivateKey.from_private_bytes(seed))


def _from_signer_key(secret: str) -> Signer:
    parts = secret.split("+", 4)  # the base64 key may itself contain "+"
    if len(parts) != 5:
        raise SigningKeyError("AUDITLOG_SIGNING_KEY: malformed PRIVATE+KEY string")
    _, _, name, hex_id, encoded = parts
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise SigningKeyError("AUDITLOG_SIGNING_KEY: the key part is not base64") from None
    if len(raw) != 33 or raw[:1] != ED25519:
        raise SigningKeyError("AUDITLOG_SIGNING_KEY: not an Ed25519 key")
    _check_name(name)
    signer = Signer(name, Ed25519PrivateKey.from_private_bytes(raw[1:]))
    if signer.key_id.hex() != hex_id.lower():
        raise SigningKeyError("AUDITLOG_SIGNING_KEY: the key id does not match the key")
    return signer


def _check_name(name: str) -> None:
    if not name or "+" in name or any(ch.isspace() for ch in name):
        raise SigningKeyError("the key name must be non-empty, without spaces or '+'")


def new_signer_key(name: str) -> str:
    _check_name(name)
    return Signer(name, Ed25519PrivateKey.generate()).signer_key()


def checkpoint_body(origin: str, size: int, root: bytes) -> str:
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n"


def signer_for(app: Any) -> Signer:
    """The app's signer, read once from its configuration."""
    signer = app.extensions.get("auditlog_signer")
    if signer is None:
        secret = app.config.get("AUDITLOG_SIGNING_KEY") or ""
        if not secret:
            raise SigningKeyError("AUDITLOG_SIGNING_KEY is not configured")
        signer = load_signer(secret, app.config["AUDITLOG_KEY_NAME"])
        app.extensions["auditlog_signer"] = signer
    return signer


def current_checkpoint(
    session: Session, signer: Signer, origin: str, *, save: bool = True
) -> tuple[int, bytes, str]:
    """(size, root, signed note) for the current head; every served note is saved.

    Ed25519 signatures are deterministic, so re-signing a size gives the same note; the
    saved copy is what `flask audit verify` and later consistency checks rely on. With
    ``save=False`` (a read replica cannot write) a missing note is signed and not saved:
    the batched sequencer saves every head's note, so that happens only with the inline
    log, and the primary saves the same bytes on its next request.
    """
    size, root = store.current_head(session)
    saved = store.saved_checkpoint(session, size)
    if saved is not None and saved.root_hash == root:
        return size, root, saved.note
    note = signer.sign(checkpoint_body(origin, size, root))
    if save:
        store.save_checkpoint(session, size, root, note)
    return size, root, note


def sequence_batch(session: Session, signer: Signer, origin: str, limit: int) -> list[int]:
    """One step of the log sequencer: append up to ``limit`` queued entries and, in the
    same transaction, sign and save the checkpoint of the new head. Every head readers
    can see then has its checkpoint saved, so serving checkpoints and proofs never writes
    (read replicas can serve the log). Returns the appended indexes; the caller commits."""
    appended = store.sequence_pending(session, limit=limit)
    if appended:
        current_checkpoint(session, signer, origin)
    return appended
