"""Nothing acknowledged may depend on one file (issue 13): the WAL is checkpointed by time, and a
continuous replica (Litestream) restores a store in which every acknowledged token resolves."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import GatewayProcess
from support import post, sealed_followup, sealed_report

from lianxin.keys import load_keyring
from lianxin.protocol import Token
from lianxin.store.db import connect
from lianxin.store.events import verify_chain

LITESTREAM = Path(sys.executable).parent / "litestream"
WAIT_SECONDS = 60  # bound on every wait below; each returns as soon as its condition holds


def _rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    except sqlite3.Error:
        return []
    finally:
        conn.close()


def test_the_main_file_alone_catches_up_without_more_traffic(
    start_gateway: Callable[..., GatewayProcess], tmp_path: Path
) -> None:
    """A copy of the main database file (not the WAL) taken while the gateway runs holds an
    acknowledged report once the timed checkpoint has run, with no further request."""
    gw = start_gateway()
    answer = post(gw.url, "/v1/reports", sealed_report(load_keyring(gw.keys_dir)))
    assert answer.status_code == 201
    copy = tmp_path / "copy.sqlite"
    deadline = time.monotonic() + WAIT_SECONDS
    count = 0
    while time.monotonic() < deadline and count == 0:
        shutil.copyfile(gw.db_path, copy)  # the main file only, as a naive file backup would
        count = len(_rows(copy, "SELECT receipt_id FROM submissions"))
        time.sleep(0.5)
    assert count == 1, "the acknowledged report lived only in the WAL"


def _restore(replica: Path, out: Path) -> None:
    out.unlink(missing_ok=True)
    subprocess.run(
        [str(LITESTREAM), "restore", "-o", str(out), f"file://{replica}"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip


@pytest.mark.slow
def test_restore_drill_primary_lost_every_acknowledged_token_resolves(
    start_gateway: Callable[..., GatewayProcess], tmp_path: Path
) -> None:
    primary_dir, replica = tmp_path / "primary", tmp_path / "replica"
    primary_dir.mkdir()
    gw = start_gateway(db_path=primary_dir / "lianxin.sqlite")
    replicator = subprocess.Popen(
        [str(LITESTREAM), "replicate", str(gw.db_path), f"file://{replica}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        keyring = load_keyring(gw.keys_dir)
        tokens: dict[str, bytes] = {}
        for _ in range(5):
            answer = post(gw.url, "/v1/reports", sealed_report(keyring))
            assert answer.status_code == 201
            tokens[answer.json()["token"]] = bytes(
                Token.parse(answer.json()["token"]).keys().lookup_id
            )
        # Replication is asynchronous: wait (bounded) until the replica has caught up, as the
        # operator's guide says to check before trusting it.
        probe = tmp_path / "probe.sqlite"
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            if replica.exists():
                try:
                    _restore(replica, probe)
                except subprocess.CalledProcessError:
                    pass
                if len(_rows(probe, "SELECT lookup_id FROM tokens")) == len(tokens):
                    break
            time.sleep(0.5)
        # The primary disk is lost: the gateway dies and its folder is gone.
        gw.kill()
    finally:
        replicator.kill()
        replicator.wait()
    shutil.rmtree(primary_dir)

    restored = tmp_path / "restored" / "lianxin.sqlite"
    restored.parent.mkdir()
    _restore(replica, restored)
    db = connect(restored)  # the schema check passes on the restored store
    stored = {bytes(row[0]) for row in db.execute("SELECT lookup_id FROM tokens")}
    assert set(tokens.values()) <= stored
    assert verify_chain(db) == []
    db.conn.close()

    # Every acknowledged token resolves: a gateway on the restored store takes its follow-ups.
    again = start_gateway(db_path=restored)
    for token in tokens:
        followup = sealed_followup(
            keyring, Token.parse(token).keys(), {"type": "material", "text": "补充材料"}
        )
        answer = post(again.url, "/v1/followups", followup)
        assert answer.status_code == 201, answer.text
