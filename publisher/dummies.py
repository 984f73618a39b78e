"""Dummy rows of the status shards: kept from build to build, born and grown like real rows.

An observer who keeps every build sees each row's lookup id, the build it first appeared in, its
bytes, and the sizes of its sealed status and answers at every build. Dummy rows are made to look
the same as real rows in all of these:

- *Bytes.* A dummy's status is ``crypto_box_seal`` of zero bytes to a random 32-byte recipient
  key, sealed again at every build like a real status: it starts with a real ephemeral X25519
  public key and the rest is ciphertext. Its answers are sealed the same way once, when they
  appear, and then published byte for byte at every build, like real answers.
- *Ids.* A dummy's lookup id is 16 random bytes (a real one is a hash of a random token). It is
  stored in ``status_dummies`` and published at every later build, as a real row is; it is never
  removed, so intersecting builds keeps real and dummy rows alike.
- *Births.* Dummies are born with real rows: each build adds ``MIX_PER`` dummies per ``MIX_OF``
  real rows new since the last build (rounded at random), and what a register of fewer than
  ``MIN_ROWS`` rows needs. A new dummy imitates a token issued on the date of one of the newest
  real tokens. No dummy is ever made to fall into a given shard.
- *Growth.* A dummy keeps a random rank for good; at every build its answer count and status
  size are those at that rank among the real rows issued around its imitated date (at least
  ``POOL`` of them), in the order (answer count, status size). An answer it gains takes the size
  of a random real answer at the same place among that pool's rows; once published it stays. So
  a cohort's dummies have the shapes its real rows have, build by build.

Which shard a row is in depends only on its id and the shard count; the shard count depends only
on the sizes of all rows together (``publisher.status``).
"""

from __future__ import annotations

import os
import secrets
import struct
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from itertools import accumulate

import sqlite_utils
from nacl.bindings import crypto_box_seal
from nacl.exceptions import CryptoError

SEAL_OVERHEAD = 48  # crypto_box_seal: ephemeral public key (32) and MAC (16)
MIN_ROWS = 64
MIX_PER, MIX_OF = 1, 4  # dummies born per real rows born
POOL = 64  # real rows a dummy's shape is drawn among, at least
Shape = tuple[int, tuple[int, ...]]  # sealed status length, sealed answer lengths
DEFAULT_SHAPE: Shape = (SEAL_OVERHEAD + 256, ())  # a new case's status, no answer
RANKS = 2**32

_PACK_H = struct.Struct(">H").pack


def seal_random(length: int) -> bytes:
    """``length`` bytes made exactly as a sealed item is: zero bytes sealed to a random key."""
    while True:
        try:
            return crypto_box_seal(bytes(length - SEAL_OVERHEAD), os.urandom(32))
        except CryptoError:  # a low-order "key" (chance 2**-250): draw again
            continue


def answer_lengths(answers: bytes) -> tuple[int, ...]:
    """The sizes of the sealed answers in a row's answer part."""
    lengths, pos = [], 1
    for _ in range(answers[0]):
        (size,) = struct.unpack_from(">H", answers, pos)
        lengths.append(size)
        pos += 2 + size
    return tuple(lengths)


@dataclass(frozen=True)
class Dummy:
    """One dummy row: its id, what it imitates, and what it publishes besides a fresh status."""

    lookup_id: bytes
    issued: str  # the issue date of the tokens it imitates
    rank: int  # 0 .. RANKS - 1: where among them its shape is taken
    status_len: int
    answers: bytes  # u8(n) || n x (u16be(len) || sealed answer), as published

    @property
    def size(self) -> int:
        return 16 + 2 + self.status_len + len(self.answers)

    def row(self) -> bytes:
        """The row as published in this build: the status sealed anew."""
        sealed = seal_random(self.status_len)
        return b"".join([self.lookup_id, _PACK_H(self.status_len), sealed, self.answers])


Grade = tuple[int, int]  # answer count, sealed status length


@dataclass(frozen=True)
class _Pool:
    grades: list[Grade]  # in order
    cumulative: list[int]  # rows up to each grade
    answers: list[list[int]]  # k -> the sizes of the real rows' k-th answers


