"""Whether the gateway can accept reports, and if not, why: what ``GET /v1/health`` answers.

The HTTP process never writes the store, so it checks what would make the intake worker's next
commit fail: the store file and its folder must be writable (not immutable, not on a read-only
mount), the disk must have room, the store must be readable, the worker must run, and the
worker's last commit must not have failed (a failure counts for ``FAILURE_MEMORY_SECONDS``
unless a commit succeeds first). A schema the code does not know is refused at start instead.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

log = logging.getLogger("lianxin.gateway")

MIN_FREE_BYTES = 64 * 1024 * 1024
FAILURE_MEMORY_SECONDS = 60.0

# reason -> what the operator reads in the log and in the health answer
REASONS = {
    "intake-down": "the intake worker is not running (restarting)",
    "store-unreadable": "the store cannot be read",
    "store-read-only": "the store or its folder is not writable (read-only mount or immutable)",
    "disk-full": "the disk holding the store has too little free space",
    "store-failing": "the last commit failed",
}


@dataclass(frozen=True)
class Health:
    """The answer of ``GET /v1/health``."""

    accepting: bool
    reason: str | None = None  # a key of REASONS
    detail: str = ""

    def to_json(self) -> dict[str, object]:
        """The public part: status and reason code (the path stays in the log)."""
        if self.accepting:
            return {"status": "ok", "accepting": True}
        return {"status": "failing", "accepting": False, "reason": self.reason}


def check_health(
    db_path: Path,
    reader: sqlite_utils.Database,
    worker_running: bool,
    store_error: tuple[str, float] | None,
    *,
    min_free_bytes: int,
) -> Health:
    """Check the worker, the store, its folder and its disk."""
    return _check(db_path, reader, worker_running, store_error, min_free_bytes)


def log_change(previous: Health | None, health: Health, db_path: Path) -> None:
    """One log line each time the answer changes (never per request)."""
    if previous is not None and previous.reason == health.reason:
        return
    if health.accepting:
        log.info("lianxin gateway: accepting reports (store %s)", db_path)
    else:
        log.error(
            "lianxin gateway: cannot accept reports: %s (store %s%s)",
            REASONS[health.reason or "store-failing"],
            db_path,
            f": {health.detail}" if health.detail else "",
        )


def _check(
    db_path: Path,
    reader: sqlite_utils.Database,
    worker_running: bool,
    store_error: tuple[str, float] | None,
    min_free_bytes: int,
) -> Health:
    if not worker_running:
        return Health(False, "intake-down")
    try:
        reader.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()
    except sqlite3.Error as exc:
        return Health(False, "store-unreadable", getattr(exc, "sqlite_errorname", "") or "")
    folder = db_path.resolve().parent
    writable = [db_path, folder] + [p for p in _sidecars(db_path) if p.exists()]
    for path in writable:
        if not os.access(path, os.W_OK):
            return Health(False, "store-read-only", f"{path.name} not writable")
    try:
        stat = os.statvfs(folder)
    except OSError as exc:
        return Health(False, "store-unreadable", type(exc).__name__)
    if stat.f_flag & os.ST_RDONLY:
        return Health(False, "store-read-only", "read-only file system")
    free = stat.f_bavail * stat.f_frsize
    if free < min_free_bytes:
        return Health(False, "disk-full", f"{free // (1024 * 1024)} MiB free")
    if store_error is not None:
        name, when = store_error
        if time.monotonic() - when < FAILURE_MEMORY_SECONDS:
            return Health(False, "store-failing", name)
    return Health(True)


def _sidecars(db_path: Path) -> list[Path]:
    return [Path(f"{db_path}-wal"), Path(f"{db_path}-shm")]
