"""Standalone verifier for the public audit log: standard library + ``cryptography``.

    python -m charity.auditlog.verifier BASE_URL [--state FILE] [--entry INDEX] [--key VKEY]
    python -m charity.auditlog.verifier --tiles PREFIX --key VKEY [--all] [--entry INDEX]
    ... [--witness WITNESS_VKEY ...] [--quorum K]

1. Pins the log's verifier key: ``--key``, else the one saved in the state file, else
   the server's ``/api/v1/log/key`` on first use (trust on first use, said loudly; not
   with ``--tiles``, which needs a pinned key).
2. Fetches the checkpoint (``/api/v1/log/checkpoint``, or ``<PREFIX>/checkpoint``) and
   checks its Ed25519 signature with that key; with ``--witness`` keys, also that at
   least ``--quorum`` of those witnesses (default: all) cosigned it (C2SP
   tlog-cosignature, cosignature/v1): a log cannot show this checkpoint to you and
   another history to them.
3. If the state file holds an earlier checkpoint, checks that the new tree extends the
   old one (a rewritten history fails here): with the API's consistency proof, or with
   one computed from the tiles.
4. With ``--entry I``: fetches entry I and its inclusion proof (API), or its entry bundle
   and the tiles (``--tiles``), recomputes the leaf hash from the payload and checks it
   leads to the checkpoint's root.
5. With ``--tiles``: recomputes the root from the tiles; with ``--all``, also every entry
   bundle and every tile, bottom-up (a full audit of the static copy).
6. Saves the new checkpoint in the state file (default ``./auditlog-state.json``).

Exit status 0 when everything verifies, 1 on a verification failure, 2 on a usage or
network error. Only the public HTTP API or the static tiles are used. Besides this file it
needs ``merkle.py``, ``canonical.py``, ``tiles.py`` and ``cosignature.py`` from the same
folder; copy the five files anywhere and run ``python verifier.py ...`` to use it
without us.
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
    from . import canonical, cosignature, merkle, tiles
else:  # run as a copied script: python verifier.py ...
    import canonical  # type: ignore[no-redef]
    import cosignature  # type: ignore[no-redef]
    import merkle  # type: ignore[no-redef]
    import tiles  # type: ignore[no-redef]

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


def _grew(old: Checkpoint, new: Checkpoint) -> bool:
    """What any newer checkpoint of the log must keep before a proof is asked for: the
    origin, no fewer entries, the same root at the same size. True when the tree grew (a
    consistency proof to check), False when it is the same tree."""
    if new.origin != old.origin:
        raise VerifierError(f"the origin changed from {old.origin!r} to {new.origin!r}")
    if new.size < old.size:
        raise VerifierError(f"the log shrank from {old.size} to {new.size} entries")
    if new.size == old.size:
        if new.root != old.root:
            raise VerifierError(f"two different roots for tree size {new.size}: history rewritten")
        return False
    return True


def _not_extended(old: Checkpoint, new: Checkpoint, error: Exception) -> VerifierError:
    return VerifierError(
        f"the tree of size {new.size} does not extend the saved tree of size {old.size} "
        f"({error}): history was rewritten"
    )


def check_consistency(base_url: str, old: Checkpoint, new: Checkpoint) -> None:
    if not _grew(old, new):
        return
    answer = _get_json(
        base_url, "/api/v1/log/proof/consistency", {"first": old.size, "second": new.size}
    )
    try:
        merkle.verify_consistency(
            old.size, new.size, old.root, new.root, _hex_list(answer.get("path"))
        )
    except merkle.VerificationError as error:
        raise _not_extended(old, new, error) from None


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
    leaf = _check_payload(index, payload)
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


def check_witnesses(
    note: str, witnesses: list[cosignature.WitnessKey], quorum: int
) -> dict[str, int]:
    """At least ``quorum`` of ``witnesses`` cosigned the note: {name: their timestamp}."""
    if not witnesses:
        return {}
    try:
        found = cosignature.cosigned_by(note, witnesses)
    except cosignature.CosignatureError as error:
        raise VerifierError(f"checkpoint rejected: {error}") from None
    if len(found) < quorum:
        missing = sorted({key.name for key in witnesses} - found.keys())
        raise VerifierError(
            f"the checkpoint carries {len(found)} of the {quorum} witness cosignatures "
            f"required (missing: {', '.join(missing)})"
        )
    return found


# --- the same checks from static tiles (C2SP tlog-tiles) -------------------------------


def tile_fetcher(prefix: str) -> tiles.Fetch:
    def fetch(path: str) -> bytes:
        return _get(prefix, "/" + path)

    return fetch


def fetch_tile_checkpoint(prefix: str, key: VerifierKey) -> tuple[Checkpoint, str]:
    note = tile_fetcher(prefix)(tiles.CHECKPOINT).decode("utf-8")
    try:
        return parse_checkpoint(open_note(note, key)), note
    except NoteError as error:
        raise VerifierError(f"checkpoint rejected: {error}") from None


def check_tile_root(tree: tiles.TiledTree, checkpoint: Checkpoint) -> None:
    try:
        root = tree.root()
    except tiles.TileError as error:
        raise VerifierError(f"bad tile: {error}") from None
    if root != checkpoint.root:
        raise VerifierError("the tiles do not hash to the checkpoint's root: a tile was altered")


def check_tile_consistency(tree: tiles.TiledTree, old: Checkpoint, new: Checkpoint) -> None:
    if not _grew(old, new):
        return
    try:
        path = merkle.consistency_path(old.size, new.size, tree.subtree_hash)
        merkle.verify_consistency(old.size, new.size, old.root, new.root, path)
    except tiles.TileError as error:
        raise VerifierError(f"bad tile: {error}") from None
    except merkle.VerificationError as error:
        raise _not_extended(old, new, error) from None


def _check_payload(index: int, payload: str) -> bytes:
    try:
        canonical_form = canonical.canonical_json(json.loads(payload))
    except (json.JSONDecodeError, TypeError, ValueError):
        raise VerifierError(f"entry {index}: the payload is not JSON") from None
    if canonical_form != payload:
        raise VerifierError(f"entry {index}: the payload is not canonical JSON")
    return merkle.leaf_hash(payload.encode("utf-8"))


def check_tile_inclusion(tree: tiles.TiledTree, index: int, checkpoint: Checkpoint) -> str:
    if not 0 <= index < checkpoint.size:
        raise VerifierError(f"entry {index} is not in the tree of size {checkpoint.size}")
    try:
        raw = tree.bundle(index // tiles.TILE_WIDTH)[index % tiles.TILE_WIDTH]
        payload = raw.decode("utf-8")
        leaf = _check_payload(index, payload)
        path = merkle.inclusion_path(index, checkpoint.size, tree.subtree_hash)
        merkle.verify_inclusion(index, checkpoint.size, leaf, path, checkpoint.root)
    except UnicodeDecodeError:
        raise VerifierError(f"entry {index} is not UTF-8") from None
    except tiles.TileError as error:
        raise VerifierError(f"bad tile: {error}") from None
    except merkle.VerificationError as error:
        raise VerifierError(f"entry {index} is not included in the checkpoint: {error}") from None
    return payload


def check_all_tiles(tree: tiles.TiledTree, checkpoint: Checkpoint) -> int:
    try:
        count = tree.check_all()
        for bundle in range((tree.size + tiles.TILE_WIDTH - 1) // tiles.TILE_WIDTH):
            for offset, raw in enumerate(tree.bundle(bundle)):
                _check_payload(bundle * tiles.TILE_WIDTH + offset, raw.decode("utf-8"))
    except tiles.TileError as error:
        raise VerifierError(f"bad tile: {error}") from None
    except UnicodeDecodeError:
        raise VerifierError("an entry is not UTF-8") from None
    check_tile_root(tree, checkpoint)
    return count


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


def pin_key(base_url: str | None, given: str | None, state: dict[str, Any]) -> VerifierKey:
    saved = state.get("verifier_key")
    try:
        if given:
            key = parse_verifier_key(given)
            if saved and str(key) != saved:
                raise VerifierError(f"--key differs from the key pinned in the state: {saved}")
            return key
        if saved:
            return parse_verifier_key(saved)
        if base_url is None:
            raise FetchError("tiles carry no key: pin the log's key with --key")
        key = parse_verifier_key(_get(base_url, "/api/v1/log/key").decode("utf-8"))
    except NoteError as error:
        raise VerifierError(f"bad verifier key: {error}") from None
    print(f"NOTE: trusting the server's key on first use: {key}")
    print("      compare it with the key the operator publishes elsewhere.")
    return key


@dataclass(frozen=True)
class Options:
    base_url: str | None = None
    tiles: str | None = None
    state: Path = Path("auditlog-state.json")
    entry: int | None = None
    key: str | None = None
    witnesses: tuple[cosignature.WitnessKey, ...] = ()
    quorum: int | None = None
    check_all: bool = False


def run(options: Options) -> None:
    state = load_state(options.state)
    key = pin_key(options.base_url, options.key, state)
    if options.tiles:
        checkpoint, note = fetch_tile_checkpoint(options.tiles, key)
    else:
        assert options.base_url is not None
        checkpoint, note = fetch_checkpoint(options.base_url, key)
    print(f"OK  checkpoint signed by {key.name}: {checkpoint.origin}, size {checkpoint.size}")
    witnesses = list(options.witnesses)
    quorum = len(witnesses) if options.quorum is None else options.quorum
    cosigned = check_witnesses(note, witnesses, quorum)
    if witnesses:
        names = ", ".join(sorted(cosigned))
        print(f"OK  cosigned by {len(cosigned)} of {len(witnesses)} witnesses: {names}")
    tree = tiles.TiledTree(tile_fetcher(options.tiles), checkpoint.size) if options.tiles else None
    if tree is not None:
        if options.check_all:
            count = check_all_tiles(tree, checkpoint)
            print(f"OK  all {count} entries and every tile hash to the checkpoint's root")
        else:
            check_tile_root(tree, checkpoint)
            print("OK  the tiles hash to the checkpoint's root")
    if state.get("tree_size") is not None:
        old = Checkpoint(
            state["origin"], int(state["tree_size"]), base64.b64decode(state["root_hash"])
        )
        if tree is not None:
            check_tile_consistency(tree, old, checkpoint)
        else:
            assert options.base_url is not None
            check_consistency(options.base_url, old, checkpoint)
        print(f"OK  consistent with the saved checkpoint of size {old.size}")
    if options.entry is not None:
        if tree is not None:
            payload = check_tile_inclusion(tree, options.entry, checkpoint)
        else:
            assert options.base_url is not None
            payload = check_inclusion(options.base_url, options.entry, checkpoint)["payload"]
        print(f"OK  entry {options.entry} is included: {payload}")
    save_state(options.state, key, checkpoint, note)
    print(f"saved the checkpoint to {options.state}")


def _witness_key(text: str) -> cosignature.WitnessKey:
    try:
        return cosignature.parse_witness_key(text)
    except cosignature.CosignatureError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Verify the charity platform's public audit log.")
    parser.add_argument("base_url", nargs="?", help="the site, e.g. https://charity.example")
    parser.add_argument("--tiles", help="verify from static tiles at this URL prefix instead")
    parser.add_argument("--state", default="auditlog-state.json", help="state file")
    parser.add_argument("--entry", type=int, help="also verify the inclusion of this entry")
    parser.add_argument("--key", help="the verifier key to pin (name+hexkeyid+base64key)")
    parser.add_argument(
        "--witness",
        action="append",
        type=_witness_key,
        default=[],
        help="a witness's key (name+hexkeyid+base64key); repeat for each",
    )
    parser.add_argument("--quorum", type=int, help="witness cosignatures required (default: all)")
    parser.add_argument("--all", action="store_true", help="with --tiles: check every tile")
    args = parser.parse_args(argv)
    if bool(args.base_url) == bool(args.tiles):
        parser.error("give either BASE_URL (the API) or --tiles PREFIX")
    if args.quorum is not None and not 0 <= args.quorum <= len(args.witness):
        parser.error("--quorum must be between 0 and the number of --witness keys")
    options = Options(
        base_url=args.base_url,
        tiles=args.tiles,
        state=Path(args.state),
        entry=args.entry,
        key=args.key,
        witnesses=tuple(args.witness),
        quorum=args.quorum,
        check_all=args.all,
    )
    try:
        run(options)
    except VerifierError as error:
        print(f"FAILED: {error}", file=sys.stderr)
        return 1
    except FetchError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
