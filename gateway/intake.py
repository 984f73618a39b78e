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
from lianxin.store.events import append_event, append_events
from lianxin.store.records import (
    INSERT_BINDING,
    INSERT_CASE,
    INSERT_SUBMISSION,
    insert_submission,
    submission_row,
)


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


def spend(db: sqlite_utils.Database, challenges: list[Challenge]) -> None:
    """Record the challenges' nonces as used; refuse a nonce used before."""
    try:
        db.conn.executemany(
            "INSERT INTO spent_challenges (nonce, expires) VALUES (?, ?)",
            [(challenge.nonce, challenge.expires) for challenge in challenges],
        )
    except sqlite3.IntegrityError as exc:
        raise ProofOfWorkError(
            "pow.challenge: already used; ask for a new challenge", slug="pow-replayed", status=409
        ) from exc


def prune_spent(db: sqlite_utils.Database, now: int) -> None:
    """Forget nonces whose challenges have expired (they can no longer be replayed)."""
    db.execute("DELETE FROM spent_challenges WHERE expires < ?", [now])


def received_data(envelope: Envelope) -> dict[str, str]:
    """The ``received`` event's data for an envelope taken online."""
    return {"channel": "online", "receipt_id": envelope.receipt_id.hex()}


@dataclass(frozen=True)
class NewReport:
    """A checked report envelope, its proof of work and its new token's public values."""

    envelope: Envelope
    challenge: Challenge
    token: TokenRow


def store_report(
    db: sqlite_utils.Database,
    envelope: Envelope,
    challenge: Challenge,
    token: TokenRow,
    *,
    today: str,
) -> Stored:
    """Store a report envelope and bind a new token to its case (new or existing)."""
    return store_reports(db, [NewReport(envelope, challenge, token)], today=today)[0]


def store_reports(
    db: sqlite_utils.Database, reports: list[NewReport], *, today: str
) -> list[Stored]:
    """Store report envelopes and bind each one's new token to its case, in order, with one
    statement per table for all of them (the intake worker's batch).

    An envelope stored before (or earlier in ``reports``) is a retry after a lost answer: the
    same case, a new token. A spent nonce refuses the whole call (``ProofOfWorkError``); the
    worker then stores the batch one report at a time, so that only that report is refused.
    """
    spend(db, [report.challenge for report in reports])
    ids = [report.envelope.receipt_id for report in reports]
    marks = ", ".join("?" * len(ids))
    known: dict[bytes, tuple[int, str]] = {
        bytes(receipt_id): (case_id, received)
        for receipt_id, case_id, received in db.execute(
            f"SELECT receipt_id, case_id, received_date FROM submissions"  # noqa: S608
            f" WHERE receipt_id IN ({marks})",
            ids,
        )
    }
    # The new cases' ids, given here rather than by SQLite (the same: the largest plus one;
    # BEGIN IMMEDIATE holds the write lock) so that every table takes one statement.
    next_id = db.execute("SELECT coalesce(max(id), 0) + 1 FROM cases").fetchone()[0]
    stored: list[Stored] = []
    new: list[tuple[int, Envelope]] = []
    for report in reports:
        receipt_id = report.envelope.receipt_id
        if receipt_id in known:
            case_id, received = known[receipt_id]
            stored.append(Stored(case_id, received, True))
        else:
            known[receipt_id] = (next_id, today)
            new.append((next_id, report.envelope))
            stored.append(Stored(next_id, today, False))
            next_id += 1
    if new:
        db.conn.executemany(INSERT_CASE, [(case_id, "online", today) for case_id, _ in new])
        db.conn.executemany(
            INSERT_SUBMISSION,
            [submission_row(envelope, case_id, today) for case_id, envelope in new],
        )
        append_events(
            db,
            [(case_id, "received", received_data(envelope)) for case_id, envelope in new],
            actor="gateway",
            at=today,
        )
    db.conn.executemany(
        INSERT_BINDING,
        [
            (r.token.lookup_id, s.case_id, r.token.reply_pk, r.token.followup_vk, today)
            for r, s in zip(reports, stored, strict=True)
        ],
    )
    return stored


def store_followup(
    db: sqlite_utils.Database,
    envelope: Envelope,
    challenge: Challenge,
    case_id: int,
    *,
    today: str,
) -> Stored:
    """Store a verified follow-up for its case; an identical one is stored once."""
    spend(db, [challenge])
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
