"""The standalone verifier against a live server on 127.0.0.1 (a free port)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from charity import ROOT
from charity.core.events import record_event
from tests.auditlog.tamper import rewrite_payload
from tests.support.factories import OrganizationFactory


@pytest.fixture
def live_url(app, committed_db) -> Iterator[str]:  # type: ignore[no-untyped-def]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def _events(session, n: int) -> None:  # type: ignore[no-untyped-def]
    for _ in range(n):
        organization = OrganizationFactory()
        record_event(session, "organization.verified", subject_id=organization.id)
    session.commit()


def _verify(url: str, state: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "charity.auditlog.verifier", url, "--state", str(state), *extra],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )


def test_fresh_then_consistent_then_rewritten(live_url, committed_db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    state = tmp_path / "state.json"
    _events(committed_db, 3)
    first = _verify(live_url, state, "--entry", "1")
    assert first.returncode == 0, first.stderr
    assert "trusting the server's key on first use" in first.stdout
    assert "entry 1 is included" in first.stdout
    assert "size 3" in first.stdout

    _events(committed_db, 4)
    second = _verify(live_url, state, "--entry", "6")
    assert second.returncode == 0, second.stderr
    assert "consistent with the saved checkpoint of size 3" in second.stdout
    assert "first use" not in second.stdout

    # The operator rewrites entry 1 and makes every hash consistent, then logs more.
    rewrite_payload(committed_db, 1, '{"at":"2026-01-01T00:00:00.000000Z","type":"x.y"}')
    committed_db.execute(__import__("sqlalchemy").text("DELETE FROM auditlog_checkpoints"))
    committed_db.commit()
    _events(committed_db, 1)
    third = _verify(live_url, state)
    assert third.returncode == 1
    assert "FAILED" in third.stderr and "history was rewritten" in third.stderr


def test_same_size_different_root_fails(live_url, committed_db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    state = tmp_path / "state.json"
    _events(committed_db, 2)
    assert _verify(live_url, state).returncode == 0
    rewrite_payload(committed_db, 0, '{"type":"x.y"}')
    committed_db.execute(__import__("sqlalchemy").text("DELETE FROM auditlog_checkpoints"))
    committed_db.commit()
    result = _verify(live_url, state)
    assert result.returncode == 1
    assert "two different roots for tree size 2" in result.stderr


def test_pinned_key_mismatch_fails(live_url, committed_db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from charity.auditlog.checkpoint import load_signer, new_signer_key

    _events(committed_db, 1)
    other = load_signer(new_signer_key("charity.test/log"), "unused").verifier_key()
    result = _verify(live_url, tmp_path / "state.json", "--key", other)
    assert result.returncode == 1
    assert "checkpoint rejected" in result.stderr


def test_entry_outside_the_tree_fails(live_url, committed_db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _events(committed_db, 1)
    result = _verify(live_url, tmp_path / "state.json", "--entry", "5")
    assert result.returncode == 1
    assert "not in the tree of size 1" in result.stderr


def test_unreachable_server_is_an_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = _verify("http://127.0.0.1:9", tmp_path / "state.json")
    assert result.returncode == 2
    assert "ERROR" in result.stderr


def test_runs_from_its_copied_files_without_our_package(tmp_path) -> None:  # type: ignore[no-untyped-def]
    for name in (
        "verifier.py",
        "merkle.py",
        "canonical.py",
        "tiles.py",
        "cosignature.py",
        "witness.py",
    ):
        shutil.copy(ROOT / "charity" / "auditlog" / name, tmp_path / name)
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]); import verifier, witness; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('charity', 'flask', 'sqlalchemy', 'werkzeug')); "
        "assert not bad, bad; print('standalone')"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "standalone" in result.stdout


def test_the_by_hand_recipe_in_the_docs_works(live_url, committed_db) -> None:  # type: ignore[no-untyped-def]
    import re

    _events(committed_db, 9)
    doc = (ROOT / "docs" / "audit-log.md").read_text("utf-8")
    snippet = re.search(r"## Verifying by hand\n\n```python\n(.*?)```", doc, re.S).group(1)
    namespace: dict = {}
    exec(snippet.replace("https://charity.example", live_url), namespace)  # noqa: S102
    assert namespace["size"] == 9
