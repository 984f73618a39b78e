"""What the gateway writes: the transactions that store reports and follow-ups.

Each function runs inside the intake worker's transaction (``worker.py``). They check
everything that needs the database (spent proof-of-work nonces, duplicate envelopes, known
lookup ids) and either write all their rows or raise before writing any.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import sqlite_utils

from lianxin.protocol import Envelope, ProofOfWorkError, ProtocolError
from lianxin.protocol.pow import Challenge
from lianxin.store.events import append_event
from lianxin.store.records import bind_token, insert_submission


@dataclass(frozen=True)
class TokenRow:
    """The public values derived from a newly issued token."""

    lookup_id: bytes
    reply_pk: bytes
    followup_vk: bytes


@dataclass(frozen=True)
class Stored:
    """The outcome of storing an envelope."""

    case_id: int
    received_date: str
    duplicate: bool


def spend(db: sqlite_utils.Database, challenge: Challenge, now: int) -> None:
    """Record the challenge's nonce as used; refuse a nonce used before."""
    try:
        db.execute(
            "INSERT INTO spent_challenges (nonce, expires) VALUES (?, ?)",
            [challenge.nonce, challenge.expires],
        )
    except sqlite3.IntegrityError as exc:
        raise ProofOfWorkError(
            "pow.challenge: already used; ask for a new challenge", slug="pow-replayed", status=409
        ) from exc


def prune_spent(db: sqlite_utils.Database, now: int) -> None:
    """Forget nonces whose challenges have expired (they can no longer be replayed)."""
    db.execute("DELETE FROM spent_challenges WHERE expires < ?", [now])


def store_report(
    db: sqlite_utils.Database,
    envelope: Envelope,
    challenge: Challenge,
    token: TokenRow,
    *,
    today: str,
    now: int,
) -> Stored:
    """Store a report envelope and bind a new token to its case (new or existing)."""
    spend(db, challenge, now)
    existing = db.execute(
        "SELECT case_id, received_date FROM submissions WHERE receipt_id = ?",
        [envelope.receipt_id],
    ).fetchone()
    if existing:
        # The same envelope again (a retry after a lost answer): same case, new token.
        case_id, received, duplicate = existing[0], existing[1], True
    else:
        cursor = db.execute(
            "INSERT INTO cases (channel, received_date, state) VALUES ('online', ?, 'received')",
            [today],
        )
        case_id, received, duplicate = int(cursor.lastrowid or 0), today, False
        insert_submission(db, envelope, case_id, today)
        append_event(
            db,
            case_id,
            "received",
            actor="gateway",
            at=today,
            data={"channel": "online", "receipt_id": envelope.receipt_id.hex()},
        )
    bind_token(db, case_id, token.lookup_id, token.reply_pk, token.followup_vk, today)
    return Stored(case_id, received, duplicate)


def store_followup(
    db: sqlite_utils.Database,
    envelope: Envelope,
    challenge: Challenge,
    case_id: int,
    *,
    today: str,
    now: int,
) -> Stored:
    """Store a verified follow-up for its case; an identical one is stored once."""
    spend(db, challenge, now)
    existing = db.execute(
        "SELECT case_id, received_date, kind FROM submissions WHERE receipt_id = ?",
        [envelope.receipt_id],
    ).fetchone()
    if existing:
        if existing[2] != "followup" or existing[0] != case_id:
            raise ProtocolError("envelope already stored for another purpose", slug="bad-request")
        return Stored(case_id, existing[1], True)
    insert_submission(db, envelope, case_id, today)
    append_event(
        db,
        case_id,
        "followup-received",
        actor="gateway",
        at=today,
        data={"receipt_id": envelope.receipt_id.hex()},
    )
    return Stored(case_id, today, False)
