"""Signed notes and keys match the Go reference implementation (golang.org/x/mod/sumdb/note)."""

from __future__ import annotations

import base64

import pytest

from charity.auditlog import checkpoint, verifier

# The example key and note of the Go reference implementation's tests and documentation.
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_SIGNATURE = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngot"
    "pRZb6KE6RyyBwJnAM=\n"
)


def test_signer_key_gives_the_reference_verifier_key_and_note() -> None:
    signer = checkpoint.load_signer(GO_SKEY, "ignored-when-the-key-names-itself")
    assert signer.name == "PeterNeumann"
    assert signer.verifier_key() == GO_VKEY
    assert signer.signer_key() == GO_SKEY
    assert signer.sign(GO_TEXT) == GO_TEXT + "\n" + GO_SIGNATURE


def test_reference_note_opens_and_manglings_fail() -> None:
    key = verifier.parse_verifier_key(GO_VKEY)
    note = GO_TEXT + "\n" + GO_SIGNATURE
    assert verifier.open_note(note, key) == GO_TEXT
    for bad in (
        note.replace("problem,", "problem;"),
        note.replace("x08go", "x08gp"),
        GO_TEXT + GO_SIGNATURE,
        note.replace("— ", "-- "),
    ):
        with pytest.raises(verifier.NoteError):
            verifier.open_note(bad, key)
    other = checkpoint.load_signer(base64.b64encode(b"\7" * 32).decode(), "PeterNeumann")
    with pytest.raises(verifier.NoteError):
        verifier.open_note(note, verifier.parse_verifier_key(other.verifier_key()))


def test_witness_signatures_are_ignored() -> None:
    key = verifier.parse_verifier_key(GO_VKEY)
    witness = checkpoint.load_signer(base64.b64encode(b"\1" * 32).decode(), "witness.example")
    cosigned = witness.sign(GO_TEXT) + GO_SIGNATURE
    assert verifier.open_note(cosigned, key) == GO_TEXT


@pytest.mark.parametrize(
    "secret",
    [
        "not base64!",
        base64.b64encode(b"short").decode(),
        "PRIVATE+KEY+PeterNeumann+00000000+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        "PRIVATE+KEY+PeterNeumann+c74f20a3",
    ],
)
def test_bad_signing_keys_are_refused(secret: str) -> None:
    with pytest.raises(checkpoint.SigningKeyError):
        checkpoint.load_signer(secret, "charity.example/log")


@pytest.mark.parametrize(
    "vkey",
    [
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+ApRc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3",
        "Peter+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ],
)
def test_bad_verifier_keys_are_refused(vkey: str) -> None:
    with pytest.raises(verifier.NoteError):
        verifier.parse_verifier_key(vkey)


def test_checkpoint_body_format() -> None:
    body = checkpoint.checkpoint_body("charity.example/log", 10, b"\0" * 32)
    assert body == "charity.example/log\n10\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
    parsed = verifier.parse_checkpoint(body)
    assert (parsed.origin, parsed.size, parsed.root) == ("charity.example/log", 10, b"\0" * 32)
    for bad in ("o\n010\nAA==\n", "o\n1\n", "o\n-1\n" + body.split("\n")[2] + "\n"):
        with pytest.raises(verifier.NoteError):
            verifier.parse_checkpoint(bad)


def test_new_key_command_prints_a_usable_key(app) -> None:  # type: ignore[no-untyped-def]
    result = app.test_cli_runner().invoke(args=["audit", "new-key", "--name", "x.example/log"])
    assert result.exit_code == 0
    signer = checkpoint.load_signer(result.output.strip(), "unused")
    assert signer.name == "x.example/log"
