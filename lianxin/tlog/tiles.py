"""C2SP tlog-tiles: paths, entry bundles, and a ``HashSource`` that reads tiles.

    tile/<L>/<N>[.p/<W>]        hashes of tree level 8*L, indices N*256 .. N*256+W-1
    tile/entries/<N>[.p/<W>]    entries N*256 .. N*256+W-1, each as u16be(length) || bytes

``N`` is written in groups of three digits, every group but the last prefixed with ``x``
(1234067 -> ``x001/x234/067``). A full tile has 256 hashes (8192 bytes); ``.p/W`` is a partial
tile of W < 256 hashes at the right edge of a tree.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator

from . import LogError
from .merkle import node_hash

HEIGHT = 8
WIDTH = 1 << HEIGHT
HASH = 32
Fetch = Callable[[str], bytes]


class TileError(LogError):
    """A tile or entry bundle is missing or malformed."""


def index_path(n: int) -> str:
    """``N`` as path elements."""
    digits = f"{n:03d}"
    digits = "0" * (-len(digits) % 3) + digits
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return "/".join([*("x" + g for g in groups[:-1]), groups[-1]])


def tile_path(level: int | str, n: int, width: int = WIDTH) -> str:
    """The path of tile ``n`` at tile level ``level`` (or ``"entries"``)."""
    path = f"tile/{level}/{index_path(n)}"
    return path if width == WIDTH else f"{path}.p/{width}"


def tile_width(level: int, n: int, size: int) -> int:
    """How many hashes tile ``(level, n)`` holds in a tree of ``size`` leaves (0: none)."""
    count = size >> (HEIGHT * level)
    return max(0, min(WIDTH, count - n * WIDTH))


def tiles_of(size: int) -> Iterator[tuple[int, int, int]]:
    """Every (level, n, width) tile of a tree of ``size`` leaves, level 0 first."""
    level = 0
    while True:
        count = size >> (HEIGHT * level)
        if count == 0:
            return
        for n in range((count + WIDTH - 1) // WIDTH):
            yield level, n, tile_width(level, n, size)
        level += 1


def encode_bundle(entries: list[bytes]) -> bytes:
    """An entry bundle."""
    out = bytearray()
    for entry in entries:
        if len(entry) > 0xFFFF:
            raise TileError("an entry is longer than 65535 bytes")
        out += struct.pack(">H", len(entry)) + entry
    return bytes(out)


def decode_bundle(data: bytes, count: int) -> list[bytes]:
    """The ``count`` entries of a bundle."""
    entries, pos = [], 0
    for _ in range(count):
        if pos + 2 > len(data):
            raise TileError("the entry bundle is truncated")
        (length,) = struct.unpack(">H", data[pos : pos + 2])
        if pos + 2 + length > len(data):
            raise TileError("the entry bundle is truncated")
        entries.append(data[pos + 2 : pos + 2 + length])
        pos += 2 + length
    if pos != len(data):
        raise TileError("the entry bundle has bytes after its last entry")
    return entries


class TileSource:
    """A ``HashSource`` over the tiles of a tree of ``size`` leaves, fetched once each."""

    def __init__(self, fetch: Fetch, size: int):
        self.fetch = fetch
        self.size = size
        self.tiles: dict[str, bytes] = {}

    def tile(self, level: int, n: int) -> bytes:
        width = tile_width(level, n, self.size)
        if width == 0:
            raise TileError(f"tile {level}/{n} is outside a tree of size {self.size}")
        path = tile_path(level, n, width)
        if path not in self.tiles:
            data = self.fetch(path)
            if len(data) != width * HASH:
                raise TileError(f"{path}: {len(data)} bytes, expected {width * HASH}")
            self.tiles[path] = data
        return self.tiles[path]

    def __call__(self, level: int, index: int) -> bytes:
        base, height = divmod(level, HEIGHT)
        first = index << height
        data = self.tile(base, first // WIDTH)
        offset = first % WIDTH
        hashes = [data[i * HASH : (i + 1) * HASH] for i in range(offset, offset + (1 << height))]
        if len(hashes[-1]) != HASH:
            raise TileError(f"tile {base}/{first // WIDTH} is too short")
        while len(hashes) > 1:
            hashes = [node_hash(hashes[i], hashes[i + 1]) for i in range(0, len(hashes), 2)]
        return hashes[0]

    @property
    def downloaded(self) -> int:
        return sum(len(t) for t in self.tiles.values())
