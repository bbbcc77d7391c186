"""Witness cosigning (issue 20, part 4): two real witnesses, a split view refused.

The witnesses run as ``python -m charity.auditlog.witness`` on free 127.0.0.1 ports, each
with its own key and state file. The platform submits every new checkpoint with its
consistency proof; the checkpoint is served (API and tiles) with both cosignatures; the
verifier requires k of n. A log operator who forks the log (same key, another history)
cannot get a witness that saw the real log to cosign the fork.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

import config
from charity import ROOT, create_app
from charity.auditlog import checkpoint, cosignature, merkle, publish, store
from charity.auditlog.canonical import canonical_json
from charity.extensions import db
from charity.models import AuditCheckpoint, AuditCosignature, AuditEntry

from .logtools import record, sequence_and_publish, verify
from .servers import running


@dataclass
class RunningWitness:
    name: str
    key: str
    url: str
    state: Path


@contextlib.contextmanager
def witness(tmp_path: Path, name: str, log_key: str) -> Iterator[RunningWitness]:
    base = [sys.executable, "-m", "charity.auditlog.witness", "--name", name]
    key_file = tmp_path / f"{name.replace('/', '_')}.key"
    state = tmp_path / f"{name.replace('/', '_')}.json"
    printed = subprocess.run(
        [*base, "--key-file", str(key_file), "--print-key"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    key = printed.stdout.strip()
    command = [
        *base,
        "--key-file",
        str(key_file),
        "--state",
        str(state),
        "--log",
        log_key,
        "--listen",
        "127.0.0.1:0",
        "--quiet",
    ]
    with running(command, cwd=ROOT, ready=r"listening on http://127\.0\.0\.1:(\d+)") as port:
        yield RunningWitness(name, key, f"http://127.0.0.1:{port}", state)


def submit(url: str, body: bytes) -> tuple[int, str]:
    request = urllib.request.Request(f"{url}/add-checkpoint", data=body, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.fixture
def log_key(app: Flask) -> str:
    return checkpoint.signer_for(app).verifier_key()


@pytest.fixture
def two_witnesses(tmp_path: Path, log_key: str) -> Iterator[list[RunningWitness]]:
    with (
        witness(tmp_path, "w1.test/witness", log_key) as first,
        witness(tmp_path, "w2.test/witness", log_key) as second,
    ):
        yield [first, second]


def witnessed_app(app: Flask, tmp_path: Path, witnesses: list[RunningWitness]) -> Flask:
    return create_app(
        config.TestingConfig(
            app.config["SQLALCHEMY_DATABASE_URI"],
            AUDITLOG_SEQUENCER="batched",
            AUDITLOG_TILES=str(tmp_path / "tiles"),
            AUDITLOG_WITNESSES=", ".join(f"{w.key} {w.url}" for w in witnesses),
        )
    )


def forked_note(app: Flask, leaves: list[bytes], fork_at: int, extra: int) -> tuple[str, list]:
    """The log operator's fork: the first ``fork_at`` entries, then ``extra`` others,
    signed with the real key. Returns (note, leaf hashes)."""
    forged = [
        merkle.leaf_hash(canonical_json({"type": "fork.entry", "n": n}).encode())
        for n in range(extra)
    ]
    fork = leaves[:fork_at] + forged
    root = merkle.root_hash(fork)
    signer = checkpoint.signer_for(app)
    body = checkpoint.checkpoint_body(app.config["AUDITLOG_ORIGIN"], len(fork), root)
    return signer.sign(body), fork


def request_body(old: int, proof: list[bytes], note: str) -> bytes:
    return publish.request_body(old, proof, note)


def test_two_witnesses_cosign_every_checkpoint_and_refuse_a_split_view(
    app: Flask, committed_db, tmp_path: Path, two_witnesses: list[RunningWitness], log_key: str
) -> None:
    platform = witnessed_app(app, tmp_path, two_witnesses)
    stack = contextlib.ExitStack()
    try:
        for organizations, noise in ((1, 3), (0, 4), (2, 0)):
            record(platform, organizations, noise)
            summary = sequence_and_publish(platform)
            assert summary["cosignatures"] == 2
        with platform.app_context():
            sizes = list(db.session.scalars(sa.select(AuditCheckpoint.tree_size)))
            assert sorted(sizes) == [4, 8, 10]
            for size in sizes:  # every checkpoint cosigned by both witnesses
                assert len(publish.cosignature_lines(db.session, size)) == 2
            leaves = [
                bytes(entry.leaf_hash)
                for entry in db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.index))
            ]
            db.session.remove()
        served = platform.test_client().get("/api/v1/log/checkpoint").get_data(as_text=True)
        assert served.count("\n\u2014 ") == 3  # the log's signature and two cosignatures
        assert (tmp_path / "tiles" / "checkpoint").read_text() == served
        keys = [two_witnesses[0].key, two_witnesses[1].key]
        files = running(
            [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "0"],
            cwd=tmp_path,
            ready=r"port (\d+)",
        )
        port = stack.enter_context(files)
        static = ["--tiles", f"http://127.0.0.1:{port}/tiles"]
        # The verifier accepts the checkpoint with 2 of 2 (and 1 of 2) cosignatures ...
        ok = verify(
            *static,
            "--key",
            log_key,
            "--witness",
            keys[0],
            "--witness",
            keys[1],
            "--state",
            str(tmp_path / "v.json"),
            cwd=tmp_path,
        )
        assert ok.returncode == 0, ok.stdout + ok.stderr
        assert "cosigned by 2 of 2 witnesses" in ok.stdout
        # ... and refuses it when it needs a third witness that has not cosigned.
        third = cosignature.new_signer("w3.test/witness").public
        short = verify(
            *static,
            "--key",
            log_key,
            "--witness",
            keys[0],
            "--witness",
            keys[1],
            "--witness",
            str(third),
            "--state",
            str(tmp_path / "v3.json"),
            cwd=tmp_path,
        )
        assert short.returncode == 1
        assert "carries 2 of the 3 witness cosignatures" in short.stderr

        # The split view: the operator forks after entry 6 and shows the fork to w2.
        w2 = two_witnesses[1]
        fork_note, fork = forked_note(platform, leaves, fork_at=6, extra=6)  # size 12
        proof = merkle.consistency_path(10, 12, merkle.reference_subtree_hash(fork))
        status, text = submit(w2.url, request_body(10, proof, fork_note))
        assert status == 422, text  # does not extend the tree of size 10 it cosigned
        same_size, _ = forked_note(platform, leaves, fork_at=6, extra=4)  # size 10
        assert submit(w2.url, request_body(10, [], same_size))[0] == 409  # another root
        status, text = submit(w2.url, request_body(0, [], fork_note))
        assert (status, text) == (409, "10\n")  # it has seen size 10 already
        # A fresh witness would cosign the fork, but the verifier asks for w1 and w2.
        with witness(tmp_path, "w3.test/witness", log_key) as fresh:
            status, line = submit(fresh.url, request_body(0, [], fork_note))
            assert status == 200
            fork_dir = tmp_path / "fork"
            fork_dir.mkdir()
            (fork_dir / "checkpoint").write_text(fork_note + line)
            refused = verify(
                "--tiles",
                f"http://127.0.0.1:{port}/fork",
                "--key",
                log_key,
                "--witness",
                keys[0],
                "--witness",
                keys[1],
                "--quorum",
                "1",
                "--state",
                str(tmp_path / "vf.json"),
                cwd=tmp_path,
            )
            assert refused.returncode == 1
            assert "carries 0 of the 1 witness cosignatures" in refused.stderr
            # The platform, asking w3 later, learns that w3 saw a size it never signed.
            with_fresh = witnessed_app(app, tmp_path, [*two_witnesses, fresh])
            try:
                record(with_fresh, 0, 1)
                assert sequence_and_publish(with_fresh)["cosignatures"] == 2  # w1, w2 only
                with with_fresh.app_context():
                    assert not db.session.scalars(
                        sa.select(AuditCosignature).where(AuditCosignature.witness == fresh.name)
                    ).all()
                    db.session.remove()
            finally:
                _dispose(with_fresh)
    finally:
        stack.close()
        _dispose(platform)


def test_a_lost_cosignature_is_asked_for_again_and_witness_state_survives_restarts(
    app: Flask, committed_db, tmp_path: Path, log_key: str
) -> None:
    with witness(tmp_path, "w1.test/witness", log_key) as first:
        platform = witnessed_app(app, tmp_path, [first])
        try:
            record(platform, 0, 5)
            assert sequence_and_publish(platform)["cosignatures"] == 1
            with platform.app_context():  # the sequencer died before storing the answer
                db.session.execute(sa.delete(AuditCosignature))
                db.session.commit()
                db.session.remove()
            platform.extensions.pop("auditlog_witness_sizes", None)  # a new process
            assert sequence_and_publish(platform)["cosignatures"] == 0  # 409: it has size 5
            assert sequence_and_publish(platform)["cosignatures"] == 1  # size 5 again, cosigned
        finally:
            _dispose(platform)
    # Restarted with its state file, the witness still refuses to start the log over.
    with witness(tmp_path, "w1.test/witness", log_key) as again:
        with app.app_context():
            saved = store.latest_saved_checkpoint(db.session)
            note = saved.note
            db.session.rollback()
        assert submit(again.url, request_body(0, [], note)) == (409, "5\n")
        assert submit(again.url, request_body(5, [], note))[0] == 200


def test_the_witness_refuses_bad_requests(tmp_path: Path, app: Flask, log_key: str) -> None:
    signer = checkpoint.signer_for(app)
    origin = app.config["AUDITLOG_ORIGIN"]
    root = merkle.root_hash([merkle.leaf_hash(b"{}")])
    note = signer.sign(checkpoint.checkpoint_body(origin, 1, root))
    other = checkpoint.load_signer(checkpoint.new_signer_key(origin), origin)
    with witness(tmp_path, "w1.test/witness", log_key) as running_witness:
        url = running_witness.url
        forged = other.sign(checkpoint.checkpoint_body(origin, 1, root))
        assert submit(url, request_body(0, [], forged))[0] == 403
        stranger = other.sign(checkpoint.checkpoint_body("elsewhere.example/log", 1, root))
        assert submit(url, request_body(0, [], stranger))[0] == 404
        assert submit(url, b"new 0\n\n" + note.encode())[0] == 400
        assert submit(url, b"old 2\n\n" + note.encode())[0] == 400  # old above the new size
        assert submit(url, b"old 0\nnot base64!\n\n" + note.encode())[0] == 400
        assert submit(url, request_body(0, [b"x" * 32], note))[0] == 400  # a proof from 0
        status, line = submit(url, request_body(0, [], note))
        assert status == 200
        key = cosignature.parse_witness_key(running_witness.key)
        assert list(cosignature.cosigned_by(note + line, [key])) == [key.name]
        assert submit(url, request_body(0, [], note)) == (409, "1\n")


def _dispose(application: Flask) -> None:
    with application.app_context():
        db.session.remove()
        db.engine.dispose()
