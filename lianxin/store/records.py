"""The rows every channel writes the same way: new cases, stored envelopes and token bindings.

The gateway (online) and the desk (letters, visits, phone) both call these, so a case looks the
same in the store whichever way it came in.
"""

from __future__ import annotations

import sqlite_utils

from ..protocol import Envelope, TokenKeys

# A case as it comes in, before anyone has registered it; ``id`` None lets SQLite number it.
INSERT_CASE = "INSERT INTO cases (id, channel, received_date, state) VALUES (?, ?, ?, 'received')"
INSERT_SUBMISSION = (
    "INSERT INTO submissions (receipt_id, kind, case_id, key_id, author, ciphertext, sig,"
    " received_date, opened_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_BINDING = (
    "INSERT INTO tokens (lookup_id, case_id, reply_pk, followup_vk, issued_date)"
    " VALUES (?, ?, ?, ?, ?)"
)


def new_case(db: sqlite_utils.Database, channel: str, received: str) -> int:
    """Add a case received on ``received`` through ``channel``; return its id."""
    return int(db.execute(INSERT_CASE, [None, channel, received]).lastrowid or 0)


def submission_row(
    envelope: Envelope, case_id: int, received: str, opened_at: str | None = None
) -> tuple[object, ...]:
    """The ``submissions`` row of a sealed envelope, in ``INSERT_SUBMISSION``'s order."""
    return (
        envelope.receipt_id,
        envelope.kind,
        case_id,
        envelope.key_id,
        envelope.author,
        envelope.ciphertext,
        envelope.sig,
        received,
        opened_at,
    )


def insert_submission(
    db: sqlite_utils.Database,
    envelope: Envelope,
    case_id: int,
    received: str,
    *,
    opened_at: str | None = None,
) -> None:
    """Store a sealed envelope (report or follow-up) for ``case_id``."""
    db.execute(INSERT_SUBMISSION, submission_row(envelope, case_id, received, opened_at))


def bind_token(
    db: sqlite_utils.Database,
    case_id: int,
    lookup_id: bytes,
    reply_pk: bytes,
    followup_vk: bytes,
    issued: str,
) -> None:
    """Bind a token's public values to ``case_id`` (the token itself is never stored)."""
    db.execute(INSERT_BINDING, [lookup_id, case_id, reply_pk, followup_vk, issued])


def bind_token_keys(db: sqlite_utils.Database, case_id: int, keys: TokenKeys, issued: str) -> None:
    """``bind_token`` from derived token keys."""
    bind_token(
        db, case_id, keys.lookup_id, bytes(keys.reply_public), bytes(keys.followup_verify), issued
    )
