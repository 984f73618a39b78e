"""Status shards: every token's case status, readable only with the token.

Layout under ``status/`` in the site::

    index.json          {"v": 1, "shards": N, "shard_bytes": S, "as_of": "YYYY-MM-DD"}
    <i>.bin             shard i, exactly S bytes, for i in 0..N-1

A token's shard is ``u32be(lookup_id[0:4]) mod N``. A shard is::

    "LXS1" || u32be(row count) || rows (sorted by lookup id) || zero bytes up to S
    row = lookup_id (16) || u16be(len) || sealed status
          || u8(n) || n x (u16be(len) || sealed answer)

The status is JSON sealed (``crypto_box_seal``, fresh every build) to the token's reply key
after block padding; answers are the desk's sealed answers, passed through unchanged. Every
shard holds at least ``MIN_ROWS`` rows — dummy rows with random ids that map to that shard and
random bytes of the sizes real rows have — and all shards have the same size.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import struct
from collections import defaultdict
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import sqlite_utils

from lianxin.protocol.sealing import seal_for_reply_key
from lianxin.status import MAGIC, parse_shard

MIN_ROWS = 64
MAX_SHARD_BYTES = 60 * 1024
STEPS = (
    ("received", "received_date"),
    ("registered", "registered_date"),
    ("accepted", "accepted_date"),
    ("concluded", "concluded_date"),
    ("answered", "answered_date"),
    ("second_answer", "second_answer_date"),
    ("closed", "closed_date"),
)
OPEN_STATES = ("received", "accepted", "in_progress", "forwarded")


@dataclass
class Row:
    """One token's row before sealing."""

    lookup_id: bytes
    reply_pk: bytes
    status: dict[str, Any]
    answers: list[bytes] = field(default_factory=list)


def shard_of(lookup_id: bytes, shards: int) -> int:
    """The shard a lookup id lives in."""
    return int.from_bytes(lookup_id[:4], "big") % shards


def _colour(state: str, due: str | None, today: str, yellow_until: str) -> str | None:
    if state in ("concluded", "answered", "reviewing", "closed"):
        return "blue"
    if state not in OPEN_STATES or not due:
        return None
    if due < today:
        return "red"
    return "yellow" if due <= yellow_until else "green"


def collect_rows(db: sqlite_utils.Database, today: date, yellow_until: date) -> list[Row]:
    """Read every token with its case's coarse status and its sealed answers."""
    answers: dict[bytes, list[bytes]] = defaultdict(list)
    for lookup_id, sealed in db.execute("SELECT lookup_id, sealed FROM answers ORDER BY id"):
        answers[lookup_id].append(sealed)
    cursor = db.execute(
        "SELECT t.lookup_id, t.reply_pk, c.state, c.due_date, c.due_uncertain, c.review_due,"
        " c.received_date, c.registered_date, c.accepted_date, c.concluded_date,"
        " c.answered_date, c.second_answer_date, c.closed_date"
        " FROM tokens t JOIN cases c ON c.id = t.case_id"
    )  # the date columns in the order of STEPS
    rows = []
    day, until = today.isoformat(), yellow_until.isoformat()
    for lookup_id, reply_pk, state, due, uncertain, review_due, *dates in cursor:
        steps = [{"step": name, "date": d} for (name, _), d in zip(STEPS, dates, strict=True) if d]
        due_shown = review_due if state == "reviewing" else due
        status = {
            "v": 1,
            "state": state,
            "steps": steps,
            "due": due_shown if state not in ("not_accepted", "closed") else None,
            "due_uncertain": bool(uncertain),
            "colour": _colour(state, due_shown, day, until),
            "as_of": day,
        }
        rows.append(Row(lookup_id, reply_pk, status, answers.get(lookup_id, [])))
    return rows


def _seal_row(row: tuple[bytes, bytes, bytes, list[bytes]]) -> bytes:
    lookup_id, reply_pk, status, answers = row
    sealed = seal_for_reply_key(status, reply_pk)
    parts = [lookup_id, struct.pack(">H", len(sealed)), sealed, struct.pack(">B", len(answers))]
    for answer in answers:
        parts += [struct.pack(">H", len(answer)), answer]
    return b"".join(parts)


