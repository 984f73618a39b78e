"""A synthetic register for demos and benchmarks: realistic, reproducible and fast.

``synthesize_register`` writes ``n`` cases spread over ``months`` months with a realistic mix of
channels, item types (about a third out of scope, as the 临沧 and 楚雄 bulletins report), problem
types, ranks, regions, real-name status, routing, deadlines counted on the working-day
calendar, outcomes, satisfaction, reviews, special-ledger tags and warnings. Every case is
walked through the lifecycle as far as its age allows on ``today``, so old cases are mostly
closed, recent ones open and some overdue. Rows are generated in chunks and written with
``executemany`` in one transaction. Optional: tokens (random public values) and a hash-chained
event log that ``verify`` accepts.
"""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any

import sqlite_utils

from lianxin.domain.datafiles import load_taxonomy
from lianxin.domain.workdays import add_working_days
from lianxin.store.db import connect

from .cases import COLUMNS
from .synth_events import cleared_date, write_events
from .values import parse_month

CHUNK = 50_000
Weights = Mapping[str, float]
CHANNELS: Weights = dict(
    online=35, letter=20, visit=14, phone=20, complaint_box=6, village_station=4, other=1
)
ITEM_TYPES: Weights = dict(
    accusation=46, appeal=9, suggestion=4, out_of_scope=22, no_substance=11, repeat=8
)
CATEGORIES: Weights = dict(
    mass=30, integrity=20, work=20, legal=15, organisational=5, life=5, political=2, other=3
)
RANKS: Weights = dict(
    village_community=35, township_section=20, general_cadre=15, county_division=8,
    enterprise=7, public_institution=7, other=6, department_bureau=1.5, province_ministry=0.5,
)  # fmt: skip
REAL_NAME: Weights = dict(anonymous=55, claimed=15, verified=30)
OUTCOMES: Weights = dict(
    substantiated=20, partly=15, unsubstantiated=30, cleared=5, false_accusation=1,
    resolved=12, explained=10, closed_no_finding=7,
)  # fmt: skip
RATINGS: Weights = dict(satisfied=70, basically=20, not_=10)
RATINGS_AFTER_REVIEW: Weights = dict(satisfied=40, basically=35, not_=25)
REVIEW_OUTCOMES = ("upheld", "upheld", "supplemented", "changed")


_PICKERS: dict[int, tuple[list[str], list[float]]] = {}


def _pick(rng: random.Random, weights: Weights) -> str:
    """A weighted choice (cumulative weights worked out once per table: this runs millions
    of times)."""
    table = _PICKERS.get(id(weights))
    if table is None:
        table = ([k.rstrip("_") for k in weights], list(accumulate(weights.values())))
        _PICKERS[id(weights)] = table
    items, cumulative = table
    return items[bisect(cumulative, rng.random() * cumulative[-1])]


@dataclass
class Summary:
    """What was written."""

    cases: int = 0
    tags: int = 0
    warnings: int = 0
    tokens: int = 0
    events: int = 0
    states: dict[str, int] = field(default_factory=dict)


