"""Status shards: every token's case status, readable only with the token.

Layout under ``status/`` in the site::

    index.json          {"v": 1, "shards": N, "shard_bytes": S, "as_of": "YYYY-MM-DD"}
    <i>.bin             shard i, exactly S bytes, for i in 0..N-1

A token's shard is ``u32be(lookup_id[0:4]) mod N``. A shard is::

    "LXS1" || u32be(row count) || rows (sorted by lookup id) || zero bytes up to S
    row = lookup_id (16) || u16be(len) || sealed status
          || u8(n) || n x (u16be(len) || sealed item)

The status is JSON sealed (``crypto_box_seal``, fresh every build) to the token's reply key
after block padding; the items are the desk's sealed answers, then its other items for the
reporter (``reporter_items``: the records of what they sent), passed through unchanged, at most
``MAX_ITEMS`` (a token with more loses its oldest records after the first, never an answer). Every
shard holds at least ``MIN_ROWS`` rows, real and dummy ones — dummies have random ids, are
sealed like real rows, and are kept from build to build and grown like real rows
(``publisher.dummies``) — and all shards have the same size.

A build streams, so that its memory does not grow with the register. Sealed sizes do not
depend on the shard count, so the rows are sealed first and grouped afterwards:

1. *Seal.* Each worker process opens its own read-only connection, reads one range of lookup
   ids in order (tokens with their case's status JSON, built in SQL as ``STATUS_JSON``, and
   their items, merged by lookup id), seals every row and appends it to a spool file; it
   returns only every row's shard prefix and size, and how many rows of each issue date have
   each shape.
2. *Plan.* The stored dummy rows are grown and new ones born (``publisher.dummies``). From the
   ids and sizes of all rows alone, real and dummy alike, the shard count is the smallest that
   fits the fullest shard into ``MAX_SHARD_BYTES`` while every shard keeps ``MIN_ROWS`` rows
   (rows too large for both give fewer, larger shards: no dummy is ever placed into a shard
   that is short, which would tell it apart); so every shard's size is known exactly before
   any is written.
3. *Write.* Each worker takes one range of shards, reads their rows back from the spools,
   adds the dummies (their statuses sealed anew), sorts and writes each shard file as soon as
   it is complete. The grown and new dummies are stored when every shard is written.

The spools hold only sealed bytes (what the shards publish) and are deleted at the end. Each
worker reads its tokens and their items in one read transaction.
"""

from __future__ import annotations

import json
import math
import os
import pickle
import sqlite3
import struct
import subprocess
import sys
import tempfile
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from pathlib import Path
from typing import Any, NoReturn

import sqlite_utils

from lianxin.protocol.sealing import seal_for_reply_key
from lianxin.status import MAGIC, parse_shard

from . import dummies as dummy_rows
from .dummies import MIN_ROWS as MIN_ROWS
from .dummies import Dummy, DummySet, Shape
from .errors import PublisherError
from .log import LOG_JSON

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
DONE_STATES = ("concluded", "answered", "reviewing", "closed")  # shown blue
NO_DUE_STATES = ("not_accepted", "closed")
PARALLEL_FROM = 20_000  # tokens; smaller registers are sealed in this process


def shard_of(lookup_id: bytes, shards: int) -> int:
    """The shard a lookup id lives in."""
    return int.from_bytes(lookup_id[:4], "big") % shards


