"""Monthly releases: which months are closed, and keeping each month's published tables for good.

A month is released at the first build after it has ended; the month in progress is never
published. Its tables are computed once, suppressed (and, if asked, made noisy), and stored in the
``releases`` table, one row per month and table. Every later build shows the stored figures, so a
rebuild after late cases arrive cannot change a published number, nor publish a difference that
isolates those cases, nor redraw noise that readers could average away.

Nothing is revised: a case registered late for a released month is in no published figure for
that month. A table added to the fixed set later is computed only for months not yet released, so
a stored release never gains a table whose suppression was not worked out together with the rest.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlite_utils

from .errors import PublisherError

Month = str
"""A calendar month as ``YYYY-MM``."""


class ReleaseStoreError(PublisherError):
    """The release records cannot be read or written."""


@dataclass(frozen=True)
class StoredTable:
    """One published table of one month, exactly as stored."""

    month: Month
    name: str
    computed_date: str
    params: dict[str, Any]
    data: dict[str, Any]


def month_of(day: date) -> Month:
    """The month a day falls in."""
    return f"{day.year:04d}-{day.month:02d}"


def first_day(month: Month) -> date:
    """The first day of a month."""
    return date(int(month[:4]), int(month[5:7]), 1)


def next_month(month: Month) -> Month:
    """The month after ``month``."""
    year, mon = int(month[:4]), int(month[5:7])
    return f"{year + mon // 12:04d}-{mon % 12 + 1:02d}"


def previous_month(month: Month) -> Month:
    """The month before ``month``."""
    year, mon = int(month[:4]), int(month[5:7])
    return f"{year - (mon == 1):04d}-{(mon - 2) % 12 + 1:02d}"


def last_day(month: Month) -> date:
    """The last day of a month (the reference date of its stocks)."""
    return first_day(next_month(month)) - timedelta(days=1)


def months_between(first: Month, last: Month) -> list[Month]:
    """Every month from ``first`` to ``last`` inclusive (empty when ``first`` is later)."""
    months: list[Month] = []
    month = first
    while month <= last:
        months.append(month)
        month = next_month(month)
    return months


def closed_months(db: sqlite_utils.Database, today: date) -> list[Month]:
    """Months from the first case received up to the last month that ended before ``today``."""
    row = db.execute("SELECT min(received_date) FROM cases").fetchone()
    if not row or not row[0]:
        return []
    try:
        first = month_of(date.fromisoformat(str(row[0])[:10]))
    except ValueError as exc:
        raise ReleaseStoreError(f"cases.received_date holds {row[0]!r}, not a date") from exc
    current = month_of(today)
    return [m for m in months_between(first, current) if m < current]


def load_releases(db: sqlite_utils.Database) -> dict[Month, dict[str, StoredTable]]:
    """Every stored release, by month and table name."""
    found: dict[Month, dict[str, StoredTable]] = {}
    try:
        rows = db.execute(
            "SELECT month, table_name, computed_date, params, data FROM releases"
            " ORDER BY month, table_name"
        ).fetchall()
    except sqlite3.DatabaseError as exc:
        raise ReleaseStoreError(f"cannot read the release records: {exc}") from exc
    for month, name, computed, params, data in rows:
        try:
            table = StoredTable(month, name, computed, json.loads(params), json.loads(data))
        except json.JSONDecodeError as exc:
            raise ReleaseStoreError(f"release {month}/{name} is not valid JSON: {exc}") from exc
        found.setdefault(month, {})[name] = table
    return found


def store_month(
    db: sqlite_utils.Database,
    month: Month,
    computed: date,
    tables: Mapping[str, tuple[Mapping[str, Any], Mapping[str, Any]]],
) -> None:
    """Store one month's tables (name -> (params, data)) in one transaction.

    A plain INSERT, never an upsert: if another build stored the month meanwhile, this one fails
    rather than overwrite figures that may already be public.
    """
    try:
        db.execute("BEGIN IMMEDIATE")
        try:
            for name, (params, data) in sorted(tables.items()):
                db.execute(
                    "INSERT INTO releases (month, table_name, computed_date, params, data)"
                    " VALUES (?, ?, ?, ?, ?)",
                    [month, name, computed.isoformat(), _dump(params), _dump(data)],
                )
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    except sqlite3.DatabaseError as exc:
        raise ReleaseStoreError(f"cannot store the release of {month}: {exc}") from exc


def _dump(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