class _Walker:
    """Walks one synthetic case through the lifecycle up to ``today``."""

    def __init__(self, rng: random.Random, today: date, policy: str) -> None:
        tax = load_taxonomy()
        self.rng, self.today, self.policy = rng, today, policy
        self.subtypes = {c.code: [s.code for s in tax.subtypes(c.code)] for c in tax.categories()}
        self.regions = list(tax.regions.codes())
        self.internal = [u.code for u in tax.units if u.kind == "internal"]
        self.external = [u.code for u in tax.units if u.kind == "external"]
        self.tags = list(tax.tags.codes())
        self._wd: dict[tuple[date, int], date] = {}
        self.numbers: dict[int, int] = {}

    def working(self, start: date, days: int) -> date:
        key = (start, days)
        if key not in self._wd:
            self._wd[key] = add_working_days(start, days).due
        return self._wd[key]

    def case(self, case_id: int, received: date) -> tuple[dict[str, Any], list[str]]:
        rng, today = self.rng, self.today
        row: dict[str, Any] = dict.fromkeys(COLUMNS)
        row.update(id=case_id, channel=_pick(rng, CHANNELS), received_date=received.isoformat(),
                   state="received")  # fmt: skip
        registered = received + timedelta(days=rng.randint(0, 4))
        if registered > today:
            return row, []
        category = _pick(rng, CATEGORIES)
        subtype = rng.choice(self.subtypes[category]) if self.subtypes[category] else None
        item = _pick(rng, ITEM_TYPES)
        year = registered.year
        self.numbers[year] = self.numbers.get(year, 0) + 1
        repeat_of = None
        if item == "repeat" and case_id > 1:
            repeat_of = rng.randint(max(1, case_id - 5000), case_id - 1)
        row.update(
            number=f"{year}-{self.numbers[year]:06d}",
            source="assigned" if rng.random() < 0.4 else "own",
            item_type=item,
            problem_type=category,
            problem_subtype=subtype,
            rank=_pick(rng, RANKS),
            region=rng.choice(self.regions),
            real_name=_pick(rng, REAL_NAME),
            repeat_of=repeat_of,
            escalated=int(rng.random() < 0.05),
            registered_date=registered.isoformat(),
            extensions=0,
            policy=self.policy,
        )
        if row["real_name"] == "verified" and case_id % 10:  # 受理告知, one in ten still owed
            told = registered + timedelta(days=case_id % 7)  # no rng draw: figures unchanged
            row["acknowledged_date"] = min(told, today).isoformat()
        tags = [rng.choice(self.tags)] if rng.random() < 0.15 else []
        if item in ("no_substance", "repeat"):
            row["state"] = "not_accepted"
            return row, tags
        start = registered
        if item == "out_of_scope":
            row.update(state="forwarded", route="forward", forwarded_to=rng.choice(self.external))
            due = start + timedelta(days=30)
        else:
            route = "assign" if rng.random() < 0.75 else "direct"
            row.update(state="in_progress", route=route, accepted_date=start.isoformat(),
                       unit=rng.choice(self.internal))  # fmt: skip
            due = self.working(start, 30)
        row.update(due_date=due.isoformat(), due_uncertain=0)
        if rng.random() < 0.05 and item != "out_of_scope":
            row["extensions"] = 1
            due = self.working(due, 15)
            row["due_date"] = due.isoformat()
        span = (due - start).days
        took = (
            int(span * rng.uniform(0.3, 1.0))
            if rng.random() < 0.9
            else int(span * rng.uniform(1.05, 1.8))
        )
        concluded = start + timedelta(days=max(1, took))
        if concluded > today:
            return row, tags
        self._conclude(row, item, concluded)
        return row, tags

    def _conclude(self, row: dict[str, Any], item: str, concluded: date) -> None:
        rng, today = self.rng, self.today
        outcome = "resolved" if item == "out_of_scope" else _pick(rng, OUTCOMES)
        row.update(state="concluded", concluded_date=concluded.isoformat(), outcome=outcome)
        if row["real_name"] == "verified":
            row["answer_due"] = self.working(concluded, 15).isoformat()
        answered = concluded + timedelta(days=rng.choice((1, 2, 3, 5, 8, 12, 18, 25)))
        if answered > today:
            return
        row.update(state="answered", answered_date=answered.isoformat())
        if rng.random() < 0.6:
            row["satisfaction"] = _pick(rng, RATINGS)
        settled = answered
        if row["satisfaction"] == "not" and rng.random() < 0.7:
            kind = "second_answer" if rng.random() < 0.7 else "review"
            row.update(state="reviewing", review_kind=kind,
                       review_due=(answered + timedelta(days=30)).isoformat())  # fmt: skip
            second = answered + timedelta(days=rng.randint(5, 35))
            if second > today:
                return
            outcome = rng.choice(REVIEW_OUTCOMES)
            row.update(
                state="answered", second_answer_date=second.isoformat(), review_outcome=outcome
            )
            if rng.random() < 0.6:
                row["satisfaction"] = _pick(rng, RATINGS_AFTER_REVIEW)
            settled = second
        closed = settled + timedelta(days=rng.randint(3, 20))
        if closed <= today and (row["satisfaction"] != "not" or row["review_kind"]):
            row.update(state="closed", closed_date=closed.isoformat())


def _received_dates(rng: random.Random, n: int, first: date, last: date) -> list[date]:
    span = (last - first).days + 1
    return sorted(first + timedelta(days=rng.randrange(span)) for _ in range(n))