class ShapeTable:
    """The real rows' shapes by issue date, to take a dummy's shape from."""

    def __init__(self, shapes: Counter[tuple[str, Shape]]) -> None:
        by_day: dict[int, Counter[Shape]] = {}
        for (issued, shape), count in shapes.items():
            by_day.setdefault(date.fromisoformat(issued).toordinal(), Counter())[shape] += count
        self._days = sorted(by_day)
        self._by_day = by_day
        self._cache: dict[str, _Pool] = {}

    def _pool(self, issued: str) -> _Pool:
        """The real rows issued nearest to ``issued`` (whole days, nearest first, until there
        are at least POOL rows): their grades in order with cumulative counts, and the sizes
        of their answers."""
        if issued in self._cache:
            return self._cache[issued]
        day, days = date.fromisoformat(issued).toordinal(), self._days
        left = bisect_left(days, day)
        right = left
        pooled: Counter[Shape] = Counter()
        while sum(pooled.values()) < POOL and (left > 0 or right < len(days)):
            take_left = right >= len(days) or (
                left > 0 and day - days[left - 1] <= days[right] - day
            )
            if take_left:
                left -= 1
                pooled.update(self._by_day[days[left]])
            else:
                pooled.update(self._by_day[days[right]])
                right += 1
        grades: Counter[Grade] = Counter()
        answers: list[list[int]] = []
        for (status_len, lengths), count in pooled.items():
            grades[len(lengths), status_len] += count
            for k, size in enumerate(lengths):
                if k == len(answers):
                    answers.append([])
                answers[k] += [size] * count
        order = sorted(grades)
        pool = _Pool(order, list(accumulate(grades[g] for g in order)), answers)
        self._cache[issued] = pool
        return pool

    def grade(self, issued: str, rank: int) -> Grade:
        """The answer count and status size at ``rank`` among the real rows issued around
        ``issued``."""
        pool = self._pool(issued)
        if not pool.grades:
            return len(DEFAULT_SHAPE[1]), DEFAULT_SHAPE[0]
        return pool.grades[bisect_right(pool.cumulative, rank * pool.cumulative[-1] // RANKS)]

    def answer_size(self, issued: str, k: int) -> int:
        """The size of a random real ``k``-th answer among the rows issued around ``issued``."""
        sizes = self._pool(issued).answers[k]
        return sizes[secrets.randbelow(len(sizes))]

    def newest_days(self, rows: int) -> tuple[list[str], list[int]]:
        """The issue dates of the ``rows`` newest real rows, with cumulative counts."""
        days: list[str] = []
        cumulative: list[int] = []
        for day in reversed(self._days):
            if cumulative and cumulative[-1] >= rows:
                break
            days.append(date.fromordinal(day).isoformat())
            cumulative.append((cumulative[-1] if cumulative else 0) + self._by_day[day].total())
        return days, cumulative


def grow(dummy: Dummy, table: ShapeTable) -> Dummy:
    """The dummy with the shape of its rank in its cohort: a new status size, and new answers
    (sealed once, kept from then on) if the cohort's shape there has more."""
    count, status_len = table.grade(dummy.issued, dummy.rank)
    have = dummy.answers[0]
    answers = dummy.answers
    if count > have:
        lengths = [table.answer_size(dummy.issued, k) for k in range(have, count)]
        added = [_PACK_H(n) + seal_random(n) for n in lengths]
        answers = bytes((count,)) + dummy.answers[1:] + b"".join(added)
    return replace(dummy, status_len=status_len, answers=answers)


def _born(count: int, table: ShapeTable, new_rows: int, today: date) -> list[Dummy]:
    days, cumulative = table.newest_days(max(new_rows, 1))
    dummies = []
    for _ in range(count):
        if days:
            issued = days[bisect_right(cumulative, secrets.randbelow(cumulative[-1]))]
        else:
            issued = today.isoformat()
        lookup_id = secrets.token_bytes(16)
        new = Dummy(lookup_id, issued, secrets.randbelow(RANKS), 0, b"\x00")
        dummies.append(grow(new, table))
    return dummies


def _mix(new_rows: int) -> int:
    """MIX_PER / MIX_OF dummies per new real row, the fraction rounded at random."""
    whole, part = divmod(new_rows * MIX_PER, MIX_OF)
    return whole + (secrets.randbelow(MIX_OF) < part)


def load(db: sqlite_utils.Database) -> tuple[list[Dummy], int]:
    """The stored dummies, and how many real rows the last build published."""
    dummies = [
        Dummy(bytes(row[0]), row[1], row[2], row[3], bytes(row[4]))
        for row in db.execute(
            "SELECT lookup_id, issued_date, rank, status_len, answers FROM status_dummies"
        )
    ]
    last = db.execute("SELECT real_rows FROM status_builds ORDER BY id DESC LIMIT 1").fetchone()
    return dummies, int(last[0]) if last else 0


class DummySet:
    """This build's dummy rows (``rows``): the stored ones grown and the new ones born; and
    those changed or new (``changed``), to store with ``save``."""

    def __init__(
        self, db: sqlite_utils.Database, shapes: Counter[tuple[str, Shape]], today: date
    ) -> None:
        table = ShapeTable(shapes)
        stored, last_real = load(db)
        real = shapes.total()
        grown = [grow(d, table) for d in stored]
        new_rows = max(0, real - last_real)
        mix = _mix(new_rows)
        fill = max(0, MIN_ROWS - real - len(stored) - mix)  # a small register: MIN_ROWS in all
        born = _born(mix + fill, table, new_rows, today)
        self.rows = grown + born
        self.changed = [g for g, d in zip(grown, stored, strict=True) if g != d] + born


def save(
    db: sqlite_utils.Database,
    changed: Iterable[Dummy],
    today: date,
    real_rows: int,
    dummy_rows: int,
    shards: int,
) -> None:
    """Store the changed and new dummies and record the build, in one transaction."""
    conn = db.conn
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.executemany(
            "INSERT OR REPLACE INTO status_dummies"
            " (lookup_id, issued_date, rank, status_len, answers) VALUES (?, ?, ?, ?, ?)",
            [(d.lookup_id, d.issued, d.rank, d.status_len, d.answers) for d in changed],
        )
        conn.execute(
            "INSERT INTO status_builds (built_date, real_rows, dummy_rows, shards)"
            " VALUES (?, ?, ?, ?)",
            [today.isoformat(), real_rows, dummy_rows, shards],
        )
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
