"""Standalone verifier for the public audit log: standard library + ``cryptography``.

    python -m charity.auditlog.verifier BASE_URL [--state FILE] [--entry INDEX] [--key VKEY]

1. Pins the log's verifier key: ``--key``, else the one saved in the state file, else
   the server's ``/api/v1/log/key`` on first use (trust on first use, said loudly).
2. Fetches ``/api/v1/log/checkpoint`` and checks its Ed25519 signature with that key.
3. If the state file holds an earlier checkpoint, fetches a consistency proof and checks
   that the new tree extends the old one (a rewritten history fails here).
4. With ``--entry I``: fetches entry I and its inclusion proof, recomputes the leaf hash
   from the payload and checks it leads to the checkpoint's root.
5. Saves the new checkpoint in the state file (default ``./auditlog-state.json``).

Exit status 0 when everything verifies, 1 on a verification failure, 2 on a usage or
network error. Only the public HTTP API is used. Besides this file it needs
``merkle.py`` and ``canonical.py`` from the same folder (both standard library only);
copy the three files anywhere and run ``python verifier.py ...`` to use it without us.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

if __package__:
    from . import canonical, merkle
else:  # run as a copied script: python verifier.py ...
    import canonical  # type: ignore[no-redef]
    import merkle  # type: ignore[no-redef]

#: The C2SP signed-note signature type byte for Ed25519.
ED25519 = b"\x01"
SIGNATURE_PREFIX = "\u2014 "
TIMEOUT = 30


class NoteError(ValueError):
    """A signed note or checkpoint that is malformed or does not verify."""


class VerifierError(Exception):
    """A verification failure: the log is not what it claims to be."""


class FetchError(Exception):
    """The server could not be asked (network, HTTP status, bad JSON)."""


# --- keys and signed notes -------------------------------------------------------------


def key_id(name: str, public_key: bytes) -> bytes:
    """SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ public key)[:4]."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + ED25519 + public_key).digest()[:4]


def verifier_key_string(name: str, public_key: bytes) -> str:
    encoded = base64.b64encode(ED25519 + public_key).decode()
    return f"{name}+{key_id(name, public_key).hex()}+{encoded}"


@dataclass(frozen=True)
class VerifierKey:
    name: str
    key_id: bytes
    public_key: bytes

    def __str__(self) -> str:
        return verifier_key_string(self.name, self.public_key)


def parse_verifier_key(text: str) -> VerifierKey:
    parts = text.strip().split("+", 2)  # the base64 key may itself contain "+"
    if len(parts) != 3:
        raise NoteError("a verifier key has the form name+hexkeyid+base64key")
    name, hex_id, encoded = parts
    try:
        raw = base64.b64decode(encoded, validate=True)
        wanted_id = bytes.fromhex(hex_id)
    except (binascii.Error, ValueError):
        raise NoteError("the verifier key's id or key is not hex/base64") from None
    if len(raw) != 33 or raw[:1] != ED25519:
        raise NoteError("the verifier key is not an Ed25519 key")
    if key_id(name, raw[1:]) != wanted_id or len(wanted_id) != 4:
        raise NoteError("the verifier key's id does not match its name and key")
    return VerifierKey(name, wanted_id, raw[1:])


def open_note(note: str, key: VerifierKey) -> str:
    """The note's text if ``key`` signed it; raises :class:`NoteError` otherwise."""
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise NoteError("not a signed note (no blank line before the signatures)")
    text, signature_block = note[: split + 1], note[split + 2 :]
    for line in signature_block.splitlines():
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError(f"malformed signature line: {line!r}")
        name, _, encoded = line[len(SIGNATURE_PREFIX) :].rpartition(" ")
        if name != key.name:
            continue  # another signer (a witness, say): not ours to judge
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise NoteError("a signature is not base64") from None
        if len(raw) < 5 or raw[:4] != key.key_id:
            continue
        try:
            Ed25519PublicKey.from_public_bytes(key.public_key).verify(raw[4:], text.encode("utf-8"))
        except InvalidSignature:
            raise NoteError(f"the signature by {key.name} does not verify") from None
        return text
    raise NoteError(f"the note carries no signature by {key.name} ({key.key_id.hex()})")


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes


