"""Verifying the event log's chain and signatures in shares, on several cores, and
incrementally since the last signed chain head.

Each share ``(lo, hi]`` recomputes its part of the chain from the stored hash of event ``lo``
and checks its signatures (the officer registry replayed from the office events before it);
together the shares check what one pass would. The incremental pass checks the events after
the last chain head the publisher signed: the head itself vouches for everything before it,
and ``verify --against`` checks the head.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from lianxin.store.db import connect

from .context import Desk, store_kind
from .roles import desk_action
from .verify import MAX_PROBLEMS, Problem, Report, absorb_signed, case_span, check_cases
from .verify_signed import SignedReport, verify_signatures

Found = tuple[str, int | None, int | None, str]


@dataclass
class EventCheck:
    """Problems found and what was counted."""

    events: int = 0
    signed: int = 0
    problems: list[Found] = field(default_factory=list)


def _share(path: Path, lo: int, hi: int | None) -> SignedReport:
    db = connect(path, readonly=True)
    try:
        return verify_signatures(db, store_kind(db), since=lo, until=hi, chain=True)
    finally:
        db.conn.close()


def check_share(path: Path, lo: int, hi: int | None) -> EventCheck:
    """Chain and signatures of events ``lo < seq <= hi`` (to the end when ``hi`` is None),
    in one pass over the rows."""
    signed = _share(path, lo, hi)
    out = EventCheck(signed.signed + signed.unsigned + signed.legacy, signed.signed)
    out.problems += [("chain", c, s, m) for s, c, m in signed.chain]
    out.problems += [("signature", c, s, m) for s, c, m in signed.problems]
    return out


def _cases(path: Path, lo: int, hi: int) -> tuple[int, list[Problem]]:
    db = connect(path, readonly=True)
    try:
        return check_cases(db, lo, hi)
    finally:
        db.conn.close()


def _bounds(last: int, parts: int) -> list[tuple[int, int]]:
    edges = [last * i // parts for i in range(parts + 1)]
    return [(edges[i], edges[i + 1]) for i in range(parts)]


def check_parallel(path: Path, workers: int = 2) -> EventCheck:
    """Chain and signatures of the whole log in ``workers`` shares, one process each."""
    db = connect(path, readonly=True)
    last = int(db.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0])
    db.conn.close()
    shares = [(lo, hi if hi < last else None) for lo, hi in _bounds(last, workers)]
    total = EventCheck()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(check_share, path, lo, hi) for lo, hi in shares]
        for future in futures:
            part = future.result()
            total.events += part.events
            total.signed += part.signed
            total.problems += part.problems
    return total


def verify_full(path: Path, workers: int = 2) -> Report:
    """Everything :func:`desk.verify.verify_register` checks, on ``workers`` processes: the
    event log in shares of sequence numbers (each share's chain starts from the stored hash
    of the event before it, so together they check every link), and the cases in ranges of
    ids. The shares' boundaries are the events at ``lo``: share ``k`` checks that event
    ``lo + 1`` follows it, and share ``k - 1`` checks that event ``lo`` itself is intact."""
    db = connect(path, readonly=True)
    try:
        kind = store_kind(db)
        last = int(db.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0])
        span = case_span(db)
    finally:
        db.conn.close()
    shares = [(lo, hi if hi < last else None) for lo, hi in _bounds(last, workers)]
    report = Report(kind=kind)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        events = [pool.submit(_share, path, lo, hi) for lo, hi in shares]
        cases = [pool.submit(_cases, path, lo, hi) for lo, hi in _bounds(span, workers)]
        for future in events:
            absorb_signed(report, future.result())
        for done in cases:
            counted, problems = done.result()
            report.cases += counted
            report.problems += problems
    del report.problems[MAX_PROBLEMS:]
    return report


PARALLEL_FROM = 4_000  # events since the head: below this one process is quicker than two


def check_since_head(path: Path, workers: int = 2) -> EventCheck:
    """The events after the last signed chain head (all of them when there is none), in
    ``workers`` shares when there are enough of them (a day's events at 1,000,000 cases are
    about 22,000 signatures: over a second of Ed25519 on one core)."""
    db = connect(path, readonly=True)
    head = int(db.execute("SELECT coalesce(max(seq), 0) FROM chain_heads").fetchone()[0])
    last = int(db.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0])
    db.conn.close()
    if workers < 2 or last - head < PARALLEL_FROM:
        return check_share(path, head, None)
    edges = [head + (last - head) * i // workers for i in range(workers + 1)]
    shares = [(edges[i], edges[i + 1] if i + 1 < workers else None) for i in range(workers)]
    total = EventCheck()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for part in pool.map(check_share, [path] * workers, *zip(*shares, strict=True)):
            total.events += part.events
            total.signed += part.signed
            total.problems += part.problems
    return total


@desk_action("verify")
def verify_desk(desk: Desk) -> Report:
    """``desk verify`` for the acting officer (auditors and administrators): every check, on
    both cores; the CLI and the web desk's auditor page both call it."""
    return verify_full(desk.path, workers=min(2, os.cpu_count() or 1))