def _status_bytes(status: dict[str, Any]) -> bytes:
    return json.dumps(status, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def seal_rows(rows: list[Row], workers: int = 0) -> list[bytes]:
    """Seal every row (in parallel processes for large registers)."""
    work = [(r.lookup_id, r.reply_pk, _status_bytes(r.status), r.answers) for r in rows]
    workers = workers or min(os.cpu_count() or 1, 4)
    if len(work) < 5000 or workers == 1:
        return [_seal_row(w) for w in work]
    with ProcessPoolExecutor(workers) as pool:
        return list(pool.map(_seal_row, work, chunksize=2000))


Shape = tuple[int, tuple[int, ...]]  # sealed status length, sealed answer lengths
DEFAULT_SHAPE: Shape = (48 + 256, ())


def _shape(row: bytes) -> Shape:
    (size,) = struct.unpack(">H", row[16:18])
    pos = 18 + size
    answers = []
    for _ in range(row[pos]):
        (alen,) = struct.unpack(">H", row[pos + 1 : pos + 3])
        answers.append(alen)
        pos += 2 + alen
    return size, tuple(answers)


def _dummy(shard: int, shards: int, shapes: list[Shape]) -> bytes:
    """A row indistinguishable from a real one without the token: same structure and sizes."""
    prefix = secrets.randbelow((2**32 - shard) // shards) * shards + shard
    status_len, answer_lens = secrets.choice(shapes)
    parts = [
        prefix.to_bytes(4, "big"),
        secrets.token_bytes(12),
        struct.pack(">H", status_len),
        secrets.token_bytes(status_len),
        struct.pack(">B", len(answer_lens)),
    ]
    for alen in answer_lens:
        parts += [struct.pack(">H", alen), secrets.token_bytes(alen)]
    return b"".join(parts)


def plan_shards(row_count: int, mean_row: float) -> int:
    """A first guess at the shard count: about MIN_ROWS rows each, within the byte budget."""
    by_rows = math.ceil(row_count / MIN_ROWS)
    by_bytes = math.ceil(row_count * mean_row * 1.5 / MAX_SHARD_BYTES)
    return max(1, by_rows, by_bytes)


@dataclass(frozen=True)
class ShardSet:
    """Built shards, ready to write."""

    shards: list[bytes]
    shard_bytes: int
    rows: int


def build_shards(sealed_rows: list[bytes]) -> ShardSet:
    """Group sealed rows into equal-size shards padded with dummy rows."""
    shapes = [_shape(r) for r in sealed_rows] or [DEFAULT_SHAPE]
    mean = sum(len(r) for r in sealed_rows) / len(sealed_rows) if sealed_rows else 400.0
    shards = plan_shards(len(sealed_rows), mean)
    while True:
        groups: list[list[bytes]] = [[] for _ in range(shards)]
        for row in sealed_rows:
            groups[shard_of(row[:16], shards)].append(row)
        for i, group in enumerate(groups):
            while len(group) < MIN_ROWS:
                group.append(_dummy(i, shards, shapes))
        content = max(8 + sum(len(r) for r in g) for g in groups)
        if content <= MAX_SHARD_BYTES or max(len(g) for g in groups) <= MIN_ROWS:
            break
        shards = math.ceil(shards * 1.25)
    shard_bytes = math.ceil(content / 1024) * 1024
    out = []
    for group in groups:
        group.sort(key=lambda r: r[:16])
        body = MAGIC + struct.pack(">I", len(group)) + b"".join(group)
        out.append(body + bytes(shard_bytes - len(body)))
    return ShardSet(out, shard_bytes, len(sealed_rows))


def write_status(directory: Path, shard_set: ShardSet, as_of: date) -> None:
    """Write index.json and the shards into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    for i, shard in enumerate(shard_set.shards):
        (directory / f"{i}.bin").write_bytes(shard)
    index = {
        "v": 1,
        "shards": len(shard_set.shards),
        "shard_bytes": shard_set.shard_bytes,
        "as_of": as_of.isoformat(),
    }
    (directory / "index.json").write_text(json.dumps(index) + "\n")


def iter_lookup_ids(shards: Iterable[bytes]) -> Iterator[bytes]:
    """Every lookup id in the given shards (for tests)."""
    for shard in shards:
        for lookup_id, _, _ in parse_shard(shard):
            yield lookup_id
