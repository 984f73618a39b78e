"""Status shards against an observer who keeps every build: dummy rows cannot be told from real
ones by their bytes, their ids, when they appear or how they grow.

A register is published eight times, with new reports, progressing cases and new answers between
builds. The observer sees only the published shards. Each distinguisher is either a property
every row must have (a curve point where a sealed item starts, an id kept from build to build,
answers kept byte for byte, a status sealed anew), or a feature of the rows whose independence
from "real or dummy" is tested (chi-square, refused only below p = 1e-6; the same test finds the
distinguishers the issue reported, shown on rows made the old way)."""

from __future__ import annotations

import json
import math
import os
import random
from collections import Counter
from collections.abc import Callable, Hashable
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path

import sqlite_utils

from lianxin.protocol import Token
from lianxin.protocol.sealing import seal_answer_for_reporter
from lianxin.status import parse_shard, read_status
from lianxin.store.db import connect
from publisher.status import MIN_ROWS, shard_of, write_status

P = 2**255 - 19
START = date(2026, 1, 5)
BUILDS = 8

Row = tuple[bytes, list[bytes]]  # sealed status, sealed answers


def on_curve(item: bytes) -> bool:
    """Whether the item starts as a crypto_box_seal does: an X25519 public key (top bit clear,
    below p, a point of Curve25519 rather than of its twist)."""
    u = int.from_bytes(item[:32], "little")
    if u >> 255 or u >= P:
        return False
    rhs = (u * u * u + 486662 * u * u + u) % P
    return rhs == 0 or pow(rhs, (P - 1) // 2, P) == 1


def chi2_p(table: dict[Hashable, Counter[bool]]) -> float:
    """The p-value of the chi-square test that "real" is independent of the feature."""
    rows = [c for c in table.values() if sum(c.values())]
    total = sum(sum(c.values()) for c in rows)
    col = Counter[bool]()
    for c in rows:
        col.update(c)
    stat = 0.0
    for c in rows:
        n = sum(c.values())
        for label in (True, False):
            expected = n * col[label] / total
            if expected:
                stat += (c[label] - expected) ** 2 / expected
    df = (len(rows) - 1) * (len([v for v in col.values() if v]) - 1)
    return _chi2_sf(stat, df) if df else 1.0


def _chi2_sf(x: float, df: int) -> float:
    """P(chi2_df >= x), from the series of the regularized lower incomplete gamma function."""
    a, z = df / 2, x / 2
    if z == 0:
        return 1.0
    term = total = 1 / a
    k = 0
    while term > 1e-17 * total:
        k += 1
        term *= z / (a + k)
        total += term
    return max(0.0, 1 - math.exp(a * math.log(z) - z - math.lgamma(a)) * total)


class Office:
    """A register that grows and moves between builds, as an office's does."""

    def __init__(self, db: sqlite_utils.Database, seed: int) -> None:
        self.db, self.rng, self.tokens = db, random.Random(seed), {}  # type: dict[bytes, Token]

    def receive(self, count: int, day: date) -> None:
        with self.db.atomic():
            for _ in range(count):
                issued = (day - timedelta(days=self.rng.randrange(7))).isoformat()
                case = self.db.execute(
                    "INSERT INTO cases (channel, received_date, state, due_date)"
                    " VALUES ('online', ?, 'received', ?)",
                    [issued, (day + timedelta(days=60)).isoformat()],
                ).lastrowid
                token = Token.generate()
                keys = token.keys()
                self.db.execute(
                    "INSERT INTO tokens VALUES (?, ?, ?, ?, ?)",
                    [keys.lookup_id, case, bytes(keys.reply_public),
                     bytes(keys.followup_verify), issued],
                )  # fmt: skip
                self.tokens[keys.lookup_id] = token

    def progress(self, day: date) -> None:
        """Each case moves on a step with chance 0.4; answered cases get a sealed answer."""
        steps = {"received": ("accepted", "accepted_date"),
                 "accepted": ("concluded", "concluded_date"),
                 "concluded": ("answered", "answered_date"),
                 "answered": ("closed", "closed_date")}  # fmt: skip
        cases = self.db.execute("SELECT c.id, c.state, t.lookup_id, t.reply_pk FROM cases c"
                                " JOIN tokens t ON t.case_id = c.id").fetchall()  # fmt: skip
        with self.db.atomic():
            for case, state, lookup_id, reply_pk in cases:
                if state not in steps or self.rng.random() > 0.4:
                    continue
                new, column = steps[state]
                self.db.execute(
                    f"UPDATE cases SET state = ?, {column} = ? WHERE id = ?",
                    [new, day.isoformat(), case],
                )
                if new == "answered":
                    text = "经核查，" + "问题属实。" * self.rng.randrange(1, 120)
                    self.db.execute(
                        "INSERT INTO answers (case_id, lookup_id, kind, sealed, created_date)"
                        " VALUES (?, ?, 'answer', ?, ?)",
                        [case, lookup_id, seal_answer_for_reporter({"text": text}, reply_pk),
                         day.isoformat()],
                    )  # fmt: skip


def _observe(site: Path) -> tuple[int, dict[bytes, Row]]:
    index = json.loads((site / "status/index.json").read_text())
    seen: dict[bytes, Row] = {}
    sizes = set()
    for i in range(index["shards"]):
        data = (site / f"status/{i}.bin").read_bytes()
        sizes.add(len(data))
        rows = parse_shard(data)
        assert len(rows) >= MIN_ROWS
        ids = [lookup_id for lookup_id, _, _ in rows]
        assert ids == sorted(ids)  # the order within a shard tells nothing
        assert all(shard_of(lookup_id, index["shards"]) == i for lookup_id in ids)
        seen.update({lookup_id: (status, answers) for lookup_id, status, answers in rows})
    assert sizes == {index["shard_bytes"]}
    return index["shards"], seen


def test_an_observer_of_every_build_cannot_tell_dummies(tmp_path: Path) -> None:
    db = connect(tmp_path / "db.sqlite")
    office = Office(db, seed=13)
    office.receive(150, START)
    builds: list[dict[bytes, Row]] = []
    shard_counts = []
    for b in range(BUILDS):
        day = START + timedelta(days=7 * b)
        if b:
            office.progress(day)
            office.receive(office.rng.randrange(20, 120), day)
        write_status(db, tmp_path / f"site{b}/status", day, day + timedelta(days=7))
        shards, seen = _observe(tmp_path / f"site{b}")
        builds.append(seen)
        shard_counts.append(shards)
        real_ids = set(office.tokens)
        assert real_ids <= set(seen)
    assert shard_counts[-1] > shard_counts[0] >= 1  # the shard count grew with the register
    real = set(office.tokens)
    final = builds[-1]
    dummies = set(final) - real
    assert len(dummies) > 100
    print(f"\n{len(real)} real rows, {len(dummies)} dummies, shards {shard_counts}")

    # 1. Every sealed item starts with an X25519 public key (the issue: 75-92 % of dummies did
    # not); the same check flags random bytes, as dummies were made.
    for seen in builds:
        for status, answers in seen.values():
            assert on_curve(status) and all(on_curve(a) for a in answers)
    assert sum(on_curve(os.urandom(32)) for _ in range(400)) < 200

    # 2. Ids: every row of a build is in every later build, real or dummy; intersecting builds
    # leaves dummies in. Statuses are sealed anew each build; answers are kept byte for byte.
    for before, after in pairwise(builds):
        assert set(before) <= set(after)
        assert len(set(before) & set(after) - real) == len(set(before) - real) > 0
        for lookup_id, (status, answers) in before.items():
            assert after[lookup_id][0] != status
            assert after[lookup_id][1][: len(answers)] == answers

    # 3. Features of a row's history, each independent of being real.
    def first_build(lookup_id: bytes) -> int:
        return next(b for b, seen in enumerate(builds) if lookup_id in seen)

    def trajectory(lookup_id: bytes) -> list[tuple[int, int]]:
        return [(len(s[lookup_id][0]), len(s[lookup_id][1])) for s in builds if lookup_id in s]

    def answered_at(lookup_id: bytes) -> int:
        """Builds from a row's first build to its first answer (-1: none)."""
        steps = [a for _, a in trajectory(lookup_id)]
        return next((k for k, a in enumerate(steps) if a), -1)

    features: dict[str, Callable[[bytes], Hashable]] = {
        "first build (ids appearing between builds)": first_build,
        "final status size": lambda i: len(final[i][0]),
        "final answer count": lambda i: min(len(final[i][1]), 2),
        "final row size": lambda i: (len(final[i][0]) + sum(map(len, final[i][1]))) // 512,
        "builds until the first answer": answered_at,
        "status size changes": lambda i: len(set(trajectory(i))),
        "status size ever shrank": lambda i: any(x[0] > y[0] for x, y in pairwise(trajectory(i))),
        "first byte of the id": lambda i: i[0] >> 6,
    }
    for name, feature in features.items():
        table: dict[Hashable, Counter[bool]] = {}
        for lookup_id in final:
            table.setdefault(feature(lookup_id), Counter())[lookup_id in real] += 1
        p = chi2_p(table)
        print(f"{name}: p = {p:.3g}")
        assert p > 1e-6, (name, table)

    # the chi-square test does find a planted difference: dummies as they were (random bytes)
    planted = {True: Counter({True: len(real)}), False: Counter({False: len(dummies) // 4})}
    planted[False][True] = 0
    planted[True][False] = len(dummies) - len(dummies) // 4
    assert chi2_p(planted) < 1e-6

    # the tokens still read their statuses
    for token in random.Random(2).sample(sorted(office.tokens.values(), key=str), 5):
        assert read_status(str(tmp_path / f"site{BUILDS - 1}"), token) is not None
