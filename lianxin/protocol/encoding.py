"""Byte-level building blocks shared by every part of the protocol.

- ``b64e`` / ``b64d``: URL-safe base64 without padding (libsodium.js ``to_base64`` default).
- ``lp``: length-prefixed encoding, ``u32be(len(x)) || x`` per item, used for every signature
  and hash preimage so that no two different field lists encode to the same bytes.
- ``blake2b``: BLAKE2b (libsodium ``crypto_generichash``), optionally keyed.
- ``loads_strict``: JSON as the gateway reads it (no repeated member, no NaN or Infinity).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import struct
from collections.abc import Iterable
from typing import Any

from .errors import MalformedError

_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")
# Bits of the last character that carry no data (by length mod 4); canonical means they are 0.
_SPARE_BITS = {0: 0, 2: 0x0F, 3: 0x03}


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
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise MalformedError(f"{field}: not valid base64url (no padding)", slug="bad-base64")
    tail = len(text) % 4
    if tail and _ALPHABET.index(text[-1]) & _SPARE_BITS[tail]:
        # Non-canonical encodings (stray bits in the last character) would let two strings
        # name the same bytes; refuse them so that envelopes have one spelling.
        raise MalformedError(f"{field}: non-canonical base64url", slug="bad-base64")
    try:
        padded = text.encode("ascii").translate(_FROM_URLSAFE) + b"=" * (-len(text) % 4)
        data = binascii.a2b_base64(padded, strict_mode=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedError(f"{field}: not valid base64url", slug="bad-base64") from exc
    if size is not None and len(data) != size:
        raise MalformedError(f"{field}: expected {size} bytes, got {len(data)}", slug="bad-length")
    return data


def lp(*items: bytes) -> bytes:
    """Length-prefix each item (u32 big-endian length, then the bytes) and concatenate."""
    return b"".join(struct.pack(">I", len(item)) + item for item in items)


def lp_all(items: Iterable[bytes]) -> bytes:
    """``lp`` over an iterable."""
    return lp(*items)


def blake2b(data: bytes, *, size: int = 32, key: bytes = b"") -> bytes:
    """BLAKE2b with the given digest size and optional key (= libsodium crypto_generichash)."""
    return hashlib.blake2b(data, digest_size=size, key=key).digest()


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    doc = dict(pairs)
    if len(doc) != len(pairs):
        seen: set[str] = set()
        duplicate = next(key for key, _ in pairs if key in seen or seen.add(key))  # type: ignore[func-returns-value]
        raise ValueError(f"duplicate member {ascii(duplicate)[:40]}")
    return doc


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_STRICT = json.JSONDecoder(
    object_pairs_hook=_refuse_duplicate_keys, parse_constant=_refuse_constant
)


def loads_strict(text: str) -> Any:
    """Parse JSON, refusing a repeated member and NaN/Infinity (``ValueError`` says which)."""
    return _STRICT.decode(text)
