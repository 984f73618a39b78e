"""C2SP signed notes (signed-note v1.0.0) with Ed25519 keys, and Ed25519 cosignatures
(tlog-cosignature v1).

    note      = text (ending in "\n") || "\n" || signature lines
    signature = "— " || key name || " " || base64(u32be key id || signature) || "\n"
    key id    = SHA-256(key name || 0x0A || type || public key)[:4]
    vkey      = key name "+" hex(key id) "+" base64(type || public key)

Type 0x01 signs the text itself; type 0x04 (a witness cosignature) signs
``"cosignature/v1\ntime <t>\n" || text`` and its signature is ``u64be(t) || Ed25519 sig``.
Signatures by unknown keys are ignored; a known key whose signature fails rejects the note;
a note with no verified signature is rejected.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from dataclasses import dataclass

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from . import LogError

ED25519 = 0x01
COSIGNATURE = 0x04
DASH = "\u2014 "
MAX_SIGNATURES = 100
_NAME = re.compile(r"[^\s+]+")


class NoteError(LogError):
    """A note is malformed or not signed by a trusted key."""


def key_id(name: str, kind: int, public_key: bytes) -> int:
    """The 32-bit key id of a key."""
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([kind]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def b64decode(text: str, what: str) -> bytes:
    """Strict standard base64."""
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise NoteError(f"{what}: not base64") from exc


@dataclass(frozen=True)
class Verifier:
    """A trusted public key: log (type 0x01) or witness (type 0x04)."""

    name: str
    kind: int
    public_key: bytes

    @property
    def key_id(self) -> int:
        return key_id(self.name, self.kind, self.public_key)

    @property
    def vkey(self) -> str:
        material = base64.b64encode(bytes([self.kind]) + self.public_key).decode()
        return f"{self.name}+{self.key_id:08x}+{material}"

    @classmethod
    def parse(cls, vkey: str) -> Verifier:
        """Read a vkey string."""
        parts = vkey.strip().split("+", 2)
        if (
            len(parts) != 3
            or not _NAME.fullmatch(parts[0])
            or not re.fullmatch(r"[0-9a-f]{8}", parts[1])
        ):
            raise NoteError(f"{vkey!r}: not a verifier key (name+hex id+base64 key)")
        raw = b64decode(parts[2], "verifier key")
        if len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE):
            raise NoteError(f"{vkey!r}: not an Ed25519 log or cosignature key")
        verifier = cls(parts[0], raw[0], raw[1:])
        if f"{verifier.key_id:08x}" != parts[1]:
            raise NoteError(f"{vkey!r}: the key id does not match the key")
        return verifier

    def check(self, text: str, sig: bytes) -> int | None:
        """Verify ``sig`` over the note text; the cosignature's time, or None for a log key."""
        message, timestamp = text.encode(), None
        if self.kind == COSIGNATURE:
            if len(sig) != 72:
                raise NoteError(f"cosignature by {self.name}: wrong length")
            (timestamp,) = struct.unpack(">Q", sig[:8])
            message = cosigned_message(text, timestamp)
            sig = sig[8:]
        try:
            VerifyKey(self.public_key).verify(message, sig)
        except (BadSignatureError, ValueError) as exc:
            raise NoteError(f"the signature by {self.name} does not verify") from exc
        return timestamp


def cosigned_message(text: str, timestamp: int) -> bytes:
    """What an Ed25519 witness signs (tlog-cosignature v1)."""
    return f"cosignature/v1\ntime {timestamp}\n".encode() + text.encode()


@dataclass(frozen=True)
class Signature:
    """One signature line."""

    name: str
    key_id: int
    sig: bytes

    def line(self) -> str:
        blob = base64.b64encode(self.key_id.to_bytes(4, "big") + self.sig).decode()
        return f"{DASH}{self.name} {blob}\n"


@dataclass(frozen=True)
class Note:
    """A parsed (not yet verified) signed note."""

    text: str
    signatures: tuple[Signature, ...]

    def render(self) -> str:
        return self.text + "\n" + "".join(s.line() for s in self.signatures)

    def with_signature(self, signature: Signature) -> Note:
        """The note with one more signature line (replacing one by the same key)."""
        kept = [
            s for s in self.signatures if (s.name, s.key_id) != (signature.name, signature.key_id)
        ]
        return Note(self.text, (*kept, signature))


def parse_note(data: bytes | str) -> Note:
    """Split a note into text and signature lines (checks the form, not the signatures)."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NoteError("the note is not UTF-8") from exc
    if any(ord(c) < 0x20 and c != "\n" for c in data):
        raise NoteError("the note contains control characters")
    split = data.rfind("\n\n")
    if split < 0 or not data.endswith("\n"):
        raise NoteError("the note has no signature block")
    text, block = data[: split + 1], data[split + 2 :]
    signatures = []
    for line in block.splitlines():
        if not line.startswith(DASH):
            raise NoteError(f"not a signature line: {line[:40]!r}")
        name, _, blob = line[len(DASH) :].partition(" ")
        if not _NAME.fullmatch(name) or " " in blob:
            raise NoteError(f"malformed signature line: {line[:40]!r}")
        raw = b64decode(blob, f"signature by {name}")
        if len(raw) < 5:
            raise NoteError(f"signature by {name}: too short")
        signatures.append(Signature(name, int.from_bytes(raw[:4], "big"), raw[4:]))
    if not signatures or len(signatures) > MAX_SIGNATURES:
        raise NoteError("the note has no signatures (or too many)")
    return Note(text, tuple(signatures))


@dataclass(frozen=True)
class Opened:
    """A note whose signatures were checked: which known keys signed it."""

    note: Note
    verified: tuple[Verifier, ...]
    times: dict[str, int]  # witness name -> cosignature time


def open_note(data: bytes | str, verifiers: list[Verifier]) -> Opened:
    """Verify a note against trusted keys; unknown signatures are ignored."""
    note = parse_note(data)
    known = {(v.name, v.key_id): v for v in verifiers}
    verified: list[Verifier] = []
    times: dict[str, int] = {}
    for signature in note.signatures:
        verifier = known.get((signature.name, signature.key_id))
        if verifier is None:
            continue
        timestamp = verifier.check(note.text, signature.sig)
        if verifier not in verified:
            verified.append(verifier)
        if timestamp is not None:
            times[verifier.name] = timestamp
    if not verified:
        raise NoteError("the note is not signed by any trusted key")
    return Opened(note, tuple(verified), times)


def sign(text: str, name: str, key: SigningKey) -> Signature:
    """An Ed25519 (type 0x01) signature over the note text."""
    if not text.endswith("\n") or not _NAME.fullmatch(name):
        raise NoteError("a note text ends with a newline; a key name has no spaces or '+'")
    sig = bytes(key.sign(text.encode()).signature)
    return Signature(name, key_id(name, ED25519, bytes(key.verify_key)), sig)


def cosign(text: str, name: str, key: SigningKey, timestamp: int) -> Signature:
    """An Ed25519 witness cosignature (type 0x04) over a checkpoint's text."""
    sig = bytes(key.sign(cosigned_message(text, timestamp)).signature)
    blob = struct.pack(">Q", timestamp) + sig
    return Signature(name, key_id(name, COSIGNATURE, bytes(key.verify_key)), blob)
