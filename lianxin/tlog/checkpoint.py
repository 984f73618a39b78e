"""C2SP tlog-checkpoint: the signed note ``origin\\nsize\\nbase64(root)\\n``."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

from .note import NoteError, Opened, Verifier, b64decode, open_note, parse_note

_SIZE = re.compile(r"0|[1-9][0-9]{0,18}")


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: origin, size and root hash."""

    origin: str
    size: int
    root: bytes

    def text(self) -> str:
        """The note text."""
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"

    @classmethod
    def from_text(cls, text: str) -> Checkpoint:
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "" or any(not line for line in lines[:-1]):
            raise NoteError("a checkpoint has origin, size and root hash lines")
        origin, size, root = lines[:3]
        if not _SIZE.fullmatch(size):
            raise NoteError(f"checkpoint size {size[:24]!r} is not a decimal number")
        raw = b64decode(root, "checkpoint root hash")
        if len(raw) != 32:
            raise NoteError("the checkpoint root hash is not 32 bytes")
        return cls(origin, int(size), raw)


@dataclass(frozen=True)
class SignedCheckpoint:
    """A checkpoint verified against a log key (and perhaps witnesses)."""

    checkpoint: Checkpoint
    opened: Opened
    raw: str

    def witnesses(self) -> list[str]:
        return [v.name for v in self.opened.verified if v.name in self.opened.times]


def open_checkpoint(
    data: bytes | str, log: Verifier, witnesses: list[Verifier] | None = None, *, quorum: int = 0
) -> SignedCheckpoint:
    """Verify a checkpoint: signed by the log key, named for its origin, cosigned by ``quorum``
    of ``witnesses``."""
    raw = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    opened = open_note(raw, [log, *(witnesses or [])])
    if log not in opened.verified:
        raise NoteError(f"the checkpoint is not signed by the log key {log.name}")
    checkpoint = Checkpoint.from_text(opened.note.text)
    if checkpoint.origin != log.name:
        raise NoteError(f"the checkpoint's origin {checkpoint.origin!r} is not {log.name!r}")
    signed = SignedCheckpoint(checkpoint, opened, raw)
    if len(signed.witnesses()) < quorum:
        raise NoteError(
            f"the checkpoint has {len(signed.witnesses())} of the {quorum} witness"
            " cosignatures required"
        )
    return signed


def peek_checkpoint(data: bytes | str) -> Checkpoint:
    """The checkpoint's fields, without verifying (for messages only)."""
    return Checkpoint.from_text(parse_note(data).text)
