"""Online backup and restore; a backup that fails verify is refused and nothing changes."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest

from desk.backup import backup, restore
from desk.refusals import BadValue, Refused
from desk.register import Registration, register
from tests.desk_support import intake_letter, make_desk, new_store, office_keys
from tests.support import snapshot

DAY = date(2026, 2, 10)


@pytest.fixture
def store(tmp_path: Path, keys_dir: Path) -> Path:
    db_path = new_store(tmp_path / "live.sqlite")
    desk = make_desk(db_path, DAY)
    keys = office_keys(keys_dir)
    for marker in ("一", "二"):
        case_id = intake_letter(desk, keys, marker).case_id
        register(
            desk,
            case_id,
            Registration("accusation", "work.other", region="county", real_name="claimed"),
        )
    desk.close()
    return db_path


def _rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_backup_then_restore_brings_the_register_back(
    tmp_path: Path, store: Path, keys_dir: Path
) -> None:
    copy = tmp_path / "backup.sqlite"
    result = backup(store, copy)
    assert result.report.ok and result.report.cases == 2
    with pytest.raises(BadValue, match="already exists"):
        backup(store, copy)
    expected = snapshot(copy)
    desk = make_desk(store, DAY)
    intake_letter(desk, office_keys(keys_dir), "三")  # work after the backup
    desk.close()
    restored = restore(copy, store, today="2026-02-11")
    assert snapshot(store) == expected
    assert restored.saved_previous == store.with_name("live.sqlite.before-restore-2026-02-11")
    assert _rows(restored.saved_previous, "SELECT count(*) FROM cases") == [(3,)]


def test_a_tampered_backup_is_refused(tmp_path: Path, store: Path) -> None:
    copy = tmp_path / "backup.sqlite"
    backup(store, copy)
    conn = sqlite3.connect(copy)
    conn.execute(
        "UPDATE events SET actor = '某人'"
        " WHERE seq = (SELECT min(seq) FROM events WHERE case_id = 1) + 1"
    )
    conn.commit()
    conn.close()
    before = snapshot(store)
    with pytest.raises(Refused, match=r"fails verify .* first: chain: event \d+, case 1"):
        restore(copy, store, today="2026-02-11")
    assert snapshot(store) == before
    assert not store.with_name("live.sqlite.before-restore-2026-02-11").exists()


def test_a_file_that_is_not_a_store_is_refused(tmp_path: Path, store: Path) -> None:
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database" * 100)
    with pytest.raises(Refused, match="not a Lianxin store"):
        restore(junk, store, today="2026-02-11")
    with pytest.raises(BadValue, match="no backup file"):
        restore(tmp_path / "missing.sqlite", store, today="2026-02-11")
