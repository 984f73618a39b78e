"""The store: pragmas, migrations on a database with data, and the hash-chained event log."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlite_utils

from lianxin.store.db import StoreError, connect
from lianxin.store.events import append_event, chain_head, verify_chain
from lianxin.store.migrations import MIGRATIONS


def _db_with_events(path: Path, n: int = 5) -> None:
    db = connect(path)
    with db.atomic():
        for i in range(n):
            case = db.execute(
                "INSERT INTO cases (channel, received_date) VALUES ('letter', '2026-03-01')"
            ).lastrowid
            append_event(
                db,
                int(case or 0),
                "received",
                actor="desk:officer1",
                at="2026-03-01",
                data={"i": i, "note": "登记"},
            )
    db.conn.close()


def test_store_runs_in_wal_with_full_sync(tmp_path: Path) -> None:
    db = connect(tmp_path / "s.sqlite")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_migrations_are_recorded_and_idempotent_on_a_database_with_data(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    _db_with_events(path)
    db = connect(path)  # applies nothing new, keeps the data
    assert [m.name for m in MIGRATIONS.applied(db)][:1] == ["0001_intake"]
    assert MIGRATIONS.pending(db) == []
    assert db.execute("SELECT count(*) FROM events").fetchone() == (5,)
    assert verify_chain(db) == []


def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.sqlite"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="junk.sqlite"):
        connect(path)


def _raw(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    return conn


def test_edited_event_is_reported_with_case_and_position(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    _db_with_events(path)
    _raw(path).execute("UPDATE events SET data = '{\"i\":9}' WHERE seq = 3")
    [problem] = verify_chain(connect(path))
    assert (problem.position, problem.case_id) == (3, 3)
    assert "changed" in str(problem)


def test_deleted_event_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    _db_with_events(path)
    _raw(path).execute("DELETE FROM events WHERE seq = 2")
    [problem] = verify_chain(connect(path))
    assert problem.position == 2 and "missing" in str(problem)


def test_deleted_last_event_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    _db_with_events(path)
    _raw(path).execute("DELETE FROM events WHERE seq = 5")
    [problem] = verify_chain(connect(path))
    assert problem.position == 5 and "deleted" in str(problem)


def test_reordered_events_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    _db_with_events(path)
    conn = _raw(path)
    conn.execute("UPDATE events SET seq = 100 WHERE seq = 2")
    conn.execute("UPDATE events SET seq = 2 WHERE seq = 3")
    conn.execute("UPDATE events SET seq = 3 WHERE seq = 100")
    [problem] = verify_chain(connect(path))
    assert problem.position == 2


def _steps_to_append(db: sqlite_utils.Database, case: int) -> int:
    """SQLite virtual-machine steps (counted by the progress handler) of one append_event."""
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0

    db.conn.set_progress_handler(count, 1)
    try:
        append_event(db, case, "received", actor="gateway", at="2026-03-01", data={"n": 1})
    finally:
        db.conn.set_progress_handler(None, 1)
    return steps


def test_appending_an_event_costs_the_same_however_long_the_log(tmp_path: Path) -> None:
    """The gateway appends an untimed event for every report: finding the chain's head must
    not walk back over the log (it once looked for the last timed event, a scan of every
    gateway event since the last desk action, so the gateway slowed down as its store grew)."""
    db = connect(tmp_path / "s.sqlite")
    case = int(
        db.execute("INSERT INTO cases (channel, received_date) VALUES ('online', 'x')").lastrowid
        or 0
    )
    append_event(db, case, "noted", actor="desk:o1", at="2026-03-01", time="2026-03-01T08:00:00Z")
    first = _steps_to_append(db, case)
    with db.atomic():
        for _ in range(3000):
            append_event(db, case, "received", actor="gateway", at="2026-03-01")
    later = _steps_to_append(db, case)
    assert later <= first + 50, (first, later)
    assert verify_chain(db) == []


def test_the_chain_head_time_costs_the_same_however_many_gateway_events_follow(
    tmp_path: Path,
) -> None:
    """Every desk action reads the latest timed event (``chain_head``): it must not walk back
    over the untimed gateway events written since (migration 0013_timed_events indexes the
    timed ones; the gateway's events stay out of that index)."""
    db = connect(tmp_path / "s.sqlite")
    case = int(
        db.execute("INSERT INTO cases (channel, received_date) VALUES ('online', 'x')").lastrowid
        or 0
    )
    append_event(db, case, "noted", actor="desk:o1", at="2026-03-01", time="2026-03-01T08:00:00Z")
    first = _steps(db, lambda: chain_head(db))
    with db.atomic():
        for _ in range(3000):
            append_event(db, case, "received", actor="gateway", at="2026-03-01")
    later = _steps(db, lambda: chain_head(db))
    assert chain_head(db)[2] == "2026-03-01T08:00:00Z"
    assert chain_head(db)[0] == 3001
    assert later <= first + 50, (first, later)


def _steps(db: sqlite_utils.Database, action: Callable[[], object]) -> int:
    """SQLite virtual-machine steps (counted by the progress handler) of ``action``."""
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0

    db.conn.set_progress_handler(count, 1)
    try:
        action()
    finally:
        db.conn.set_progress_handler(None, 1)
    return steps