def _sql_list(values: Iterable[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


# The status document as compact JSON with sorted keys, exactly what
# ``json.dumps(status, ensure_ascii=False, sort_keys=True, separators=(",", ":"))`` gives for
#   {"v": 1, "state": state, "steps": [{"step": name, "date": d} for each non-empty date],
#    "due": due shown (review_due while reviewing; none once not accepted or closed),
#    "due_uncertain": bool, "colour": colour, "as_of": today,
#    "followups": [the received date of each follow-up the reporter sent, oldest first]
#                 (only when there is one),
#    "log": the token's entries in the public log (publisher/log.py, LOG_JSON),
#    "satisfaction": the rating the desk recorded (satisfied | basically | not) (only when set)}
# The follow-ups' contents stay sealed to the office; their dates and the recorded rating are
# the reporter's own doings, shown back to them (the row is sealed to their token).
# colour: blue when done; none when not open or without a due date; red when overdue; yellow
# when due by :until (``warning_days`` working days ahead); green otherwise.
# Parameters :today and :until; tables ``cases c`` (and ``tokens t``).
_DUE = "(CASE WHEN c.state = 'reviewing' THEN c.review_due ELSE c.due_date END)"
_COLOUR = (
    f"CASE WHEN c.state IN ({_sql_list(DONE_STATES)}) THEN '\"blue\"'"
    f" WHEN c.state NOT IN ({_sql_list(OPEN_STATES)}) OR coalesce({_DUE}, '') = '' THEN 'null'"
    f" WHEN {_DUE} < :today THEN '\"red\"'"
    f" WHEN {_DUE} <= :until THEN '\"yellow\"'"
    " ELSE '\"green\"' END"
)
_FOLLOWUPS = (
    "coalesce((SELECT ',\"followups\":' || json_group_array(d) FROM (SELECT s.received_date AS d"
    " FROM submissions s WHERE s.case_id = c.id AND s.kind = 'followup'"
    " ORDER BY s.received_date, s.id) HAVING count(*) > 0), '')"
)
_STEPS = " || ".join(
    f"CASE WHEN c.{column} <> '' THEN"
    f" ',{{\"date\":' || json_quote(c.{column}) || ',\"step\":\"{name}\"}}' ELSE '' END"
    for name, column in STEPS
)
STATUS_JSON = (
    "CAST('{\"as_of\":' || json_quote(:today)"
    f" || ',\"colour\":' || {_COLOUR}"
    f" || ',\"due\":' || json_quote(CASE WHEN c.state IN ({_sql_list(NO_DUE_STATES)})"
    f" THEN NULL ELSE {_DUE} END)"
    " || ',\"due_uncertain\":' || CASE WHEN c.due_uncertain THEN 'true' ELSE 'false' END"
    f" || {_FOLLOWUPS}"
    f" || ',\"log\":' || {LOG_JSON}"  # the token's entries in the public log
    " || CASE WHEN coalesce(c.satisfaction, '') <> ''"
    " THEN ',\"satisfaction\":' || json_quote(c.satisfaction) ELSE '' END"
    " || ',\"state\":' || json_quote(c.state)"
    f" || ',\"steps\":[' || substr({_STEPS}, 2) || '],\"v\":1}}' AS BLOB)"
)


def status_documents(
    conn: sqlite3.Connection, today: date, yellow_until: date
) -> Iterator[tuple[bytes, bytes]]:
    """Every token's lookup id and status JSON, unsealed (for tests and checks)."""
    params = {"today": today.isoformat(), "until": yellow_until.isoformat()}
    yield from conn.execute(
        f"SELECT t.lookup_id, {STATUS_JSON}"  # noqa: S608 - fixed SQL
        " FROM tokens t JOIN cases c ON c.id = t.case_id",
        params,
    )


_PACK_H = struct.Struct(">H").pack


MAX_ITEMS = 255  # a row's item count is a u8


def _row(lookup_id: bytes, sealed: bytes, items: list[bytes]) -> bytes:
    parts = [lookup_id, _PACK_H(len(sealed)), sealed, bytes((len(items),))]
    for item in items:
        parts += [_PACK_H(len(item)), item]
    return b"".join(parts)


class _ByToken:
    """A cursor's (lookup_id, sealed) rows in lookup-id order, taken token by token."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self.cursor = cursor
        self.pending = next(cursor, None)

    def take(self, lookup_id: bytes) -> list[bytes]:
        """The sealed items of ``lookup_id`` (those of smaller ids have no token: skipped)."""
        while self.pending is not None and self.pending[0] < lookup_id:
            self.pending = next(self.cursor, None)
        found = []
        while self.pending is not None and self.pending[0] == lookup_id:
            found.append(self.pending[1])
            self.pending = next(self.cursor, None)
        return found


def row_items(answers: list[bytes], others: list[bytes]) -> list[bytes]:
    """A row's items: every answer, then the other items (oldest first) that fit in
    ``MAX_ITEMS``: the first (the report's record) and the newest."""
    room = MAX_ITEMS - len(answers)
    if len(others) > room:
        others = others[:1] + others[len(others) - room + 1 :] if room > 0 else []
    return answers + others


@dataclass(frozen=True)
class _Part:
    """The tokens whose lookup ids are in [first, stop) (None: unbounded), sealed into
    ``spool``."""

    first: bytes | None
    stop: bytes | None
    today: str
    until: str
    spool: str

    def where(self, column: str) -> str:
        bounds = [(f"{column} >= :first", self.first), (f"{column} < :stop", self.stop)]
        conditions = [sql for sql, value in bounds if value is not None]
        return " WHERE " + " AND ".join(conditions) if conditions else ""

    @property
    def params(self) -> dict[str, str | bytes | None]:
        return {"today": self.today, "until": self.until, "first": self.first, "stop": self.stop}


@dataclass(frozen=True)
class _Spool:
    """Sealed rows in a file, in lookup-id order: each row's ``u32be(lookup_id[0:4])`` and
    size (rows follow each other), and how many rows of each issue date have each shape."""

    path: str
    prefixes: array[int]
    sizes: array[int]
    shapes: Counter[tuple[str, Shape]]


def _seal_part(conn: sqlite3.Connection, part: _Part) -> _Spool:
    """Step 1: seal the rows of the part's tokens into its spool file."""
    began = not conn.in_transaction
    if began:
        conn.execute("BEGIN")  # tokens and items from one snapshot
    cursors: list[sqlite3.Cursor] = []
    prefixes, sizes = array("I"), array("I")
    shapes: Counter[tuple[str, Shape]] = Counter()
    try:
        tokens = conn.execute(
            f"SELECT t.lookup_id, t.reply_pk, t.issued_date, {STATUS_JSON}"  # noqa: S608 - fixed SQL
            f" FROM tokens t CROSS JOIN cases c ON c.id = t.case_id{part.where('t.lookup_id')}"
            " ORDER BY t.lookup_id",  # the primary key: no sorting; cases by id
            part.params,
        )
        cursors.append(tokens)
        answers = conn.execute(
            f"SELECT lookup_id, sealed FROM answers{part.where('lookup_id')}"  # noqa: S608
            " ORDER BY lookup_id, id",  # the answers_lookup index: no sorting
            part.params,
        )
        cursors.append(answers)
        others = conn.execute(
            f"SELECT lookup_id, sealed FROM reporter_items{part.where('lookup_id')}"  # noqa: S608
            " ORDER BY lookup_id, id",  # the reporter_items_lookup index: no sorting
            part.params,
        )
        cursors.append(others)
        with open(part.spool, "wb") as spool:
            answers_of, others_of = _ByToken(answers), _ByToken(others)
            for lookup_id, reply_pk, issued, status in tokens:
                items = row_items(answers_of.take(lookup_id), others_of.take(lookup_id))
                sealed = seal_for_reply_key(status, reply_pk)
                row = _row(lookup_id, sealed, items)
                spool.write(row)
                prefixes.append(int.from_bytes(lookup_id[:4], "big"))
                sizes.append(len(row))
                shapes[issued, (len(sealed), tuple(map(len, items)))] += 1
    finally:
        for cursor in cursors:
            cursor.close()
        if began:
            conn.execute("COMMIT")
    return _Spool(part.spool, prefixes, sizes, shapes)


@dataclass(frozen=True)
class Plan:
    """The shard layout, fixed before any shard is written."""

    tokens: int
    shards: int
    shard_bytes: int
    dummies: dict[int, list[Dummy]]  # shard -> its dummy rows


Columns = list[tuple[Sequence[int], Sequence[int]]]  # (prefixes, sizes) of rows


def _tally(columns: Columns, shards: int) -> tuple[list[int], list[int]]:
    """Every shard's row count and content size (header included) for a shard count."""
    rows, content = [0] * shards, [8] * shards
    for prefixes, sizes in columns:
        for prefix, size in zip(prefixes, sizes, strict=True):
            i = prefix % shards
            rows[i] += 1
            content[i] += size
    return rows, content


def shard_count(columns: Columns) -> int:
    """The fewest shards whose fullest fits ``MAX_SHARD_BYTES`` while every shard keeps at
    least ``MIN_ROWS`` rows; rows too large for both give fewer, larger shards (the rows come
    first). Counts only ids and sizes: real and dummy rows alike."""
    total = sum(sum(sizes) for _, sizes in columns)
    n = max(1, math.ceil(total / (MAX_SHARD_BYTES - 8)))
    rows, content = _tally(columns, n)
    while n > 1 and min(rows) < MIN_ROWS:
        n = max(1, min(n - 1, n * 9 // 10))
        rows, content = _tally(columns, n)
    while max(content) > MAX_SHARD_BYTES:
        more = max(n + 1, math.ceil(n * 1.04))
        more_rows, more_content = _tally(columns, more)
        if min(more_rows) < MIN_ROWS:
            break
        n, rows, content = more, more_rows, more_content
    return n


def _plan(spools: list[_Spool], dummies: DummySet) -> Plan:
    """Step 2: the shard count and shard size from the sizes alone; the dummies by shard."""
    prefixes = array("I", (int.from_bytes(d.lookup_id[:4], "big") for d in dummies.rows))
    sizes = array("I", (d.size for d in dummies.rows))
    columns: Columns = [*((spool.prefixes, spool.sizes) for spool in spools), (prefixes, sizes)]
    shards = shard_count(columns)
    _, content = _tally(columns, shards)
    by_shard: dict[int, list[Dummy]] = {}
    for prefix, dummy in zip(prefixes, dummies.rows, strict=True):
        by_shard.setdefault(prefix % shards, []).append(dummy)
    tokens = sum(len(spool.sizes) for spool in spools)
    return Plan(tokens, shards, math.ceil(max(content) / 1024) * 1024, by_shard)


@dataclass(frozen=True)
class _Task:
    """Step 3 for one worker: shards ``first`` .. ``stop - 1``."""

    spools: list[_Spool]
    shards: int
    first: int
    stop: int
    shard_bytes: int
    dummies: dict[int, list[Dummy]]
    directory: str


def _write_shards(task: _Task) -> int:
    """Step 3: read the task's rows back from the spools, add the dummies, sort, pad and
    write each shard. Returns the number of real rows written."""
    shards, first = task.shards, task.first
    wanted: list[list[tuple[int, int, int]]] = [[] for _ in range(first, task.stop)]
    for k, spool in enumerate(task.spools):
        offset = 0
        for prefix, size in zip(spool.prefixes, spool.sizes, strict=True):
            i = prefix % shards - first
            if 0 <= i < len(wanted):
                wanted[i].append((k, offset, size))
            offset += size
    files = [os.open(spool.path, os.O_RDONLY) for spool in task.spools]
    try:
        for shard, where in enumerate(wanted, first):
            group = [os.pread(files[k], size, offset) for k, offset, size in where]
            group += [dummy.row() for dummy in task.dummies.get(shard, [])]
            group.sort(key=lambda r: r[:16])
            content = 8 + sum(map(len, group))
            if content > task.shard_bytes:
                raise StatusBuildError(f"shard {shard} is larger than planned")
            header = MAGIC + struct.pack(">I", len(group))
            data = b"".join([header, *group, bytes(task.shard_bytes - content)])
            (Path(task.directory) / f"{shard}.bin").write_bytes(data)
    finally:
        for fd in files:
            os.close(fd)
    return sum(len(where) for where in wanted)


def _open(path: str) -> sqlite3.Connection:
    uri = Path(path).resolve().as_uri() + "?mode=ro"
    conn = sqlite3.connect(uri, uri=True, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 10000")
    return conn


def _worker_main() -> None:
    """A worker process started by ``write_status``: seals one part (step 1), then writes one
    range of shards (step 3). Messages are pickles on stdin and stdout."""
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    path, part = pickle.load(stdin)  # noqa: S301 - from the process that started this one
    conn = _open(path)
    try:
        pickle.dump(_seal_part(conn, part), stdout)
    finally:
        conn.close()
    stdout.flush()
    task = pickle.load(stdin)  # noqa: S301 - idem
    pickle.dump(_write_shards(task), stdout)
    stdout.flush()


class StatusBuildError(PublisherError):
    """The status shards could not be built."""


class _Worker:
    """One worker process and its pipes."""

    def __init__(self, path: str, part: _Part) -> None:
        root = str(Path(__file__).resolve().parent.parent)  # where `publisher` is imported from
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        self.errors = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from publisher.status import _worker_main; _worker_main()"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.errors, env=env,
        )  # fmt: skip
        self.send((path, part))

    def send(self, message: object) -> None:
        assert self.process.stdin is not None
        try:
            pickle.dump(message, self.process.stdin)
            self.process.stdin.flush()
        except BrokenPipeError:
            self.fail()

    def receive(self) -> Any:
        assert self.process.stdout is not None
        try:
            return pickle.load(self.process.stdout)  # noqa: S301 - from our own child
        except EOFError:
            self.fail()

    def fail(self) -> NoReturn:
        self.process.wait()
        self.errors.seek(0)
        lines = self.errors.read().decode(errors="replace").strip().splitlines()
        raise StatusBuildError(
            f"a status worker failed (exit {self.process.returncode}): "
            + (lines[-1] if lines else "no message")
        )

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                pipe.close()
        self.errors.close()


def _tasks(plan: Plan, spools: list[_Spool], workers: int, directory: Path) -> list[_Task]:
    bounds = [plan.shards * k // workers for k in range(workers + 1)]
    return [
        _Task(
            spools=spools,
            shards=plan.shards,
            first=first,
            stop=stop,
            shard_bytes=plan.shard_bytes,
            dummies={i: d for i, d in plan.dummies.items() if first <= i < stop},
            directory=str(directory),
        )
        for first, stop in pairwise(bounds)
    ]


DummiesFor = Callable[[list[_Spool]], DummySet]


def _in_workers(
    path: str, parts: list[_Part], directory: Path, dummies_for: DummiesFor
) -> tuple[Plan, int]:
    """The three steps with one worker process per part."""
    pool: list[_Worker] = []
    try:
        for part in parts:
            pool.append(_Worker(path, part))
        spools = [worker.receive() for worker in pool]
        plan = _plan(spools, dummies_for(spools))
        for worker, task in zip(pool, _tasks(plan, spools, len(pool), directory), strict=True):
            worker.send(task)
        return plan, sum(worker.receive() for worker in pool)
    finally:
        for worker in pool:
            worker.close()


def _cpus() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))  # the CPUs this process may use
    return os.cpu_count() or 1


def _db_file(db: sqlite_utils.Database) -> str | None:
    for _, name, file in db.execute("PRAGMA database_list").fetchall():
        if name == "main":
            return str(file) or None
    return None


@dataclass(frozen=True)
class StatusSet:
    """What ``write_status`` wrote."""

    tokens: int
    shards: int
    shard_bytes: int


def write_status(
    db: sqlite_utils.Database,
    directory: Path,
    today: date,
    yellow_until: date,
    *,
    workers: int = 0,
    parallel_from: int = PARALLEL_FROM,
) -> StatusSet:
    """Write index.json and every token's sealed status into ``directory``, with the dummy
    rows (stored in ``db`` for the next build once every shard is written).

    Registers of ``parallel_from`` tokens or more are sealed by ``workers`` processes (default:
    one per CPU, at most 4), each with its own connection; smaller ones in this process."""
    directory.mkdir(parents=True, exist_ok=True)
    day, until = today.isoformat(), yellow_until.isoformat()
    path = _db_file(db)
    workers = workers or min(_cpus(), 4)
    if path is None or workers == 1:
        workers = 1
    else:
        (count,) = db.execute("SELECT count(*) FROM tokens").fetchone()
        workers = workers if count >= parallel_from else 1
    dummy_set: list[DummySet] = []

    def dummies_for(spools: list[_Spool]) -> DummySet:
        shapes: Counter[tuple[str, Shape]] = Counter()
        for spool in spools:
            shapes.update(spool.shapes)
        dummy_set.append(DummySet(db, shapes, today))
        return dummy_set[0]

    cuts = [(2**128 * k // workers).to_bytes(16, "big") for k in range(1, workers)]
    with tempfile.TemporaryDirectory(prefix=".spool-", dir=directory) as spool_dir:
        parts = [
            _Part(first, stop, day, until, str(Path(spool_dir) / f"{k}.bin"))
            for k, (first, stop) in enumerate(zip([None, *cuts], [*cuts, None], strict=True))
        ]
        if workers > 1:
            assert path is not None
            plan, written = _in_workers(path, parts, directory, dummies_for)
        else:
            conn = db.conn if path is None else _open(path)  # in memory: only this connection
            try:
                spools = [_seal_part(conn, parts[0])]
            finally:
                if conn is not db.conn:
                    conn.close()
            plan = _plan(spools, dummies_for(spools))
            written = sum(_write_shards(task) for task in _tasks(plan, spools, 1, directory))
    index = {"v": 1, "shards": plan.shards, "shard_bytes": plan.shard_bytes, "as_of": day}
    (directory / "index.json").write_text(json.dumps(index) + "\n")
    dummy_count = sum(map(len, plan.dummies.values()))
    dummy_rows.save(db, dummy_set[0].changed, today, written, dummy_count, plan.shards)
    return StatusSet(written, plan.shards, plan.shard_bytes)


def iter_lookup_ids(shards: Iterable[bytes]) -> Iterator[bytes]:
    """Every lookup id in the given shards (for tests)."""
    for shard in shards:
        for lookup_id, _, _ in parse_shard(shard):
            yield lookup_id
