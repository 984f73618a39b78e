"""Status shards: a token reads its own row and answer; nobody else reads anything; every shard
looks the same from outside."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import sqlite_utils

from lianxin.protocol import Token
from lianxin.protocol.sealing import seal_answer_for_reporter
from lianxin.status import parse_shard, read_status
from lianxin.store.db import connect
from publisher.status import MIN_ROWS, build_shards, collect_rows, seal_rows, write_status

TODAY = date(2026, 11, 23)


def _register(db: sqlite_utils.Database, n: int, answered_every: int = 3) -> list[Token]:
    tokens = []
    with db.atomic():
        for i in range(n):
            state = "answered" if i % answered_every == 0 else "accepted"
            case = db.execute(
                "INSERT INTO cases (channel, received_date, state, accepted_date, due_date,"
                " answered_date) VALUES ('online', '2026-10-01', ?, '2026-10-08', ?, ?)",
                [state, "2026-11-20" if i % 2 else "2026-12-30",
                 "2026-11-01" if state == "answered" else None],
            ).lastrowid
            token = Token.generate()
            keys = token.keys()
            db.execute("INSERT INTO tokens VALUES (?, ?, ?, ?, '2026-10-01')",
                       [keys.lookup_id, case, bytes(keys.reply_public),
                        bytes(keys.followup_verify)])
            if state == "answered":
                sealed = seal_answer_for_reporter({"text": f"答复{i}：经核查，问题部分属实。"},
                                                  bytes(keys.reply_public))
                db.execute("INSERT INTO answers (case_id, lookup_id, kind, sealed, created_date)"
                           " VALUES (?, ?, 'answer', ?, '2026-11-01')",
                           [case, keys.lookup_id, sealed])
            tokens.append(token)
    return tokens


def _publish(db: sqlite_utils.Database, site: Path) -> None:
    rows = collect_rows(db, TODAY, date(2026, 11, 30))
    write_status(site / "status", build_shards(seal_rows(rows)), TODAY)


@pytest.mark.parametrize("cases", [5, 700])
def test_token_reads_status_and_answer_wrong_token_reads_nothing(tmp_path: Path,
                                                                 cases: int) -> None:
    db = connect(tmp_path / "db.sqlite")
    tokens = _register(db, cases)
    _publish(db, tmp_path / "site")
    for i in (0, 1, cases - 1):
        found = read_status(str(tmp_path / "site"), tokens[i])
        assert found is not None
        assert found.status["steps"][0] == {"step": "received", "date": "2026-10-01"}
        if i % 3 == 0:
            assert found.status["colour"] == "blue"
            assert found.answers[0]["text"].startswith(f"答复{i}")
        else:
            assert found.status["colour"] == ("red" if i % 2 else "green")
            assert found.answers == []
    assert read_status(str(tmp_path / "site"), Token.generate()) is None


def test_shards_are_equal_in_size_and_hold_at_least_64_rows(tmp_path: Path) -> None:
    db = connect(tmp_path / "db.sqlite")
    _register(db, 1500)
    _publish(db, tmp_path / "site")
    index = json.loads((tmp_path / "site/status/index.json").read_text())
    assert index["shards"] > 1
    sizes = set()
    for i in range(index["shards"]):
        data = (tmp_path / f"site/status/{i}.bin").read_bytes()
        sizes.add(len(data))
        assert len(parse_shard(data)) >= MIN_ROWS
    assert sizes == {index["shard_bytes"]}
    assert index["shard_bytes"] <= 64 * 1024


def test_rebuild_uses_fresh_encryption(tmp_path: Path) -> None:
    db = connect(tmp_path / "db.sqlite")
    _register(db, 3)
    _publish(db, tmp_path / "a")
    _publish(db, tmp_path / "b")
    a = parse_shard((tmp_path / "a/status/0.bin").read_bytes())
    b = parse_shard((tmp_path / "b/status/0.bin").read_bytes())
    real_a = {row[0]: row[1] for row in a}
    real_b = {row[0]: row[1] for row in b}
    common = set(real_a) & set(real_b)
    assert len(common) == 3  # the real rows; dummies are new each build
    assert all(real_a[k] != real_b[k] for k in common)
