"""Checking that a store's schema is the one this version of Lianxin writes.

A store migrated by a newer Lianxin (a migration this code does not know) or altered by hand (a
table or column renamed or dropped) is refused on open with one line that says which, before any
command reads or writes it: reading it would give wrong answers, writing it could corrupt it.
"""

from __future__ import annotations

import sqlite3
from functools import cache

import sqlite_utils

from .migrations import MIGRATIONS


class SchemaError(Exception):
    """The store's schema is not the one this code knows."""


def applied_names(db: sqlite_utils.Database) -> list[str]:
    """The migrations recorded in the store, in the order they were applied."""
    return [m.name for m in MIGRATIONS.applied(db)]


def check_versions(db: sqlite_utils.Database) -> None:
    """Refuse a store that records a migration this code does not know (a newer Lianxin's)."""
    known = {m.name for m in MIGRATIONS._migrations}
    unknown = [name for name in applied_names(db) if name not in known]
    if unknown:
        raise SchemaError(
            f"schema version {unknown[-1]} is newer than this Lianxin knows"
            f" (latest known: {latest()}); upgrade Lianxin to open this store"
        )


def check_current(db: sqlite_utils.Database) -> None:
    """Refuse a store that is not fully migrated or whose tables differ from the expected ones."""
    check_versions(db)
    if MIGRATIONS.pending(db):
        raise SchemaError(
            f"schema version is older than {latest()}; open the store once with"
            " `lianxin gateway serve` or a desk command to migrate it"
        )
    actual = _columns(db.conn)
    for table, columns in expected_columns().items():
        found = actual.get(table)
        if found is None:
            raise SchemaError(f"schema altered: table {table} is missing")
        missing = [c for c in columns if c not in found]
        if missing:
            raise SchemaError(f"schema altered: table {table} has no column {missing[0]}")


def latest() -> str:
    """The newest migration this code knows."""
    return MIGRATIONS._migrations[-1].name


@cache
def expected_columns() -> dict[str, tuple[str, ...]]:
    """The tables and columns a freshly migrated store has (computed once, in memory)."""
    db = sqlite_utils.Database(sqlite3.connect(":memory:", isolation_level=None))
    MIGRATIONS.apply(db)
    columns = _columns(db.conn)
    db.conn.close()
    return columns


def _columns(conn: sqlite3.Connection) -> dict[str, tuple[str, ...]]:
    tables = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    return {
        table: tuple(row[1] for row in conn.execute(f"PRAGMA table_info([{table}])"))
        for table in tables
    }
