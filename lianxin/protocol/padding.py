"""Padding of plaintext before sealing, so that ciphertext lengths leak little.

Reports and follow-ups use Padmé buckets (``pad``); the short items that travel in the status
shards (status rows, answers) use block padding to a multiple of 128 bytes (``pad_block``).

    padded = u32be(len(plaintext)) || plaintext || zero bytes up to bucket(len(plaintext) + 4)

``bucket`` is Padmé (Nikitin et al., PETS 2019) with a floor of ``MIN_BUCKET``: a length L is
rounded up so that only its top ~log2(log2(L)) bits remain, which leaks O(log log L) bits and
costs at most about 12% overhead.
"""

from __future__ import annotations

import struct

from .errors import PayloadError

MIN_BUCKET = 4096


def bucket(length: int) -> int:
    """The padded size for ``length`` bytes (header included)."""
    if length <= MIN_BUCKET:
        return MIN_BUCKET
    exponent = length.bit_length() - 1  # floor(log2(L))
    size_bits = exponent.bit_length()  # floor(log2(E)) + 1
    last_bits = exponent - size_bits
    mask = (1 << last_bits) - 1
    return (length + mask) & ~mask


def pad(plaintext: bytes) -> bytes:
    """Prefix the length and pad with zeros to the bucket size."""
    header = struct.pack(">I", len(plaintext))
    size = bucket(len(plaintext) + 4)
    return header + plaintext + bytes(size - len(plaintext) - 4)


def unpad(padded: bytes) -> bytes:
    """Undo ``pad``; raise ``PayloadError`` if the framing or the padding is wrong."""
    if len(padded) < 4:
        raise PayloadError("padded payload shorter than its length header")
    (length,) = struct.unpack(">I", padded[:4])
    if length > len(padded) - 4:
        raise PayloadError("padded payload shorter than its declared length")
    if len(padded) != bucket(length + 4):
        raise PayloadError("padded payload is not of its bucket size")
    if any(padded[4 + length :]):
        raise PayloadError("padding bytes are not zero")
    return padded[4 : 4 + length]


STATUS_BLOCK = 128


def pad_block(data: bytes, block: int = STATUS_BLOCK) -> bytes:
    """Compact padding for short items (status rows, answers):
    ``u32be(len) || data || zeros`` up to the next multiple of ``block``."""
    body = struct.pack(">I", len(data)) + data
    return body + bytes(-len(body) % block)


def unpad_block(padded: bytes, block: int = STATUS_BLOCK) -> bytes:
    """Undo ``pad_block``."""
    if len(padded) < 4 or len(padded) % block:
        raise PayloadError("block-padded data is not a whole number of blocks")
    (length,) = struct.unpack(">I", padded[:4])
    if length > len(padded) - 4 or len(padded) - 4 - length >= block:
        raise PayloadError("block-padded data has a wrong length header")
    if any(padded[4 + length :]):
        raise PayloadError("padding bytes are not zero")
    return padded[4 : 4 + length]
