"""C2SP tlog-proof: an offline proof that an entry is in a log.

c2sp.org/tlog-proof@v1
[extra <base64>]
index <n>
<base64 proof hash>        (zero or more, from the leaf's sibling up)
<blank line>
<checkpoint note, verbatim, with any cosignatures>
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

from . import LogError
from .checkpoint import SignedCheckpoint, open_checkpoint
from .merkle import leaf_hash, verify_inclusion
from .note import Verifier, b64decode

HEADER = "c2sp.org/tlog-proof@v1"
_INDEX = re.compile(r"index (0|[1-9][0-9]{0,18})")


@dataclass(frozen=True)
class TlogProof:
    """A parsed proof."""

    index: int
    hashes: tuple[bytes, ...]
    checkpoint: str
    extra: bytes | None = None

    def render(self) -> str:
        lines = [HEADER]
        if self.extra is not None:
            lines.append("extra " + base64.b64encode(self.extra).decode())
        lines.append(f"index {self.index}")
        lines += [base64.b64encode(h).decode() for h in self.hashes]
        return "\n".join(lines) + "\n\n" + self.checkpoint

    @classmethod
    def parse(cls, text: str) -> TlogProof:
        head, sep, checkpoint = text.partition("\n\n")
        lines = head.split("\n")
        if not sep or lines[0] != HEADER:
            raise LogError(f"not a tlog-proof (the first line must be {HEADER})")
        extra = None
        rest = lines[1:]
        if rest and rest[0].startswith("extra "):
            extra = b64decode(rest[0][6:], "extra")
            rest = rest[1:]
        match = _INDEX.fullmatch(rest[0]) if rest else None
        if match is None:
            raise LogError("the proof has no 'index <n>' line")
        hashes = tuple(b64decode(line, "proof hash") for line in rest[1:])
        if any(len(h) != 32 for h in hashes):
            raise LogError("a proof hash is not 32 bytes")
        return cls(int(match.group(1)), hashes, checkpoint, extra)


def verify_proof(
    text: str, entry: bytes, log: Verifier, witnesses: list[Verifier] | None = None, quorum: int = 0
) -> SignedCheckpoint:
    """Check a proof for ``entry``: the checkpoint's signatures, then the inclusion."""
    proof = TlogProof.parse(text)
    signed = open_checkpoint(proof.checkpoint, log, witnesses, quorum=quorum)
    verify_inclusion(
        leaf_hash(entry), proof.index, signed.checkpoint.size, proof.hashes, signed.checkpoint.root
    )
    return signed
