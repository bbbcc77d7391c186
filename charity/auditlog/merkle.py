"""RFC 9162 §2.1 Merkle tree hashing, proofs and their verification.

Pure functions over bytes, standard library only, so the standalone verifier (and any
third party) can use this module as it is.

- leaf hash  = SHA-256(0x00 ‖ entry)
- node hash  = SHA-256(0x01 ‖ left ‖ right)
- empty tree = SHA-256("")

Proof *generation* is written against a ``subtree_hash(start, end)`` callable that
returns MTH(D[start:end]) for a range that is a node of the tree (``start`` a multiple
of the largest power of two not above ``end - start``). The database store answers
those from stored perfect subtrees (:func:`perfect_subtrees` says which), so a proof
costs O(log n) indexed reads; :func:`reference_subtree_hash` answers them from a list
of leaf hashes and is the from-scratch reference used by the tests.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

SubtreeHash = Callable[[int, int], bytes]


class VerificationError(ValueError):
    """A proof does not verify (or is malformed)."""


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def largest_power_of_two_below(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (n ≥ 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def perfect_subtrees(start: int, end: int) -> list[tuple[int, int]]:
    """The perfect subtrees (level, index) whose hashes make up MTH(D[start:end]).

    ``[start, end)`` must be a node of the tree (as every range in an RFC 9162 proof
    is): its pieces are the binary digits of ``end - start``, largest first. A perfect
    subtree at (level, index) covers leaves [index·2^level, (index+1)·2^level).
    """
    pieces = []
    position, remaining = start, end - start
    for level in range(remaining.bit_length() - 1, -1, -1):
        if remaining & (1 << level):
            if position % (1 << level):
                raise ValueError(f"[{start}, {end}) is not a node of the tree")
            pieces.append((level, position >> level))
            position += 1 << level
    return pieces


def fold_right(hashes: Sequence[bytes]) -> bytes:
    """Combine perfect subtree hashes (largest first) into the hash of their range."""
    if not hashes:
        return EMPTY_ROOT
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def reference_subtree_hash(leaves: Sequence[bytes]) -> SubtreeHash:
    """MTH(D[start:end]) straight from RFC 9162 §2.1.1 (recursive, no storage)."""

    def mth(start: int, end: int) -> bytes:
        n = end - start
        if n == 0:
            return EMPTY_ROOT
        if n == 1:
            return leaves[start]
        k = largest_power_of_two_below(n)
        return node_hash(mth(start, start + k), mth(start + k, end))

    return mth


def root_hash(leaves: Sequence[bytes]) -> bytes:
    return reference_subtree_hash(leaves)(0, len(leaves))


def inclusion_path(index: int, size: int, subtree_hash: SubtreeHash) -> list[bytes]:
    """RFC 9162 §2.1.3.1 PATH(index, D[0:size])."""
    if not 0 <= index < size:
        raise ValueError(f"index {index} is outside a tree of size {size}")
    path: list[bytes] = []
    start, end, m = 0, size, index
    while end - start > 1:
        k = largest_power_of_two_below(end - start)
        if m < k:
            path.append(subtree_hash(start + k, end))
            end = start + k
        else:
            path.append(subtree_hash(start, start + k))
            start, m = start + k, m - k
    path.reverse()
    return path


def consistency_path(first: int, second: int, subtree_hash: SubtreeHash) -> list[bytes]:
    """RFC 9162 §2.1.4.1 PROOF(first, D[0:second]); empty when first == second."""
    if not 0 < first <= second:
        raise ValueError(f"no consistency proof from size {first} to size {second}")
    path: list[bytes] = []
    start, end, m, complete = 0, second, first, True
    while m != end - start:
        k = largest_power_of_two_below(end - start)
        if m <= k:
            path.append(subtree_hash(start + k, end))
            end = start + k
        else:
            path.append(subtree_hash(start, start + k))
            start, m, complete = start + k, m - k, False
    if not complete:
        path.append(subtree_hash(start, end))
    path.reverse()
    return path


def proof_ranges(path_builder: Callable[[SubtreeHash], list[bytes]]) -> list[tuple[int, int]]:
    """The ranges a proof needs, found by running the builder with a recording stub."""
    ranges: list[tuple[int, int]] = []

    def record(start: int, end: int) -> bytes:
        ranges.append((start, end))
        return EMPTY_ROOT

    path_builder(record)
    return ranges


def _check_hashes(hashes: Iterable[bytes]) -> None:
    for value in hashes:
        if len(value) != HASH_SIZE:
            raise VerificationError("a hash in the proof is not 32 bytes long")


def root_from_inclusion_proof(index: int, size: int, leaf: bytes, path: Sequence[bytes]) -> bytes:
    """RFC 9162 §2.1.3.2: the root that ``path`` proves ``leaf`` to be under."""
    if not 0 <= index < size:
        raise VerificationError(f"index {index} is outside a tree of size {size}")
    _check_hashes([leaf, *path])
    fn, sn, result = index, size - 1, leaf
    for sibling in path:
        if sn == 0:
            raise VerificationError("the inclusion proof is too long")
        if fn & 1 or fn == sn:
            result = node_hash(sibling, result)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            result = node_hash(result, sibling)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise VerificationError("the inclusion proof is too short")
    return result


def verify_inclusion(
    index: int, size: int, leaf: bytes, path: Sequence[bytes], root: bytes
) -> None:
    """Raise :class:`VerificationError` unless ``leaf`` is at ``index`` under ``root``."""
    if root_from_inclusion_proof(index, size, leaf, path) != root:
        raise VerificationError("the inclusion proof does not lead to the root")


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, path: Sequence[bytes]
) -> None:
    """RFC 9162 §2.1.4.2: raise unless the tree of size ``second`` extends ``first``."""
    if first > second or first < 0:
        raise VerificationError(f"size {first} cannot grow into size {second}")
    if first == 0:
        raise VerificationError("a consistency proof from the empty tree proves nothing")
    if first == second:
        if path:
            raise VerificationError("equal sizes need an empty proof")
        if first_root != second_root:
            raise VerificationError("equal sizes but different roots")
        return
    if not path:
        raise VerificationError("the consistency proof is empty")
    _check_hashes(path)
    nodes = list(path)
    if first & (first - 1) == 0:  # a power of two: the old root is a node of the new tree
        nodes.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = nodes[0]
    for node in nodes[1:]:
        if sn == 0:
            raise VerificationError("the consistency proof is too long")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(node, fr), node_hash(node, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, node)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise VerificationError("the consistency proof is too short")
    if fr != first_root:
        raise VerificationError("the consistency proof does not lead to the old root")
    if sr != second_root:
        raise VerificationError("the consistency proof does not lead to the new root")
