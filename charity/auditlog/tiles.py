"""C2SP tlog-tiles: the log as static files (https://c2sp.org/tlog-tiles). Standard library.

Layout under a URL prefix (or a directory):

* ``checkpoint`` — the signed checkpoint, with witness cosignatures (mutable, short cache)
* ``tile/<L>/<N>[.p/<W>]`` — Merkle tree tiles: at level L, tile N holds up to 256
  consecutive hashes of tree level 8·L (hash i = MTH of leaves [i·256^L, (i+1)·256^L)),
  32 bytes each; a full tile has 256, a partial one (the right edge of a tree) W < 256.
* ``tile/entries/<N>[.p/<W>]`` — entry bundles: the entries of level-0 tile N, each as a
  big-endian uint16 length and the payload bytes (our canonical JSON, UTF-8).

``<N>`` is written in 3-digit groups, all but the last prefixed with ``x``
(1234067 → ``x001/x234/067``). Every file but ``checkpoint`` is immutable: a full tile
never changes, and a partial tile of width W is the same bytes for as long as it exists.

:class:`TiledTree` answers any RFC 9162 subtree hash of a tree of a given size from
these files, so proofs can be computed by anyone from a static server or CDN. Used by
the writer (charity.auditlog.publish) and the standalone verifier.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
HASH_SIZE = 32
MAX_ENTRY = 0xFFFF
CHECKPOINT = "checkpoint"

#: Content types and cache lifetimes the tlog-tiles spec asks for.
TILE_TYPE = "application/octet-stream"
CHECKPOINT_TYPE = "text/plain; charset=utf-8"
IMMUTABLE = "public, max-age=31536000, immutable"
CHECKPOINT_CACHE = "public, max-age=5"


class TileError(ValueError):
    """A tile or bundle that is malformed or does not match what it must contain."""


def index_path(index: int) -> str:
    """1234067 → ``x001/x234/067``; 5 → ``005``."""
    if index < 0:
        raise ValueError("a tile index is not negative")
    groups = []
    while True:
        groups.append(f"{index % 1000:03d}")
        index //= 1000
        if index == 0:
            break
    groups.reverse()
    return "/".join([*(f"x{group}" for group in groups[:-1]), groups[-1]])


def _suffix(width: int) -> str:
    if not 1 <= width <= TILE_WIDTH:
        raise ValueError(f"a tile width is 1 to {TILE_WIDTH}, not {width}")
    return "" if width == TILE_WIDTH else f".p/{width}"


def tile_path(level: int, index: int, width: int) -> str:
    if not 0 <= level <= 63:
        raise ValueError("a tile level is 0 to 63")
    return f"tile/{level}/{index_path(index)}{_suffix(width)}"


def bundle_path(index: int, width: int) -> str:
    return f"tile/entries/{index_path(index)}{_suffix(width)}"


def hashes_at(level: int, size: int) -> int:
    """How many complete hashes tile level ``level`` has in a tree of ``size`` leaves."""
    return size >> (TILE_HEIGHT * level)


def tile_width(level: int, index: int, size: int) -> int:
    """The width of tile (level, index) in a tree of ``size``: 256, less (partial), or 0."""
    return max(0, min(TILE_WIDTH, hashes_at(level, size) - index * TILE_WIDTH))


@dataclass(frozen=True)
class Tile:
    level: int
    index: int
    width: int

    @property
    def path(self) -> str:
        return tile_path(self.level, self.index, self.width)

    @property
    def first(self) -> int:
        """Index of its first hash within its tree level (8·level)."""
        return self.index * TILE_WIDTH


def tiles_between(old_size: int, new_size: int) -> Iterator[Tile]:
    """Every tile of the tree of ``new_size`` that the tree of ``old_size`` did not have
    (new full tiles, and the new partial tiles of the right edge), lowest level first."""
    level = 0
    while hashes_at(level, new_size) > 0:
        old_count, new_count = hashes_at(level, old_size), hashes_at(level, new_size)
        for index in range(old_count // TILE_WIDTH, (new_count - 1) // TILE_WIDTH + 1):
            width = tile_width(level, index, new_size)
            if width and width != tile_width(level, index, old_size):
                yield Tile(level, index, width)
        level += 1


# --- entry bundles ---------------------------------------------------------------------


def encode_bundle(entries: list[bytes]) -> bytes:
    parts = []
    for entry in entries:
        if len(entry) > MAX_ENTRY:
            raise TileError(f"an entry of {len(entry)} bytes does not fit a bundle (max 65535)")
        parts.append(len(entry).to_bytes(2, "big") + entry)
    return b"".join(parts)


def decode_bundle(data: bytes) -> list[bytes]:
    entries, position = [], 0
    while position < len(data):
        if position + 2 > len(data):
            raise TileError("an entry bundle ends inside a length prefix")
        length = int.from_bytes(data[position : position + 2], "big")
        position += 2
        if position + length > len(data):
            raise TileError("an entry bundle ends inside an entry")
        entries.append(data[position : position + length])
        position += length
    return entries


# --- reading a tree from its tiles -----------------------------------------------------


def _leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def _node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def perfect_root(hashes: list[bytes]) -> bytes:
    """The root over a power-of-two number of hashes (a perfect subtree)."""
    level = list(hashes)
    while len(level) > 1:
        level = [_node_hash(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


Fetch = Callable[[str], bytes]


class TiledTree:
    """The tree of ``size`` leaves, read lazily from tiles through ``fetch(path)``.

    Every tile is checked to be exactly ``width × 32`` bytes. A tile that lies is caught
    by whatever it is combined into: the checkpoint's root, or a proof against it.
    """

    def __init__(self, fetch: Fetch, size: int) -> None:
        self.fetch = fetch
        self.size = size
        self._tiles: dict[tuple[int, int], list[bytes]] = {}

    def tile(self, level: int, index: int) -> list[bytes]:
        key = (level, index)
        if key not in self._tiles:
            width = tile_width(level, index, self.size)
            if width == 0:
                raise TileError(f"tile {level}/{index} is not part of a tree of {self.size}")
            data = self.fetch(tile_path(level, index, width))
            if len(data) != width * HASH_SIZE:
                raise TileError(
                    f"{tile_path(level, index, width)} has {len(data)} bytes, not {width * 32}"
                )
            self._tiles[key] = [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]
        return self._tiles[key]

    def node(self, height: int, index: int) -> bytes:
        """The perfect subtree at tree level ``height``, position ``index``."""
        level, below = divmod(height, TILE_HEIGHT)
        first, count = index << below, 1 << below
        hashes = self.tile(level, first // TILE_WIDTH)
        offset = first % TILE_WIDTH
        if offset + count > len(hashes):
            raise TileError(f"subtree ({height}, {index}) is not complete in this tree")
        return perfect_root(hashes[offset : offset + count])

    def subtree_hash(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for a node range of the tree (what merkle's proofs ask)."""
        from_pieces = []
        position, remaining = start, end - start
        for height in range(remaining.bit_length() - 1, -1, -1):
            if remaining & (1 << height):
                from_pieces.append(self.node(height, position >> height))
                position += 1 << height
        if not from_pieces:
            return hashlib.sha256(b"").digest()
        result = from_pieces[-1]
        for left in reversed(from_pieces[:-1]):
            result = _node_hash(left, result)
        return result

    def root(self) -> bytes:
        return self.subtree_hash(0, self.size)

    def bundle(self, index: int) -> list[bytes]:
        """The entries of level-0 tile ``index``, each checked against that tile."""
        width = tile_width(0, index, self.size)
        if width == 0:
            raise TileError(f"entry bundle {index} is not part of a tree of {self.size}")
        entries = decode_bundle(self.fetch(bundle_path(index, width)))
        if len(entries) != width:
            raise TileError(f"entry bundle {index} has {len(entries)} entries, not {width}")
        leaves = self.tile(0, index)
        for offset, entry in enumerate(entries):
            if _leaf_hash(entry) != leaves[offset]:
                position = index * TILE_WIDTH + offset
                raise TileError(f"entry {position} does not hash to its leaf in tile 0/{index}")
        return entries

    def check_all(self) -> int:
        """Every tile and bundle of the tree, bottom-up: each entry hashes to its leaf,
        each full tile hashes to its parent's hash, and the whole to :meth:`root` (the
        caller compares that with the checkpoint). Returns the number of entries."""
        count = 0
        for index in range((self.size + TILE_WIDTH - 1) // TILE_WIDTH):
            count += len(self.bundle(index))
        level = 1
        while hashes_at(level, self.size) > 0:
            for index in range((hashes_at(level, self.size) + TILE_WIDTH - 1) // TILE_WIDTH):
                for offset, parent in enumerate(self.tile(level, index)):
                    child = self.tile(level - 1, index * TILE_WIDTH + offset)
                    if len(child) != TILE_WIDTH or perfect_root(child) != parent:
                        raise TileError(
                            f"tile {level}/{index} hash {offset} is not the root of tile "
                            f"{level - 1}/{index * TILE_WIDTH + offset}"
                        )
            level += 1
        return count
