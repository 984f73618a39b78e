"""The roll-up page (下级汇总, ``rollup.md``): the upper office's own figures of a month, each
child office's figures from its verified, published release, and the sum across the children
(:mod:`publisher.rollup`), with two rates per child from the upper office's own register.

The month is the latest the upper office itself released (or, before it released any, the
latest a child released). Per child, from the upper office's register:

* **escalation rate (越级率)**: reports received in the month by the upper office, marked
  escalated (越级) and assigned down to that child (``case_links``), as a share of those plus the
  child's own published items received in the month;
* **assigned cases concluded on time**: cases the upper office assigned to that child whose
  deadline fell in the month, concluded (the child's completion report accepted) by it.

These counts are the upper office's and not published elsewhere, so a rate is shown only when
each of its parts is 0 or reaches the threshold (a rate over a handful of cases would give them
away); otherwise ×.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lianxin.domain.datafiles import load_taxonomy
from lianxin.domain.outcomes import load_outcomes

from .children import ChildRelease, Outcome, cached_releases, default_cache, directory_children
from .context import Build
from .measures import MEASURES_TABLE
from .releases import first_day, last_day, load_releases
from .rollup import RolledTable, Values, audit_child, month_values, roll_up, stored_values
from .tables import TOTAL, table_specs

SUPPRESSED = "×"
MISSING = "—"


def _cell(values: dict[str, int | None] | None, code: str) -> str:
    if values is None or code not in values:
        return MISSING
    value = values[code]
    return SUPPRESSED if value is None else str(value)


def _rate(part: int, whole: int, threshold: int) -> str:
    """A share in percent, or × when a part is small (see the module docstring)."""
    if whole == 0:
        return MISSING
    if whole < threshold or any(0 < n < threshold for n in (part, whole - part)):
        return SUPPRESSED
    return f"{100 * part / whole:.1f}%"


def _linked(db: Any) -> bool:
    return "case_links" in db.table_names()


def escalations(db: Any, office_id: str, month: str) -> int:
    """The upper office's escalated reports of ``month`` assigned down to ``office_id``."""
    if not _linked(db):
        return 0
    row = db.execute(
        "SELECT count(*) FROM cases c JOIN case_links l ON l.case_id = c.id"
        " WHERE l.role = 'upper' AND l.office_id = ? AND c.escalated = 1"
        " AND c.received_date >= ? AND c.received_date <= ?",
        [office_id, first_day(month).isoformat(), last_day(month).isoformat()],
    ).fetchone()
    return int(row[0])


def assigned_on_time(db: Any, office_id: str, month: str) -> tuple[int, int]:
    """(concluded by the deadline, due) for cases assigned to ``office_id`` due in ``month``."""
    if not _linked(db):
        return 0, 0
    row = db.execute(
        "SELECT count(*), coalesce(sum(c.concluded_date IS NOT NULL"
        " AND c.concluded_date <= l.due_date), 0)"
        " FROM case_links l JOIN cases c ON c.id = l.case_id"
        " WHERE l.role = 'upper' AND l.office_id = ? AND l.due_date >= ? AND l.due_date <= ?",
        [office_id, first_day(month).isoformat(), last_day(month).isoformat()],
    ).fetchone()
    return int(row[1]), int(row[0])


def _received(values: Values | None) -> int | None:
    if values is None:
        return None
    return values.get("channel", {}).get(TOTAL)


