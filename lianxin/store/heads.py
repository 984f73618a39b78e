"""Signed chain heads: at each publish the publisher key signs the register's last event
(sequence number and hash) and the head is recorded in ``chain_heads`` and written to the
site. Whoever later holds a published head can tell whether the register was rewritten, even
by someone who recomputed every hash:

    message = lp("lianxin/v1/chain-head", seq, hash)
"""

from __future__ import annotations

import base64
from typing import Any

import sqlite_utils
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from ..protocol.encoding import lp
from ..secrets import SigningSecret
from .events import chain_head

HEAD_DOMAIN = b"lianxin/v1/chain-head"
SCHEMA = "lianxin/chain-head/v1"


def head_message(seq: int, digest: bytes) -> bytes:
    """What the publisher signs."""
    return lp(HEAD_DOMAIN, str(seq).encode(), digest)


def sign_head(db: sqlite_utils.Database, signer: SigningSecret, day: str) -> dict[str, Any]:
    """Sign and record the current chain head; returns its published form."""
    seq, digest, _ = chain_head(db)
    sig = signer.sign(head_message(seq, digest))
    db.execute(
        "INSERT OR REPLACE INTO chain_heads (seq, hash, signed_at, key_id, sig)"
        " VALUES (?, ?, ?, ?, ?)",
        [seq, digest, day, signer.key_id, sig],
    )
    return head_doc(seq, digest, day, signer.key_id, sig)


def head_doc(seq: int, digest: bytes, day: str, key_id: str, sig: bytes) -> dict[str, Any]:
    """One head as published."""
    return {
        "schema": SCHEMA,
        "seq": seq,
        "hash": digest.hex(),
        "date": day,
        "key_id": key_id,
        "sig": base64.b64encode(sig).decode(),
    }


def recorded_heads(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Every head recorded at a publish, oldest first."""
    return [
        head_doc(seq, bytes(h), day, key_id, bytes(sig))
        for seq, h, day, key_id, sig in db.execute(
            "SELECT seq, hash, signed_at, key_id, sig FROM chain_heads ORDER BY seq"
        )
    ]


def check_head(doc: dict[str, Any], publisher: VerifyKey) -> tuple[int, bytes]:
    """The (seq, hash) of a published head whose signature verifies; ValueError otherwise."""
    try:
        seq, digest = int(doc["seq"]), bytes.fromhex(str(doc["hash"]))
        sig = base64.b64decode(str(doc["sig"]), validate=True)
        publisher.verify(head_message(seq, digest), sig)
    except (KeyError, ValueError, TypeError, BadSignatureError) as exc:
        raise ValueError(f"not a chain head signed by the publisher key ({exc})") from exc
    return seq, digest
