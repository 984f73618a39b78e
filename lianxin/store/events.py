"""The hash-chained event log.

Version 2 events (everything written since accounts, migration 0006_accounts) hash::

    hash(n) = BLAKE2b-256(lp("lianxin/v2/event", hash(n-1), seq, case_id, at, time, actor,
                             type, data))

where ``case_id`` is empty for office events (the officer registry), ``at`` is the office-local
date and ``time`` the UTC wall-clock time to the second (empty for gateway events, which keep
no finer time than the day on purpose). ``sig`` is the acting officer's Ed25519 signature of
the hash; the desk checks it (core code knows nothing of officers). Version 1 events (stores
made before accounts) hash ``lp("lianxin/v1/event", prev, seq, case_id, at, actor, type,
data)`` and are kept as unsigned legacy events. hash(0) = 32 zero bytes. Editing, reordering
or deleting an event breaks the chain at that position; ``verify_chain`` reports the first
broken position and its case.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from ..protocol.encoding import blake2b, lp

EVENT_DOMAIN = b"lianxin/v1/event"
EVENT_DOMAIN_V2 = b"lianxin/v2/event"
GENESIS = bytes(32)

Signer = Callable[[bytes], bytes]


def event_hash(
    prev: bytes, seq: int, case_id: int, at: str, actor: str, kind: str, data: str
) -> bytes:
    """The chained hash of one version 1 (legacy) event."""
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


def event_hash_v2(
    prev: bytes,
    seq: int,
    case_id: int | None,
    at: str,
    time: str | None,
    actor: str,
    kind: str,
    data: str,
) -> bytes:
    """The chained hash of one version 2 event (what its officer signs)."""
    return blake2b(
        lp(
            EVENT_DOMAIN_V2,
            prev,
            str(seq).encode(),
            b"" if case_id is None else str(case_id).encode(),
            at.encode(),
            (time or "").encode(),
            actor.encode(),
            kind.encode(),
            data.encode(),
        )
    )


def row_hash(
    v: int,
    prev: bytes,
    seq: int,
    case_id: int | None,
    at: str,
    time: str | None,
    actor: str,
    kind: str,
    data: str,
) -> bytes:
    """The hash of a stored row of either version."""
    if v == 1:
        return event_hash(prev, seq, case_id or 0, at, actor, kind, data)
    return event_hash_v2(prev, seq, case_id, at, time, actor, kind, data)


def canonical(data: dict[str, Any] | None) -> str:
    """The JSON text an event stores (sorted keys, no spaces)."""
    return json.dumps(data or {}, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def last_event(db: sqlite_utils.Database) -> tuple[int, bytes]:
    """The last event's sequence number and hash ((0, genesis) for an empty log): one primary
    key lookup, whatever the size of the log."""
    row = db.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
    return (0, GENESIS) if row is None else (int(row[0]), bytes(row[1]))


def chain_head(db: sqlite_utils.Database) -> tuple[int, bytes, str | None]:
    """The last event's sequence number and hash, and the latest wall-clock time recorded
    ((0, genesis, None) for an empty log; gateway events carry no time).

    The time is one step in the partial index of timed events (migration 0013_timed_events),
    however many untimed gateway events came after it; ``append_event``, which the gateway
    calls for every report, needs no time and uses ``last_event`` instead."""
    seq, digest = last_event(db)
    if seq == 0:
        return 0, GENESIS, None
    last = db.execute(
        "SELECT time FROM events WHERE time IS NOT NULL ORDER BY seq DESC LIMIT 1"
    ).fetchone()
    return seq, digest, last[0] if last else None


def append_event(
    db: sqlite_utils.Database,
    case_id: int | None,
    kind: str,
    *,
    actor: str,
    at: str,
    data: dict[str, Any] | None = None,
    time: str | None = None,
    signer: Signer | None = None,
) -> int:
    """Append one event inside the caller's transaction; returns its sequence number.

    ``signer`` signs the event hash (the desk passes the acting officer's key); the gateway
    writes unsigned ``received`` events with no time.
    """
    return append_events(db, [(case_id, kind, data)], actor=actor, at=at, time=time, signer=signer)


def append_events(
    db: sqlite_utils.Database,
    events: list[tuple[int | None, str, dict[str, Any] | None]],
    *,
    actor: str,
    at: str,
    time: str | None = None,
    signer: Signer | None = None,
) -> int:
    """Append ``(case_id, kind, data)`` events in order, in one statement (the gateway writes a
    batch of reports' events at once); returns the last one's sequence number."""
    seq, prev_hash = last_event(db)
    rows = []
    for case_id, kind, data in events:
        seq += 1
        body = canonical(data)
        digest = event_hash_v2(prev_hash, seq, case_id, at, time, actor, kind, body)
        sig = signer(digest) if signer else None
        rows.append((seq, case_id, at, time, actor, kind, body, prev_hash, digest, sig))
        prev_hash = digest
    db.conn.executemany(
        "INSERT INTO events (seq, case_id, at, time, actor, type, data, prev_hash, hash, v, sig)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 2, ?)",
        rows,
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


EVENT_COLUMNS = "seq, case_id, at, time, actor, type, data, prev_hash, hash, v, sig"


def verify_chain(
    db: sqlite_utils.Database, *, since: int = 0, until: int | None = None
) -> list[ChainProblem]:
    """Recompute the chain (from the event after ``since`` up to ``until``); return the
    problems found."""
    problems: list[ChainProblem] = []
    prev = GENESIS
    if since:
        row = db.execute("SELECT hash FROM events WHERE seq = ?", [since]).fetchone()
        if row is None:
            return [ChainProblem(since, None, "missing (a signed chain head names it)")]
        prev = bytes(row[0])
    expected_seq = since + 1
    cursor = db.execute(
        f"SELECT {EVENT_COLUMNS} FROM events WHERE seq > ? AND seq <= ? ORDER BY seq",  # noqa: S608
        [since, until if until is not None else 2**62],
    )
    for seq, case_id, at, time, actor, kind, data, prev_hash, digest, v, _sig in cursor:
        if seq != expected_seq:
            problems.append(
                ChainProblem(expected_seq, None, f"missing (the next event present is {seq})")
            )
            return problems
        if prev_hash != prev:
            problems.append(ChainProblem(seq, case_id, "does not follow the previous event"))
            return problems
        if row_hash(v, prev, seq, case_id, at, time, actor, kind, data) != digest:
            problems.append(ChainProblem(seq, case_id, "content was changed after it was written"))
            return problems
        prev = bytes(digest)
        expected_seq += 1
    if until is not None:
        return problems
    head = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchone()
    if head and head[0] >= expected_seq:
        problems.append(
            ChainProblem(expected_seq, None, f"events {expected_seq}..{head[0]} were deleted")
        )
    return problems
