"""Byte-level building blocks shared by every part of the protocol.

- ``b64e`` / ``b64d``: URL-safe base64 without padding (libsodium.js ``to_base64`` default).
- ``lp``: length-prefixed encoding, ``u32be(len(x)) || x`` per item, used for every signature
  and hash preimage so that no two different field lists encode to the same bytes.
- ``blake2b``: BLAKE2b (libsodium ``crypto_generichash``), optionally keyed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from collections.abc import Iterable

from .errors import MalformedError

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")
# Bits of the last character that carry no data (by length mod 4); canonical means they are 0.
_SPARE_BITS = {0: 0, 2: 0x0F, 3: 0x03}
_U32 = struct.Struct(">I")


def b64e(data: bytes) -> str:
    """Encode bytes as URL-safe base64 without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64d(
    text: object, field: str, *, size: int | None = None, max_size: int | None = None
) -> bytes:
    """Decode strict URL-safe base64 without padding; raise ``MalformedError`` naming ``field``."""
    if not isinstance(text, str):
        raise MalformedError(f"{field}: expected a base64url string", slug="bad-field")
    if max_size is not None and len(text) > (max_size * 4 + 2) // 3:
        raise MalformedError(f"{field}: longer than {max_size} bytes", slug="bad-length")
    # a2b_base64 in strict mode refuses every character outside the standard alphabet; the
    # standard alphabet's own "+", "/" and "=" are refused here (three scans in C, several
    # times faster than a regular expression over a report's ciphertext).
    if "+" in text or "/" in text or "=" in text or len(text) % 4 == 1:
        raise MalformedError(f"{field}: not valid base64url (no padding)", slug="bad-base64")
    tail = len(text) % 4
    last = _ALPHABET.find(text[-1]) if tail else 0  # -1: not base64url, refused below
    if last > 0 and last & _SPARE_BITS[tail]:
        # Non-canonical encodings (stray bits in the last character) would let two strings
        # name the same bytes; refuse them so that envelopes have one spelling.
        raise MalformedError(f"{field}: non-canonical base64url", slug="bad-base64")
    try:
        padded = text.encode("ascii").translate(_FROM_URLSAFE) + b"=" * (-len(text) % 4)
        data = binascii.a2b_base64(padded, strict_mode=True)
    except (binascii.Error, ValueError) as exc:  # UnicodeEncodeError is a ValueError
        raise MalformedError(
            f"{field}: not valid base64url (no padding)", slug="bad-base64"
        ) from exc
    if size is not None and len(data) != size:
        raise MalformedError(f"{field}: expected {size} bytes, got {len(data)}", slug="bad-length")
    return data


def lp(*items: bytes) -> bytes:
    """Length-prefix each item (u32 big-endian length, then the bytes) and concatenate."""
    parts: list[bytes] = []
    for item in items:
        parts += (_U32.pack(len(item)), item)  # one copy of each item, in the final join
    return b"".join(parts)


def lp_all(items: Iterable[bytes]) -> bytes:
    """``lp`` over an iterable."""
    return lp(*items)


def blake2b(data: bytes, *, size: int = 32, key: bytes = b"") -> bytes:
    """BLAKE2b with the given digest size and optional key (= libsodium crypto_generichash)."""
    return hashlib.blake2b(data, digest_size=size, key=key).digest()
