"""Online backup and checked restore, with SQLite's backup API (safe while the gateway writes).

``backup`` copies the live store page by page into a new file, then runs ``verify`` on the
copy. ``restore`` verifies the file first and refuses one that fails (an edited event, a row
changed outside the desk, a file that is not a Lianxin store); before overwriting, it saves the
current store beside itself so a mistaken restore can be undone.
"""

from __future__ import annotations

import contextlib
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from .refusals import BadValue, Refused
from .verify import Report, verify_register


@dataclass(frozen=True)
class BackupResult:
    """Where the copy went and what ``verify`` said about it."""

    path: Path
    report: Report
    saved_previous: Path | None = None


def _copy(source: Path, target: Path) -> None:
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.execute("PRAGMA busy_timeout = 10000")
        src.backup(dst, pages=1024)
    finally:
        dst.close()
        src.close()


def _verify_file(path: Path) -> Report:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return verify_register(sqlite_utils.Database(conn))
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise Refused(f"{path}: not a Lianxin store ({exc})", argument="PATH") from exc


def backup(db_path: Path, target: Path) -> BackupResult:
    """Copy the store at ``db_path`` to ``target`` (which must not exist) and verify the copy."""
    if not db_path.is_file():
        raise BadValue(f"no database at {db_path}", argument="--db")
    if target.exists():
        raise BadValue(f"{target} already exists; choose a new file", argument="PATH")
    if not target.parent.is_dir():
        raise BadValue(f"no folder {target.parent}", argument="PATH")
    partial = target.with_name(target.name + ".partial")
    try:
        _copy(db_path, partial)
        report = _verify_file(partial)
        partial.rename(target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return BackupResult(target, report)


def restore(source: Path, db_path: Path, *, today: str) -> BackupResult:
    """Replace the store at ``db_path`` with the verified backup ``source``."""
    if not source.is_file():
        raise BadValue(f"no backup file at {source}", argument="PATH")
    report = _verify_file(source)
    if not report.ok:
        first = report.problems[0]
        raise Refused(
            f"{source} fails verify ({len(report.problems)} problem(s), first: {first}); "
            "not restored",
            argument="PATH",
        )
    saved = None
    if db_path.exists():
        saved = db_path.with_name(f"{db_path.name}.before-restore-{today}")
        n = 1
        while saved.exists():
            n += 1
            saved = db_path.with_name(f"{db_path.name}.before-restore-{today}-{n}")
        _copy(db_path, saved)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(db_path)
    try:
        dst.execute("PRAGMA busy_timeout = 10000")
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    return BackupResult(db_path, report, saved)
