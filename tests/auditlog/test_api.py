"""The public API of docs/audit-log.md, byte for byte where the contract says so."""

from __future__ import annotations

import base64
import json

import pytest

from charity.auditlog import merkle, verifier
from config import TESTING_AUDITLOG_KEY


def _key(client) -> verifier.VerifierKey:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/log/key")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    return verifier.parse_verifier_key(response.get_data(as_text=True))


def test_key_has_the_c2sp_verifier_format(client) -> None:  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    text = client.get("/api/v1/log/key").get_data(as_text=True).strip()
    name, hex_id, encoded = text.split("+", 2)
    seed = base64.b64decode(TESTING_AUDITLOG_KEY)
    public = (
        Ed25519PrivateKey.from_private_bytes(seed)
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    import hashlib

    assert name == "charity.test/log"
    assert base64.b64decode(encoded) == b"\x01" + public
    assert hex_id == hashlib.sha256(name.encode() + b"\n\x01" + public).digest()[:4].hex()


def test_checkpoint_is_a_signed_note(client, append_synthetic) -> None:  # type: ignore[no-untyped-def]
    append_synthetic(7)
    response = client.get("/api/v1/log/checkpoint")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert "max-age" in response.headers["Cache-Control"]
    note = response.get_data(as_text=True)
    body, signature_line = note.split("\n\n")
    assert body.split("\n")[:2] == ["charity.test/log", "7"]
    assert signature_line.startswith("\u2014 charity.test/log ")
    assert signature_line.endswith("\n") and signature_line.count("\n") == 1
    raw = base64.b64decode(signature_line.split(" ")[-1])
    key = _key(client)
    assert raw[:4] == key.key_id and len(raw) == 68
    checkpoint = verifier.parse_checkpoint(verifier.open_note(note, key))
    assert checkpoint.size == 7
    tampered = note.replace("\n7\n", "\n8\n")
    with pytest.raises(verifier.NoteError):
        verifier.open_note(tampered, key)


def test_entries_and_inclusion_proof(client, append_synthetic) -> None:  # type: ignore[no-untyped-def]
    append_synthetic(11)
    response = client.get("/api/v1/log/entries?start=3&end=6")
    assert response.status_code == 200
    entries = response.get_json()["entries"]
    assert [e["index"] for e in entries] == [3, 4, 5]
    assert set(entries[0]) == {"index", "leaf_hash", "payload", "created_at"}
    assert entries[0]["created_at"].endswith("Z")
    leaf = merkle.leaf_hash(entries[1]["payload"].encode())
    assert entries[1]["leaf_hash"] == leaf.hex()
    proof = client.get("/api/v1/log/proof/inclusion?index=4&tree_size=9").get_json()
    assert set(proof) == {"index", "tree_size", "leaf_hash", "path", "root_hash"}
    assert proof["leaf_hash"] == leaf.hex()
    path = [bytes.fromhex(h) for h in proof["path"]]
    merkle.verify_inclusion(4, 9, leaf, path, bytes.fromhex(proof["root_hash"]))


def test_consistency_proof(client, append_synthetic) -> None:  # type: ignore[no-untyped-def]
    append_synthetic(3)
    old = verifier.parse_checkpoint(
        verifier.open_note(
            client.get("/api/v1/log/checkpoint").get_data(as_text=True), _key(client)
        )
    )
    append_synthetic(10)
    answer = client.get("/api/v1/log/proof/consistency?first=3&second=13").get_json()
    assert set(answer) == {"first", "second", "path", "first_root", "second_root"}
    assert answer["first_root"] == old.root.hex()
    merkle.verify_consistency(
        3,
        13,
        old.root,
        bytes.fromhex(answer["second_root"]),
        [bytes.fromhex(h) for h in answer["path"]],
    )
    same = client.get("/api/v1/log/proof/consistency?first=13&second=13").get_json()
    assert same["path"] == []


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/log/entries",
        "/api/v1/log/entries?start=0",
        "/api/v1/log/entries?start=a&end=2",
        "/api/v1/log/entries?start=-1&end=2",
        "/api/v1/log/entries?start=2&end=2",
        "/api/v1/log/entries?start=0&end=6",
        "/api/v1/log/entries?start=0&end=99999999999999999999999",
        "/api/v1/log/proof/inclusion?index=0",
        "/api/v1/log/proof/inclusion?index=5&tree_size=5",
        "/api/v1/log/proof/inclusion?index=0&tree_size=6",
        "/api/v1/log/proof/inclusion?index=0&tree_size=0",
        "/api/v1/log/proof/inclusion?index=１&tree_size=5",
        "/api/v1/log/proof/consistency?first=0&second=5",
        "/api/v1/log/proof/consistency?first=3&second=2",
        "/api/v1/log/proof/consistency?first=3&second=6",
        "/api/v1/log/proof/consistency?first=x&second=5",
    ],
)
def test_bad_parameters_get_400_json(client, append_synthetic, url: str) -> None:  # type: ignore[no-untyped-def]
    append_synthetic(5)
    response = client.get(url)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "bad_parameter" and error["message"]


def test_at_most_1000_entries(client, append_synthetic) -> None:  # type: ignore[no-untyped-def]
    append_synthetic(1001)
    assert client.get("/api/v1/log/entries?start=0&end=1001").status_code == 400
    response = client.get("/api/v1/log/entries?start=1&end=1001")
    assert len(response.get_json()["entries"]) == 1000
    assert "immutable" in response.headers["Cache-Control"]


def test_checkpoint_of_empty_log(client) -> None:  # type: ignore[no-untyped-def]
    note = client.get("/api/v1/log/checkpoint").get_data(as_text=True)
    checkpoint = verifier.parse_checkpoint(verifier.open_note(note, _key(client)))
    assert (checkpoint.size, checkpoint.root) == (0, merkle.EMPTY_ROOT)
    assert json.loads(client.get("/api/v1/log/entries?start=0&end=1").data)["error"]


def test_checkpoint_is_saved_when_another_writer_committed_meanwhile(app, committed_db) -> None:  # type: ignore[no-untyped-def]
    """A page that read first and must then save a new checkpoint, while another process
    appended and committed in between (on SQLite: SQLITE_BUSY_SNAPSHOT), still answers."""
    from sqlalchemy.orm import Session

    from charity.auditlog import store
    from charity.blueprints.auditlog_api import latest_checkpoint
    from charity.extensions import db
    from tests.support.auditlog import synthetic

    with app.test_request_context("/log/"):
        assert store.current_head(db.session)[0] == 0  # this request's transaction reads
        with Session(db.engine) as other, other.begin():  # another worker appends
            store.append_entries(other, synthetic(2))
        size, root, note = latest_checkpoint()
        assert size == 2 and note.splitlines()[1] == "2"
        assert root == merkle.root_hash(
            [merkle.leaf_hash(e.payload.encode()) for e in synthetic(2)]
        )
        assert store.saved_checkpoint(db.session, 2) is not None
