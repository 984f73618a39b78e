"""Opening the SQLite store with the settings every component relies on.

WAL so readers (desk, publisher) never block the gateway's writer; ``synchronous=FULL`` so a
committed transaction survives power loss and SIGKILL; foreign keys on; a busy timeout because
the desk and the gateway may both write; ``secure_delete`` so removed content is overwritten.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils

from .migrations import MIGRATIONS
from .schema import SchemaError, check_current, check_versions


class StoreError(Exception):
    """The database cannot be opened or is not a Lianxin store."""


def connect(
    path: Path | str, *, migrate: bool = True, readonly: bool = False, create: bool = True
) -> sqlite_utils.Database:
    """Open (and by default migrate) the store at ``path``; check its schema version.

    ``create=False`` refuses a missing file instead of starting an empty store (a typo in a
    path must not look like an office with no reports). A store written by a newer Lianxin or
    altered by hand raises ``StoreError`` with one line saying which.
    """
    path = Path(path)
    if (readonly or not create) and not path.is_file():
        raise StoreError(f"{path}: no such store")
    try:
        if readonly:
            conn = sqlite3.connect(
                f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
            )
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 10000")
        if not readonly:
            conn.execute("PRAGMA journal_mode = WAL")
            # what is deleted or overwritten (an envelope removed once its content is under
            # the case key, a key wrap revoked) is zeroed in the file, not left in free pages
            conn.execute("PRAGMA secure_delete = ON")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: cannot open as a SQLite database ({exc})") from exc
    db = sqlite_utils.Database(conn)
    try:
        check_versions(db)  # before migrating: never write into a newer schema
        if migrate and not readonly:
            MIGRATIONS.apply(db)
        check_current(db)
    except SchemaError as exc:
        conn.close()
        raise StoreError(f"{path}: {exc}") from exc
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise StoreError(f"{path}: cannot migrate ({exc})") from exc
    return db
