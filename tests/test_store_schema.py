"""Schema versions: a store newer than the code, or altered by hand, is refused on open by every
entry point with one line (no traceback), and nothing is written into it."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT
from support import snapshot

from lianxin.store.db import StoreError, connect
from lianxin_cli.main import main


def _store(path: Path) -> Path:
    db = connect(path)
    db.execute("INSERT INTO cases (channel, received_date) VALUES ('letter', '2026-03-01')")
    db.conn.close()
    return path


def _newer(path: Path) -> Path:
    conn = sqlite3.connect(_store(path), isolation_level=None)
    conn.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at)"
        " VALUES ('lianxin', '0999_from_the_future', '2027-01-01')"
    )
    conn.close()
    return path


def _altered(path: Path) -> Path:
    conn = sqlite3.connect(_store(path), isolation_level=None)
    conn.execute("ALTER TABLE cases RENAME COLUMN received_date TO received_on")
    conn.close()
    return path


def test_a_future_migration_row_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    path = _newer(tmp_path / "s.sqlite")
    before = snapshot(path)
    with pytest.raises(StoreError, match="0999_from_the_future is newer than this Lianxin"):
        connect(path)
    with pytest.raises(StoreError, match="newer"):
        connect(path, readonly=True)
    assert snapshot(path) == before


def test_a_renamed_column_is_refused(tmp_path: Path) -> None:
    path = _altered(tmp_path / "s.sqlite")
    with pytest.raises(StoreError, match="table cases has no column received_date"):
        connect(path)


def test_a_store_not_yet_migrated_is_refused_read_only(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE _sqlite_migrations (migration_set TEXT, name TEXT, applied_at TEXT)")
    conn.close()
    with pytest.raises(StoreError, match="older than"):
        connect(path, readonly=True)


@pytest.mark.parametrize("make", [_newer, _altered], ids=["newer", "altered"])
@pytest.mark.parametrize(
    "command",
    [
        ["desk", "list"],
        ["desk", "verify"],
        ["desk", "show", "1"],
        ["desk", "register", "1", "--rank", "x"],
        ["publish", "--keys", "KEYS", "--out", "OUT"],
    ],
    ids=lambda c: " ".join(c[:2]),
)
def test_every_entry_point_refuses_with_one_line(
    tmp_path: Path, keys_dir: Path, make: object, command: list[str]
) -> None:
    path = make(tmp_path / "s.sqlite")  # type: ignore[operator]
    before = snapshot(path)
    args = [
        str(keys_dir) if a == "KEYS" else str(tmp_path / "site") if a == "OUT" else a
        for a in command
    ]
    env = {"LIANXIN_DB": str(path), "LIANXIN_OFFICE_KEY": str(keys_dir), "LIANXIN_OFFICER": "o1"}
    if command[0] == "publish":
        args += ["--db", str(path)]
    result = CliRunner().invoke(main, args, env=env)
    assert isinstance(result.exception, SystemExit) and result.exit_code != 0, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines[-1].startswith("Error:") and "s.sqlite" in lines[-1], result.stderr
    assert "Traceback" not in result.output and len(lines) <= 3
    assert snapshot(path) == before


def test_gateway_serve_refuses_a_newer_store_with_one_line(tmp_path: Path, keys_dir: Path) -> None:
    path = _newer(tmp_path / "s.sqlite")
    result = subprocess.run(
        [sys.executable, "-m", "lianxin_cli", "gateway", "serve", "--db", str(path),
         "--keys", str(keys_dir), "--port", "1"],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("Error:")
    assert "0999_from_the_future" in result.stderr
