"""Every case of the transparency-dev/merkle test vectors (../shared/vectors/merkle/)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from charity.auditlog import merkle

VECTORS = Path(__file__).resolve().parents[3].parent / "shared" / "vectors" / "merkle"
if not VECTORS.is_dir():  # worktrees live in /work/wt/<name>; the shared folder in /work/shared
    VECTORS = Path("/work/shared/vectors/merkle")


def _cases(kind: str) -> list[Path]:
    return sorted((VECTORS / kind).rglob("*.json"))


def _b64(value: str | None) -> bytes:
    return base64.b64decode(value) if value else b""


def _load(path: Path) -> dict:
    return json.loads(path.read_text())


def test_vectors_are_present() -> None:
    assert len(_cases("inclusion")) > 50
    assert len(_cases("consistency")) > 50


@pytest.mark.parametrize("path", _cases("inclusion"), ids=lambda p: str(p.relative_to(VECTORS)))
def test_inclusion_vector(path: Path) -> None:
    case = _load(path)
    proof = [_b64(p) for p in case["proof"] or []]

    def verify() -> None:
        merkle.verify_inclusion(
            case["leafIdx"], case["treeSize"], _b64(case["leafHash"]), proof, _b64(case["root"])
        )

    if case["wantErr"]:
        with pytest.raises(merkle.VerificationError):
            verify()
    else:
        verify()


@pytest.mark.parametrize("path", _cases("consistency"), ids=lambda p: str(p.relative_to(VECTORS)))
def test_consistency_vector(path: Path) -> None:
    case = _load(path)
    proof = [_b64(p) for p in case["proof"] or []]

    def verify() -> None:
        merkle.verify_consistency(
            case["size1"], case["size2"], _b64(case["root1"]), _b64(case["root2"]), proof
        )

    if case["wantErr"]:
        with pytest.raises(merkle.VerificationError):
            verify()
    else:
        verify()