def rollup_page(build: Build) -> None:
    """Page producer: fill ``build.context["rollup"]`` and write ``data/rollup/MONTH.json``."""
    settings = build.settings
    children = directory_children(build.db)
    cache = settings.children_cache or default_cache(settings.db_path)
    taken, left = cached_releases(children, cache)
    specs = table_specs(load_taxonomy(), load_outcomes())
    own_releases = load_releases(build.db)
    months = sorted(own_releases) or sorted({m for r in taken for m in r.months})
    context: dict[str, Any] = {
        "children": len(children),
        "left_out": [o.as_dict() for o in left],
        "threshold": settings.threshold,
        "month": months[-1] if months else None,
        "columns": [],
        "summary": [],
        "tables": [],
    }
    build.context["rollup"] = context
    if not children or not months:
        return
    month = months[-1]
    own = stored_values({n: t.data for n, t in own_releases.get(month, {}).items()})
    values: dict[str, Values] = {}
    names: dict[str, str] = {}
    for release in taken:
        office = release.child.office_id
        if month not in release.months:
            left.append(_left(release, f"no release for {month}"))
            continue
        try:
            child_values = month_values(release.months[month], month)
        except (KeyError, ValueError) as exc:
            left.append(_left(release, f"release of {month} unreadable ({exc})"))
            continue
        if given := audit_child(child_values, specs):
            left.append(_left(release, f"its release of {month} gives away {given[0]}"))
            continue
        values[office], names[office] = child_values, release.child.name
    context["left_out"] = [o.as_dict() for o in left]
    tables = roll_up(specs, own, values)
    order = sorted(values)
    context["columns"] = [{"id": o, "name": names[o]} for o in order]
    context["summary"] = _summary(build.db, own, values, names, order, month, settings.threshold)
    context["tables"] = [_table(t, order) for t in tables]
    _write_download(build.docs, month, own, values, tables)


def _left(release: ChildRelease, reason: str) -> Outcome:
    child = release.child
    return Outcome(child.office_id, child.name, "cache", len(release.months), reason)


def _summary(
    db: Any,
    own: Values,
    values: dict[str, Values],
    names: dict[str, str],
    order: list[str],
    month: str,
    threshold: int,
) -> list[dict[str, str]]:
    """One row per office: received, concluded, in progress, its on-time rate, and the two rates
    from the upper office's register."""

    def row(name: str, v: Values | None) -> dict[str, str]:
        measures = (v or {}).get(MEASURES_TABLE, {})
        on_time = measures.get("on_time_rate") if v is not None else None
        return {
            "name": name,
            "received": _cell((v or {}).get("channel"), TOTAL) if v is not None else MISSING,
            "concluded": _cell((v or {}).get("caseload"), "concluded"),
            "in_progress": _cell((v or {}).get("caseload"), "in_progress"),
            "on_time": MISSING if on_time is None else f"{on_time:.1f}%",
        }

    rows = [{**row("", own), "own": "1", "escalation": MISSING, "assigned_on_time": MISSING}]
    for office in order:
        child = values[office]
        escalated = escalations(db, office, month)
        received = _received(child)
        escalation = (
            SUPPRESSED
            if received is None
            else _rate(escalated, escalated + int(received), threshold)
        )
        done, due = assigned_on_time(db, office, month)
        rows.append(
            {
                **row(names[office], child),
                "own": "",
                "escalation": escalation,
                "assigned_on_time": _rate(done, due, threshold),
            }
        )
    return rows


def _table(table: RolledTable, order: list[str]) -> dict[str, Any]:
    spec = table.spec
    codes = [(c.code, c.zh, c.en) for c in spec.rows]
    if table.has_total:
        codes.append((TOTAL, "合计", "Total"))
    rows = [
        {
            "zh": zh,
            "en": en,
            "own": _cell(table.own, code),
            "sum": _cell(table.sums, code),
            "children": [_cell(table.children.get(o), code) for o in order],
        }
        for code, zh, en in codes
    ]
    return {
        "name": spec.name,
        "zh": spec.zh,
        "en": spec.en,
        "rows": rows,
        "left_out": table.left_out,
    }


def _write_download(
    docs: Path, month: str, own: Values, values: dict[str, Values], tables: list[RolledTable]
) -> None:
    doc = {
        "month": month,
        "own": {t.spec.name: t.own for t in tables},
        "children": {o: {t.spec.name: t.children.get(o) for t in tables} for o in sorted(values)},
        "sums": {t.spec.name: t.sums for t in tables},
    }
    path = docs / "data" / "rollup" / f"{month}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, ensure_ascii=False, sort_keys=True, indent=1) + "\n")
