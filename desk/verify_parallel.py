"""Verifying the event log's chain and signatures in shares, on several cores, and
incrementally since the last signed chain head.

Each share ``(lo, hi]`` recomputes its part of the chain from the stored hash of event ``lo``
and checks its signatures (the officer registry replayed from the office events before it);
together the shares check what one pass would. The incremental pass checks the events after
the last chain head the publisher signed: the head itself vouches for everything before it,
and ``verify --against`` checks the head.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from lianxin.store.db import connect
from lianxin.store.events import verify_chain

from .context import store_kind
from .verify_signed import verify_signatures

Found = tuple[str, int | None, int | None, str]


@dataclass
class EventCheck:
    """Problems found and what was counted."""

    events: int = 0
    signed: int = 0
    problems: list[Found] = field(default_factory=list)


def check_share(path: Path, lo: int, hi: int | None) -> EventCheck:
    """Chain and signatures of events ``lo < seq <= hi`` (to the end when ``hi`` is None)."""
    db = connect(path, readonly=True)
    try:
        kind = store_kind(db)
        out = EventCheck()
        for p in verify_chain(db, since=lo, until=hi):
            out.problems.append(("chain", p.case_id, p.position, p.reason))
        signed = verify_signatures(db, kind, since=lo, until=hi)
        out.signed = signed.signed
        out.problems += [("signature", c, s, m) for s, c, m in signed.problems]
        top = hi if hi is not None else 2**62
        row = db.execute(
            "SELECT count(*) FROM events WHERE seq > ? AND seq <= ?", [lo, top]
        ).fetchone()
        out.events = int(row[0])
        return out
    finally:
        db.conn.close()


def check_parallel(path: Path, workers: int = 2) -> EventCheck:
    """The whole log in ``workers`` shares, one process each."""
    db = connect(path, readonly=True)
    last = int(db.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0])
    db.conn.close()
    bounds = [last * i // workers for i in range(workers + 1)]
    shares = [(bounds[i], bounds[i + 1] if i + 1 < workers else None) for i in range(workers)]
    total = EventCheck()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(check_share, path, lo, hi) for lo, hi in shares]
        for future in futures:
            part = future.result()
            total.events += part.events
            total.signed += part.signed
            total.problems += part.problems
    return total


def check_since_head(path: Path) -> EventCheck:
    """The events after the last signed chain head (all of them when there is none)."""
    db = connect(path, readonly=True)
    row = db.execute("SELECT coalesce(max(seq), 0) FROM chain_heads").fetchone()
    db.conn.close()
    return check_share(path, int(row[0]), None)