def parse_checkpoint(text: str) -> Checkpoint:
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise NoteError("a checkpoint has an origin, a size and a root, each on its line")
    origin, size_text, root_text = lines[0], lines[1], lines[2]
    if not origin or not size_text.isdigit() or (size_text != "0" and size_text[0] == "0"):
        raise NoteError("malformed checkpoint origin or size")
    try:
        root = base64.b64decode(root_text, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError("the checkpoint root is not base64") from None
    if len(root) != merkle.HASH_SIZE:
        raise NoteError("the checkpoint root is not 32 bytes")
    return Checkpoint(origin, int(size_text), root)


# --- talking to the server -------------------------------------------------------------


def _get(base_url: str, path: str, params: dict[str, int] | None = None) -> bytes:
    url = base_url.rstrip("/") + path
    if params:
        url += "?" + urllib.parse.urlencode(params)
    if not url.startswith(("http://", "https://")):
        raise FetchError(f"not an http(s) URL: {url}")
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:  # noqa: S310 (checked)
            return response.read()
    except urllib.error.HTTPError as error:
        raise FetchError(f"GET {url}: HTTP {error.code} {error.read()[:200]!r}") from None
    except (urllib.error.URLError, OSError) as error:
        raise FetchError(f"GET {url}: {error}") from None


def _get_json(base_url: str, path: str, params: dict[str, int]) -> dict[str, Any]:
    try:
        return json.loads(_get(base_url, path, params))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise FetchError(f"{path}: the server did not answer JSON") from None


def _hex_list(values: Any) -> list[bytes]:
    try:
        return [bytes.fromhex(value) for value in values]
    except (TypeError, ValueError):
        raise VerifierError("the proof is not a list of hex hashes") from None


# --- the checks ------------------------------------------------------------------------


def fetch_checkpoint(base_url: str, key: VerifierKey) -> tuple[Checkpoint, str]:
    note = _get(base_url, "/api/v1/log/checkpoint").decode("utf-8")
    try:
        return parse_checkpoint(open_note(note, key)), note
    except NoteError as error:
        raise VerifierError(f"checkpoint rejected: {error}") from None


def check_consistency(base_url: str, old: Checkpoint, new: Checkpoint) -> None:
    if new.origin != old.origin:
        raise VerifierError(f"the origin changed from {old.origin!r} to {new.origin!r}")
    if new.size < old.size:
        raise VerifierError(f"the log shrank from {old.size} to {new.size} entries")
    if new.size == old.size:
        if new.root != old.root:
            raise VerifierError(f"two different roots for tree size {new.size}: history rewritten")
        return
    answer = _get_json(
        base_url, "/api/v1/log/proof/consistency", {"first": old.size, "second": new.size}
    )
    try:
        merkle.verify_consistency(
            old.size, new.size, old.root, new.root, _hex_list(answer.get("path"))
        )
    except merkle.VerificationError as error:
        raise VerifierError(
            f"the tree of size {new.size} does not extend the saved tree of size {old.size} "
            f"({error}): history was rewritten"
        ) from None


def check_inclusion(base_url: str, index: int, checkpoint: Checkpoint) -> dict[str, Any]:
    if not 0 <= index < checkpoint.size:
        raise VerifierError(f"entry {index} is not in the tree of size {checkpoint.size}")
    listing = _get_json(base_url, "/api/v1/log/entries", {"start": index, "end": index + 1})
    entries = listing.get("entries") or []
    if len(entries) != 1 or entries[0].get("index") != index:
        raise VerifierError(f"the server did not return entry {index}")
    entry = entries[0]
    payload = entry.get("payload")
    if not isinstance(payload, str):
        raise VerifierError(f"entry {index} has no payload string")
    try:
        canonical_form = canonical.canonical_json(json.loads(payload))
    except (json.JSONDecodeError, TypeError, ValueError):
        raise VerifierError(f"entry {index}: the payload is not JSON") from None
    if canonical_form != payload:
        raise VerifierError(f"entry {index}: the payload is not canonical JSON")
    leaf = merkle.leaf_hash(payload.encode("utf-8"))
    if entry.get("leaf_hash") != leaf.hex():
        raise VerifierError(f"entry {index}: the leaf hash does not match its payload")
    proof = _get_json(
        base_url, "/api/v1/log/proof/inclusion", {"index": index, "tree_size": checkpoint.size}
    )
    try:
        merkle.verify_inclusion(
            index, checkpoint.size, leaf, _hex_list(proof.get("path")), checkpoint.root
        )
    except merkle.VerificationError as error:
        raise VerifierError(f"entry {index} is not included in the checkpoint: {error}") from None
    return entry


# --- state and the command -------------------------------------------------------------


def load_state(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise FetchError(f"{path}: not a state file written by this verifier") from None


def save_state(path: Path, key: VerifierKey, checkpoint: Checkpoint, note: str) -> None:
    state = {
        "verifier_key": str(key),
        "origin": checkpoint.origin,
        "tree_size": checkpoint.size,
        "root_hash": base64.b64encode(checkpoint.root).decode(),
        "checkpoint": note,
    }
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(state, indent=2, ensure_ascii=False) + "\n", "utf-8")
    temporary.replace(path)


def pin_key(base_url: str, given: str | None, state: dict[str, Any]) -> VerifierKey:
    saved = state.get("verifier_key")
    try:
        if given:
            key = parse_verifier_key(given)
            if saved and str(key) != saved:
                raise VerifierError(f"--key differs from the key pinned in the state: {saved}")
            return key
        if saved:
            return parse_verifier_key(saved)
        key = parse_verifier_key(_get(base_url, "/api/v1/log/key").decode("utf-8"))
    except NoteError as error:
        raise VerifierError(f"bad verifier key: {error}") from None
    print(f"NOTE: trusting the server's key on first use: {key}")
    print("      compare it with the key the operator publishes elsewhere.")
    return key


def run(base_url: str, state_path: Path, entry: int | None, given_key: str | None) -> None:
    state = load_state(state_path)
    key = pin_key(base_url, given_key, state)
    checkpoint, note = fetch_checkpoint(base_url, key)
    print(f"OK  checkpoint signed by {key.name}: {checkpoint.origin}, size {checkpoint.size}")
    if state.get("tree_size") is not None:
        old = Checkpoint(
            state["origin"], int(state["tree_size"]), base64.b64decode(state["root_hash"])
        )
        check_consistency(base_url, old, checkpoint)
        print(f"OK  consistent with the saved checkpoint of size {old.size}")
    if entry is not None:
        found = check_inclusion(base_url, entry, checkpoint)
        print(f"OK  entry {entry} is included: {found['payload']}")
    save_state(state_path, key, checkpoint, note)
    print(f"saved the checkpoint to {state_path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Verify the charity platform's public audit log.")
    parser.add_argument("base_url", help="e.g. https://charity.example")
    parser.add_argument("--state", default="auditlog-state.json", help="state file")
    parser.add_argument("--entry", type=int, help="also verify the inclusion of this entry")
    parser.add_argument("--key", help="the verifier key to pin (name+hexkeyid+base64key)")
    args = parser.parse_args(argv)
    try:
        run(args.base_url, Path(args.state), args.entry, args.key)
    except VerifierError as error:
        print(f"FAILED: {error}", file=sys.stderr)
        return 1
    except FetchError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
