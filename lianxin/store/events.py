"""The hash-chained event log.

    hash(n) = BLAKE2b-256(lp("lianxin/v1/event", hash(n-1), seq, case_id, at, actor, type, data))

with hash(0) = 32 zero bytes. Editing, reordering or deleting an event breaks the chain at that
position; ``verify_chain`` reports the first broken position and its case.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from ..protocol.encoding import blake2b, lp

EVENT_DOMAIN = b"lianxin/v1/event"
GENESIS = bytes(32)


def event_hash(
    prev: bytes, seq: int, case_id: int, at: str, actor: str, kind: str, data: str
) -> bytes:
    """The chained hash of one event."""
    return blake2b(
        lp(
            EVENT_DOMAIN,
            prev,
            str(seq).encode(),
            str(case_id).encode(),
            at.encode(),
            actor.encode(),
            kind.encode(),
            data.encode(),
        )
    )


def append_event(
    db: sqlite_utils.Database,
    case_id: int,
    kind: str,
    *,
    actor: str,
    at: str,
    data: dict[str, Any] | None = None,
) -> int:
    """Append one event inside the caller's transaction; returns its sequence number."""
    row = db.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
    prev_seq, prev_hash = (row[0], row[1]) if row else (0, GENESIS)
    seq = prev_seq + 1
    body = json.dumps(data or {}, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    digest = event_hash(prev_hash, seq, case_id, at, actor, kind, body)
    db.execute(
        "INSERT INTO events (seq, case_id, at, actor, type, data, prev_hash, hash)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [seq, case_id, at, actor, kind, body, prev_hash, digest],
    )
    return seq


@dataclass(frozen=True)
class ChainProblem:
    """Where the chain breaks."""

    position: int
    case_id: int | None
    reason: str

    def __str__(self) -> str:
        case = f"case {self.case_id}" if self.case_id is not None else "unknown case"
        return f"event {self.position} ({case}): {self.reason}"


def verify_chain(db: sqlite_utils.Database) -> list[ChainProblem]:
    """Recompute the chain; return the problems found (empty when intact)."""
    problems: list[ChainProblem] = []
    prev = GENESIS
    expected_seq = 1
    cursor = db.execute(
        "SELECT seq, case_id, at, actor, type, data, prev_hash, hash FROM events ORDER BY seq"
    )
    for seq, case_id, at, actor, kind, data, prev_hash, digest in cursor:
        if seq != expected_seq:
            problems.append(
                ChainProblem(expected_seq, None, f"missing (the next event present is {seq})")
            )
            return problems
        if prev_hash != prev:
            problems.append(ChainProblem(seq, case_id, "does not follow the previous event"))
            return problems
        if event_hash(prev, seq, case_id, at, actor, kind, data) != digest:
            problems.append(ChainProblem(seq, case_id, "content was changed after it was written"))
            return problems
        prev = digest
        expected_seq += 1
    head = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchone()
    if head and head[0] >= expected_seq:
        problems.append(
            ChainProblem(expected_seq, None, f"events {expected_seq}..{head[0]} were deleted")
        )
    return problems
