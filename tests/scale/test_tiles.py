"""The log as static C2SP tlog-tiles (issue 20, part 3).

The sequencer's publisher writes tiles from the database; the standalone verifier,
pointed at ``python -m http.server`` serving that directory, verifies the same tree as
the API and refuses a tile that was altered. The same tiles go to an S3-compatible
bucket (moto's server on 127.0.0.1, the real boto3 client).
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

import config
from charity import create_app
from charity.auditlog import checkpoint, merkle, publish, store, tiles
from charity.extensions import db
from tests.support.auditlog import synthetic

from .logtools import record, sequence_and_publish, verify
from .servers import running

# --- layout ----------------------------------------------------------------------------


def test_paths_follow_the_spec() -> None:
    assert tiles.index_path(1234067) == "x001/x234/067"
    assert tiles.index_path(5) == "005"
    assert tiles.index_path(1000) == "x001/000"
    assert tiles.tile_path(0, 1234067, 256) == "tile/0/x001/x234/067"
    assert tiles.tile_path(1, 0, 17) == "tile/1/000.p/17"
    assert tiles.bundle_path(3, 8) == "tile/entries/003.p/8"


def test_tiles_of_a_tree_of_70000_as_in_the_spec() -> None:
    made = list(tiles.tiles_between(0, 70_000))
    level0 = [tile for tile in made if tile.level == 0]
    assert len([t for t in level0 if t.width == 256]) == 273
    assert [t.width for t in level0 if t.width < 256] == [112]
    assert [(t.index, t.width) for t in made if t.level == 1] == [(0, 256), (1, 17)]
    assert [(t.index, t.width) for t in made if t.level == 2] == [(0, 1)]
    assert [(t.level, t.width) for t in tiles.tiles_between(0, 256)] == [(0, 256), (1, 1)]
    # Growing 256 -> 300 adds a partial level-0 tile only; level 1 is unchanged.
    assert [(t.level, t.index, t.width) for t in tiles.tiles_between(256, 300)] == [(0, 1, 44)]


def test_bundles_round_trip_and_refuse_truncation() -> None:
    entries = [b"{}", "数据".encode(), b""]
    data = tiles.encode_bundle(entries)
    assert tiles.decode_bundle(data) == entries
    with pytest.raises(tiles.TileError):
        tiles.decode_bundle(data[:-1])
    with pytest.raises(tiles.TileError):
        tiles.encode_bundle([b"x" * 70_000])


# --- written from the database ---------------------------------------------------------


def test_tiles_written_in_steps_give_every_root_and_proof(db_session, tmp_path) -> None:  # type: ignore[no-untyped-def]
    storage = publish.DirectoryStorage(tmp_path)
    for grow in (1, 254, 1, 300, 213):  # crosses 256 and 512; partial tiles on each edge
        size, _ = store.current_head(db_session)
        store.append_entries(db_session, synthetic(grow, size))
        size, root = store.current_head(db_session)
        publish.publish_tiles(db_session, storage, size, f"charity.test/log\n{size}\nx\n")
        tree = tiles.TiledTree(lambda path: (tmp_path / path).read_bytes(), size)
        assert tree.root() == root
        assert tree.check_all() == size
        for index in (0, size // 2, size - 1):
            path = merkle.inclusion_path(index, size, tree.subtree_hash)
            assert path == store.inclusion_proof(db_session, index, size)
        for first in (1, size // 3 or 1, size - 1 or 1):
            path = merkle.consistency_path(first, size, tree.subtree_hash)
            assert path == store.consistency_proof(db_session, first, size)
    assert (tmp_path / "tile/0/000").stat().st_size == 256 * 32
    assert (tmp_path / "tile/0/000.p/1").exists()  # the size-1 tree's tile stays served
    assert (tmp_path / "tile/1/000.p/3").stat().st_size == 3 * 32  # 769 = 3 x 256 + 1
    assert tiles.decode_bundle((tmp_path / "tile/entries/003.p/1").read_bytes()) == [
        entry.payload.encode() for entry in store.entries_between(db_session, 768, 769)
    ]


# --- the verifier against a static server, and against the API -------------------------


@pytest.fixture
def tiled_app(app: Flask, committed_db, tmp_path) -> Iterator[Flask]:  # type: ignore[no-untyped-def]
    """The app publishing tiles to tmp_path/log (batched log, like production)."""
    application = create_app(
        config.TestingConfig(
            app.config["SQLALCHEMY_DATABASE_URI"],
            AUDITLOG_SEQUENCER="batched",
            AUDITLOG_TILES=str(tmp_path / "log"),
        )
    )
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def test_verifier_checks_the_tiles_served_statically_like_the_api(
    tiled_app: Flask, tmp_path: Path
) -> None:
    record(tiled_app, organizations=3, noise=290)
    assert sequence_and_publish(tiled_app)["size"] == 293
    key = checkpoint.signer_for(tiled_app).verifier_key()
    server = make_server("127.0.0.1", 0, tiled_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    api = f"http://127.0.0.1:{server.server_port}"
    try:
        with running(
            [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "0"],
            cwd=tmp_path / "log",
            ready=r"port (\d+)",
        ) as port:
            static = f"http://127.0.0.1:{port}"
            first = verify(
                "--tiles",
                static,
                "--key",
                key,
                "--all",
                "--entry",
                "1",
                "--state",
                str(tmp_path / "tiles.json"),
                cwd=tmp_path,
            )
            assert first.returncode == 0, first.stdout + first.stderr
            assert "all 293 entries and every tile" in first.stdout
            assert "organization.verified" in first.stdout
            by_api = verify(
                api,
                "--key",
                key,
                "--entry",
                "1",
                "--state",
                str(tmp_path / "api.json"),
                cwd=tmp_path,
            )
            assert by_api.returncode == 0, by_api.stderr
            tiles_state = json.loads((tmp_path / "tiles.json").read_text())
            api_state = json.loads((tmp_path / "api.json").read_text())
            assert tiles_state["checkpoint"] == api_state["checkpoint"]  # the same signed note
            answer = tiled_app.test_client().get("/api/v1/log/entries?start=0&end=293")
            listed = [entry["payload"].encode() for entry in answer.get_json()["entries"]]
            bundled = [
                entry
                for bundle in ("tile/entries/000", "tile/entries/001.p/37")
                for entry in tiles.decode_bundle((tmp_path / "log" / bundle).read_bytes())
            ]
            assert bundled == listed

            # The log grows; the tiles follow; the verifier checks consistency from them.
            record(tiled_app, organizations=1, noise=300)
            assert sequence_and_publish(tiled_app)["size"] == 594
            grown = verify(
                "--tiles",
                static,
                "--entry",
                "593",
                "--state",
                str(tmp_path / "tiles.json"),
                cwd=tmp_path,
            )
            assert grown.returncode == 0, grown.stdout + grown.stderr
            assert "consistent with the saved checkpoint of size 293" in grown.stdout

            # Someone alters a full tile in the middle: the full check refuses it ...
            tile = tmp_path / "log" / "tile/0/001"
            data = bytearray(tile.read_bytes())
            data[100] ^= 1
            tile.write_bytes(bytes(data))
            altered = verify(
                "--tiles",
                static,
                "--key",
                key,
                "--all",
                "--state",
                str(tmp_path / "fresh.json"),
                cwd=tmp_path,
            )
            assert altered.returncode == 1
            assert "FAILED" in altered.stderr
            # ... and an entry proven through it is refused too.
            through = verify(
                "--tiles",
                static,
                "--key",
                key,
                "--entry",
                "300",
                "--state",
                str(tmp_path / "fresh2.json"),
                cwd=tmp_path,
            )
            assert through.returncode == 1, through.stdout
            # An altered entry in a bundle does not hash to its leaf.
            bundle = tmp_path / "log" / "tile/entries/000"
            bundle.write_bytes(bundle.read_bytes().replace(b'"n":5,', b'"n":6,', 1))
            changed = verify(
                "--tiles",
                static,
                "--key",
                key,
                "--entry",
                "8",
                "--state",
                str(tmp_path / "fresh3.json"),
                cwd=tmp_path,
            )
            assert changed.returncode == 1 and "does not hash to its leaf" in changed.stderr
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def test_tiles_need_a_pinned_key(tmp_path: Path) -> None:
    result = verify(
        "--tiles", "http://127.0.0.1:9", "--state", str(tmp_path / "s.json"), cwd=tmp_path
    )
    assert result.returncode == 2 and "--key" in result.stderr


# --- an S3-compatible bucket -----------------------------------------------------------


def test_tiles_in_an_s3_compatible_bucket(db_session, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from moto import server as moto_server

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")  # moto accepts any credentials
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        storage = publish.S3Storage("log", "charity/tiles", endpoint)
        storage.client.create_bucket(Bucket="log")
        # The operator makes the tiles public (or puts a CDN in front): a bucket policy.
        public_read = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::log/charity/tiles/*",
                }
            ],
        }
        storage.client.put_bucket_policy(Bucket="log", Policy=json.dumps(public_read))
        store.append_entries(db_session, synthetic(300))
        size, root = store.current_head(db_session)
        signer = checkpoint.load_signer(config.TESTING_AUDITLOG_KEY, "charity.test/log")
        note = signer.sign(checkpoint.checkpoint_body("charity.test/log", size, root))
        assert publish.publish_tiles(db_session, storage, size, note) == 6  # 2+2 l0, 1 l1, cp
        head = storage.client.head_object(Bucket="log", Key="charity/tiles/tile/0/000")
        assert head["CacheControl"] == tiles.IMMUTABLE
        assert head["ContentType"] == tiles.TILE_TYPE
        head = storage.client.head_object(Bucket="log", Key="charity/tiles/checkpoint")
        assert head["CacheControl"] == tiles.CHECKPOINT_CACHE
        assert publish.published_size(storage) == 300
        # Anyone reads the bucket over plain HTTP (as a CDN would) and verifies it.
        result = verify(
            "--tiles",
            f"{endpoint}/log/charity/tiles",
            "--key",
            signer.verifier_key(),
            "--all",
            "--state",
            str(tmp_path / "s3.json"),
            cwd=tmp_path,
        )
        assert result.returncode == 0, result.stdout + result.stderr
    finally:
        server.stop()