def _chunks(
    walker: _Walker, dates: list[date], first_id: int
) -> Iterator[list[tuple[dict[str, Any], list[str]]]]:
    for offset in range(0, len(dates), CHUNK):
        yield [
            walker.case(first_id + offset + i, d)
            for i, d in enumerate(dates[offset : offset + CHUNK])
        ]


def _warnings(rng: random.Random, row: dict[str, Any], today: date) -> list[tuple[Any, ...]]:
    due = row["due_date"]
    if not due:
        return []
    unit = row["unit"] or row["forwarded_to"]
    out = []
    end = row["concluded_date"] or today.isoformat()
    if end > due:
        red = (date.fromisoformat(due) + timedelta(days=1)).isoformat()
        out.append((row["id"], "red", unit, red))
    if rng.random() < 0.2:
        yellow = (date.fromisoformat(due) - timedelta(days=7)).isoformat()
        if yellow <= end:
            out.append((row["id"], "yellow", unit, yellow))
    return out


_INSERT_CASE = f"INSERT INTO cases ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"  # noqa: S608
_INSERT_TOKENS = (
    "INSERT INTO tokens (lookup_id, case_id, reply_pk, followup_vk, issued_date)"
    " VALUES (?, ?, ?, ?, ?)"
)


def _write_chunk(
    db: sqlite_utils.Database,
    rng: random.Random,
    chunk: list[tuple[dict[str, Any], list[str]]],
    today: date,
    summary: Summary,
    *,
    with_tokens: bool,
) -> None:
    db.conn.executemany(_INSERT_CASE, [tuple(row[c] for c in COLUMNS) for row, _ in chunk])
    tag_rows = [(row["id"], tag, cleared_date(row)) for row, tags in chunk for tag in tags]
    db.conn.executemany(
        "INSERT INTO case_tags (case_id, tag, cleared_date) VALUES (?, ?, ?)", tag_rows
    )
    warning_rows = [w for row, _ in chunk for w in _warnings(rng, row, today)]
    db.conn.executemany(
        "INSERT INTO warnings (case_id, colour, unit, issued_date) VALUES (?, ?, ?, ?)",
        warning_rows,
    )
    if with_tokens:
        tokens = [
            (
                rng.randbytes(16),
                row["id"],
                rng.randbytes(32),
                rng.randbytes(32),
                row["received_date"],
            )
            for row, _ in chunk
        ]
        db.conn.executemany(_INSERT_TOKENS, tokens)
        summary.tokens += len(tokens)
    summary.cases += len(chunk)
    summary.tags += len(tag_rows)
    summary.warnings += len(warning_rows)
    for row, _ in chunk:
        summary.states[row["state"]] = summary.states.get(row["state"], 0) + 1


def synthesize_register(
    db_path: Path,
    n: int,
    seed: int = 0,
    start_month: str = "2025-01",
    months: int = 12,
    *,
    policy: str = "cn-jijian-2020",
    today: date | None = None,
    with_tokens: bool = False,
    with_events: bool = False,
) -> Summary:
    """Append ``n`` synthetic cases received from ``start_month`` over ``months`` months.

    ``today`` (default: the last day of the last month) decides how far each case has got."""
    first, _ = parse_month(start_month)
    end_year, end_month = divmod(first.year * 12 + first.month - 1 + months - 1, 12)
    _, last = parse_month(f"{end_year:04d}-{end_month + 1:02d}")
    day = today or last
    rng = random.Random(seed)  # noqa: S311 - synthetic data, reproducible by seed
    db = connect(db_path)
    walker = _Walker(rng, day, policy)
    summary = Summary()
    first_id = int(db.execute("SELECT COALESCE(max(id), 0) FROM cases").fetchone()[0]) + 1
    for year, top in db.execute(
        "SELECT substr(number, 1, 4), max(number) FROM cases WHERE number IS NOT NULL GROUP BY 1"
    ):
        walker.numbers[int(year)] = int(top.split("-")[1])
    dates = _received_dates(rng, n, first, last)
    db.execute("BEGIN IMMEDIATE")
    try:
        for chunk in _chunks(walker, dates, first_id):
            _write_chunk(db, rng, chunk, day, summary, with_tokens=with_tokens)
            if with_events:
                summary.events += write_events(db, chunk)
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    finally:
        db.conn.close()
    return summary
