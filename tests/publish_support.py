"""Helpers for the statistics and privacy tests: registers written straight into a real store,
the statistics producer run on its own (no MkDocs), and a reader's view of a published month."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import date
from fractions import Fraction
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any

from lianxin.domain.datafiles import load_taxonomy
from lianxin.domain.outcomes import Outcome, load_outcomes
from lianxin.domain.taxonomy import Catalogue, Taxonomy
from lianxin.store.db import connect
from publisher.build import Build, PublishSettings
from publisher.statpage import statistics_page
from publisher.tables import LINKED_ROWS, TOTAL, TableSpec, table_specs

CASE_COLUMNS = (
    "channel", "received_date", "state", "number", "item_type", "problem_type", "rank", "region",
    "real_name", "repeat_of", "registered_date", "route", "accepted_date", "due_date",
    "concluded_date", "answer_due", "answered_date", "satisfaction", "review_kind",
    "second_answer_date", "review_outcome",
)  # fmt: skip


def insert_cases(db_path: Path, cases: Iterable[Mapping[str, Any]]) -> list[int]:
    """Insert cases given as {column: value} (missing columns stay NULL); tags under "tags"."""
    db = connect(db_path)
    ids = []
    try:
        db.execute("BEGIN")
        start = int(db.execute("SELECT count(*) FROM cases").fetchone()[0])
        for n, case in enumerate(cases, start):
            row = {"state": "received", **{k: v for k, v in case.items() if k != "tags"}}
            if row.get("number"):
                row["number"] = f"T-{n:07d}"  # registration numbers are unique
            names = [c for c in CASE_COLUMNS if c in row]
            cursor = db.execute(
                f"INSERT INTO cases ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                [row[c] for c in names],
            )
            case_id = int(cursor.lastrowid or 0)
            ids.append(case_id)
            for tag, cleared in case.get("tags", ()):
                db.execute("INSERT INTO case_tags VALUES (?, ?, ?)", [case_id, tag, cleared])
        db.execute("COMMIT")
    finally:
        db.conn.close()
    return ids


@cache
def lists() -> tuple[Taxonomy, Catalogue[Outcome]]:
    """The desk's lists (loaded once: reading the YAML is the slow part of a small build)."""
    return load_taxonomy(), load_outcomes()


def specs() -> tuple[TableSpec, ...]:
    """The published tables."""
    return table_specs(*lists())


def run_statistics(
    db_path: Path, work: Path, today: date, *, threshold: int = 10, dp: float | None = None
) -> tuple[Path, dict[str, Any]]:
    """Run the statistics producer alone; return the docs folder and the page context."""
    settings = PublishSettings(
        db_path, work / "keys", work / "site", today, threshold=threshold, dp_epsilon=dp
    )
    db = connect(db_path)
    try:
        build = Build(settings, work, db)
        build.docs.mkdir(parents=True, exist_ok=True)
        statistics_page(build)
    finally:
        db.conn.close()
    return build.docs, build.context["statistics"]


def release_file(docs: Path, month: str) -> list[dict[str, Any]]:
    """The published records of one month."""
    records: list[dict[str, Any]] = json.loads(
        (docs / "data" / "releases" / f"{month}.json").read_text(encoding="utf-8")
    )
    return records


Var = tuple[str, str]


def reader_equations(
    records: list[dict[str, Any]], tables: Iterable[TableSpec]
) -> list[dict[Var, int]]:
    """What a reader knows about a month: every table with a total adds up, tables of one group
    show the same total, and rows counting the same cases (not yet registered) are equal."""
    present = {(r["table"], r["category"]) for r in records}
    groups: dict[str, list[str]] = {}
    equations: list[dict[Var, int]] = []
    for spec in tables:
        if (spec.name, TOTAL) not in present:
            continue
        equations.append({**{(spec.name, c): 1 for c in spec.codes()}, (spec.name, TOTAL): -1})
        if spec.group is not None:
            groups.setdefault(spec.group.name, []).append(spec.name)
    for members in groups.values():
        for a, b in pairwise(members):
            equations.append({(a, TOTAL): 1, (b, TOTAL): -1})
    for code, linked in LINKED_ROWS.items():
        names = [t for t in linked if (t, code) in present]
        for a, b in pairwise(names):
            equations.append({(a, code): 1, (b, code): -1})
    return equations


def recoverable(records: list[dict[str, Any]], equations: list[dict[Var, int]]) -> list[Var]:
    """Suppressed entries the equations pin down, given every published value.

    Independent of ``publisher.suppression``: x is determined iff every solution of the
    homogeneous system over the unknowns has x = 0, i.e. x has zero weight in a basis of its
    null space (read off the reduced row echelon form)."""
    unknown = sorted({(r["table"], r["category"]) for r in records if r["value"] is None})
    rows = [[Fraction(eq.get(x, 0)) for x in unknown] for eq in equations]
    rows = [row for row in rows if any(row)]
    pivots: list[int] = []
    r = 0
    for c in range(len(unknown)):
        p = next((k for k in range(r, len(rows)) if rows[k][c] != 0), None)
        if p is None:
            continue
        rows[r], rows[p] = rows[p], rows[r]
        rows[r] = [v / rows[r][c] for v in rows[r]]
        for k in range(len(rows)):
            if k != r and rows[k][c] != 0:
                f = rows[k][c]
                rows[k] = [a - f * b for a, b in zip(rows[k], rows[r], strict=True)]
        pivots.append(c)
        r += 1
    free = [c for c in range(len(unknown)) if c not in pivots]
    # Null-space basis: one vector per free column f (x_f = 1, pivot x_p = -rows[p][f]).
    return [unknown[c] for n, c in enumerate(pivots) if all(rows[n][f] == 0 for f in free)]


def publish_sample_site(root: Path, today: date, *, cases: int = 1500, months: int = 14) -> Path:
    """A whole site (MkDocs and all) over ``months`` closed months of a synthetic register that
    ends with the month before ``today``; returns the site folder."""
    from desk.synth import synthesize_register
    from lianxin.keys import init_keys
    from publisher.build import publish

    keys_dir = root / "keys"
    if not keys_dir.exists():
        init_keys(keys_dir)
    db_path = root / "lianxin.sqlite"
    first = today.year * 12 + today.month - 1 - months
    synthesize_register(
        db_path, cases, seed=3, start_month=f"{first // 12:04d}-{first % 12 + 1:02d}",
        months=months, today=today,
    )  # fmt: skip
    site = root / "site"
    publish(PublishSettings(db_path, keys_dir, site, today))
    return site
