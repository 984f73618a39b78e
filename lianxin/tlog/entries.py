"""What the office's log holds: commitments only.

    receipt entry   = 0x01 || SHA-256("lianxin/v1/log/receipt\\n" || receipt id)
    register entry  = 0x02 || SHA-256("lianxin/v1/log/register\\n" || u64be(seq) || chain hash)

A receipt id is the SHA-256-based id of a sealed envelope (it is in the reporter's signed receipt
and in the office's register); the entry reveals neither content, author, state nor time.
Each publication's batch is padded with dummy receipt entries (random commitments) to a multiple
of ``PAD`` and shuffled, so the log's size and order say little about when reports arrived.
"""

from __future__ import annotations

import hashlib
import secrets
import struct

RECEIPT = 0x01
REGISTER = 0x02
ENTRY_SIZE = 33
PAD = 8


def receipt_entry(receipt_id: bytes) -> bytes:
    """The entry committing to one receipt (a report, follow-up or desk intake)."""
    return bytes([RECEIPT]) + hashlib.sha256(b"lianxin/v1/log/receipt\n" + receipt_id).digest()


def register_entry(seq: int, chain_hash: bytes) -> bytes:
    """The entry committing to the register's event chain head at event ``seq``."""
    digest = hashlib.sha256(
        b"lianxin/v1/log/register\n" + struct.pack(">Q", seq) + chain_hash
    ).digest()
    return bytes([REGISTER]) + digest


def dummy_entry() -> bytes:
    """Padding: indistinguishable from a receipt entry."""
    return bytes([RECEIPT]) + secrets.token_bytes(32)
