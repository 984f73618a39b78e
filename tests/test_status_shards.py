"""Status shards: a token reads its own row and answer; nobody else reads anything; every shard
looks the same from outside."""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from lianxin.protocol import Token
from lianxin.protocol.sealing import seal_answer_for_reporter
from lianxin.status import parse_shard, read_status
from lianxin.store.db import connect
from publisher.status import (
    MAX_SHARD_BYTES,
    MIN_ROWS,
    STEPS,
    StatusSet,
    shard_of,
    status_documents,
    write_status,
)

TODAY = date(2026, 11, 23)
UNTIL = date(2026, 11, 30)


def _register(db: sqlite_utils.Database, n: int, answered_every: int = 3) -> list[Token]:
    tokens = []
    with db.atomic():
        for i in range(n):
            state = "answered" if i % answered_every == 0 else "accepted"
            case = db.execute(
                "INSERT INTO cases (channel, received_date, state, accepted_date, due_date,"
                " answered_date) VALUES ('online', '2026-10-01', ?, '2026-10-08', ?, ?)",
                [
                    state,
                    "2026-11-20" if i % 2 else "2026-12-30",
                    "2026-11-01" if state == "answered" else None,
                ],
            ).lastrowid
            token = Token.generate()
            keys = token.keys()
            db.execute(
                "INSERT INTO tokens VALUES (?, ?, ?, ?, '2026-10-01')",
                [keys.lookup_id, case, bytes(keys.reply_public), bytes(keys.followup_verify)],
            )
            if state == "answered":
                sealed = seal_answer_for_reporter(
                    {"text": f"答复{i}：经核查，问题部分属实。"}, bytes(keys.reply_public)
                )
                db.execute(
                    "INSERT INTO answers (case_id, lookup_id, kind, sealed, created_date)"
                    " VALUES (?, ?, 'answer', ?, '2026-11-01')",
                    [case, keys.lookup_id, sealed],
                )
            tokens.append(token)
    return tokens


def _publish(db: sqlite_utils.Database, site: Path, **options: int) -> StatusSet:
    return write_status(db, site / "status", TODAY, UNTIL, **options)


def _shards(site: Path) -> tuple[dict[str, Any], list[bytes]]:
    index = json.loads((site / "status/index.json").read_text())
    return index, [(site / f"status/{i}.bin").read_bytes() for i in range(index["shards"])]


@pytest.mark.parametrize("cases", [5, 700])
def test_token_reads_status_and_answer_wrong_token_reads_nothing(
    tmp_path: Path, cases: int
) -> None:
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
    written = _publish(db, tmp_path / "site")
    index, shards = _shards(tmp_path / "site")
    assert index["shards"] > 1
    assert (written.tokens, written.shards, written.shard_bytes) == (
        1500, index["shards"], index["shard_bytes"])  # fmt: skip
    for data in shards:
        assert len(parse_shard(data)) >= MIN_ROWS
    assert {len(data) for data in shards} == {index["shard_bytes"]}
    assert index["shard_bytes"] <= 64 * 1024
    assert not list((tmp_path / "site/status").glob(".*"))  # no spool left behind


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
    assert len(common) == MIN_ROWS  # dummies are kept like the real rows
    assert all(real_a[k] != real_b[k] for k in common)  # every status sealed anew


def test_empty_register_gives_one_shard_of_dummies(tmp_path: Path) -> None:
    db = connect(tmp_path / "db.sqlite")
    assert _publish(db, tmp_path / "site").tokens == 0
    index, shards = _shards(tmp_path / "site")
    assert index["shards"] == 1 and len(parse_shard(shards[0])) == MIN_ROWS


# --- the status documents, against the rules as they were written before the streaming build


OPEN_STATES = ("received", "accepted", "in_progress", "forwarded")


def _old_colour(state: str, due: str | None, today: str, yellow_until: str) -> str | None:
    if state in ("concluded", "answered", "reviewing", "closed"):
        return "blue"
    if state not in OPEN_STATES or not due:
        return None
    if due < today:
        return "red"
    return "yellow" if due <= yellow_until else "green"


def _old_status(case: dict[str, Any], today: date, yellow_until: date) -> dict[str, Any]:
    """The status document exactly as ``collect_rows`` built it in Python."""
    day, until = today.isoformat(), yellow_until.isoformat()
    state = case["state"]
    steps = [{"step": name, "date": case[column]} for name, column in STEPS if case[column]]
    due_shown = case["review_due"] if state == "reviewing" else case["due_date"]
    return {
        "v": 1,
        "state": state,
        "steps": steps,
        "due": due_shown if state not in ("not_accepted", "closed") else None,
        "due_uncertain": bool(case["due_uncertain"]),
        "colour": _old_colour(state, due_shown, day, until),
        "as_of": day,
        "log": [],  # the token's public log entries: none without submissions (publisher/log.py)
    } | ({"satisfaction": case["satisfaction"]} if case.get("satisfaction") else {})


def _old_bytes(status: dict[str, Any]) -> bytes:
    return json.dumps(status, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


STATES = ("received", "accepted", "in_progress", "forwarded", "not_accepted", "concluded",
          "answered", "reviewing", "closed")  # fmt: skip
DUES = (None, "", "2026-11-01", "2026-11-22", "2026-11-23", "2026-11-24", "2026-11-30",
        "2026-12-01", "2027-03-01")  # fmt: skip
DATES = (None, "", "2026-09-30", "2026-10-15", "2026-11-23")


def _varied_register(db: sqlite_utils.Database, n: int, seed: int = 5) -> dict[Token, int]:
    """``n`` tokens on cases in every state, with every kind of deadline (past, today, within
    and beyond the warning days, none, empty), missing or empty step dates, uncertain or not,
    reviews with their own deadline; several tokens per case and 0-3 answers per token."""
    rng = random.Random(seed)
    tokens: dict[Token, int] = {}
    with db.atomic():
        while len(tokens) < n:
            dates = {column: rng.choice(DATES) for _, column in STEPS[1:]}
            case = db.execute(
                "INSERT INTO cases (channel, received_date, state, due_date, due_uncertain,"
                " review_due, registered_date, accepted_date, concluded_date, answered_date,"
                " second_answer_date, closed_date)"
                " VALUES ('online', '2026-09-29', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [rng.choice(STATES), rng.choice(DUES), rng.choice((None, 0, 1)),
                 rng.choice(DUES), *(dates[column] for _, column in STEPS[1:])],
            ).lastrowid  # fmt: skip
            for _ in range(min(rng.choice((1, 1, 1, 2)), n - len(tokens))):
                token = Token.generate()
                keys = token.keys()
                db.execute(
                    "INSERT INTO tokens VALUES (?, ?, ?, ?, '2026-09-29')",
                    [keys.lookup_id, case, bytes(keys.reply_public), bytes(keys.followup_verify)],
                )
                for k in range(rng.choice((0, 0, 0, 1, 1, 1, 2, 3))):
                    text = f"答复{len(tokens)}-{k}" + "。" * rng.randrange(100)
                    sealed = seal_answer_for_reporter({"text": text}, bytes(keys.reply_public))
                    db.execute(
                        "INSERT INTO answers (case_id, lookup_id, kind, sealed, created_date)"
                        " VALUES (?, ?, 'answer', ?, '2026-11-01')",
                        [case, keys.lookup_id, sealed],
                    )
                tokens[token] = int(case or 0)
    return tokens


def _cases(db: sqlite_utils.Database) -> dict[int, dict[str, Any]]:
    return {row["id"]: row for row in db.query("SELECT * FROM cases")}


def test_status_json_is_byte_for_byte_what_the_python_rules_give(tmp_path: Path) -> None:
    db = connect(tmp_path / "db.sqlite")
    tokens = _varied_register(db, 600)
    cases = _cases(db)
    by_lookup = {t.keys().lookup_id: case for t, case in tokens.items()}
    documents = dict(status_documents(db.conn, TODAY, UNTIL))
    assert len(documents) == len(tokens)
    for lookup_id, document in documents.items():
        assert document == _old_bytes(_old_status(cases[by_lookup[lookup_id]], TODAY, UNTIL))
    colours = {json.loads(d)["colour"] for d in documents.values()}
    assert colours == {None, "blue", "red", "yellow", "green"}  # every branch was exercised


@pytest.mark.parametrize("workers", [1, 2])
def test_3000_tokens_read_as_before_from_equal_shards(tmp_path: Path, workers: int) -> None:
    db = connect(tmp_path / "db.sqlite")
    tokens = _varied_register(db, 3000)
    cases = _cases(db)
    answers = {
        lookup_id: count
        for lookup_id, count in db.execute("SELECT lookup_id, count(*) FROM answers GROUP BY 1")
    }
    site = tmp_path / "site"
    written = _publish(db, site, workers=workers, parallel_from=0)  # 2: in worker processes
    index, shards = _shards(site)
    assert written == StatusSet(3000, index["shards"], index["shard_bytes"])
    assert index == {"v": 1, "shards": written.shards, "shard_bytes": written.shard_bytes,
                     "as_of": TODAY.isoformat()}  # fmt: skip
    assert index["shards"] > 1
    assert {len(data) for data in shards} == {index["shard_bytes"]}
    if index["shard_bytes"] > MAX_SHARD_BYTES:  # large answers: rows first, then bytes
        ids = [row[0] for data in shards for row in parse_shard(data)]
        more = max(index["shards"] + 1, math.ceil(index["shards"] * 1.04))
        assert min(Counter(shard_of(i, more) for i in ids).values()) < MIN_ROWS
    real = {t.keys().lookup_id for t in tokens}
    seen = set()
    for i, data in enumerate(shards):
        rows = parse_shard(data)
        assert len(rows) >= MIN_ROWS
        ids = [row[0] for row in rows]
        assert ids == sorted(ids)
        assert all(shard_of(lookup_id, index["shards"]) == i for lookup_id in ids)
        end = 8 + sum(18 + len(s) + 1 + sum(2 + len(a) for a in sealed) for _, s, sealed in rows)
        assert not any(data[end:])  # zero padding after the rows
        seen.update(ids)
    assert real <= seen
    # the readable statuses are those of the rules as they were, answers included
    for token in random.Random(1).sample(sorted(tokens, key=str), 150):
        found = read_status(str(site), token)
        assert found is not None
        assert found.status == _old_status(cases[tokens[token]], TODAY, UNTIL)
        assert len(found.answers) == answers.get(token.keys().lookup_id, 0)
    assert read_status(str(site), Token.generate()) is None


def test_dummy_rows_have_the_shapes_of_real_rows(tmp_path: Path) -> None:
    db = connect(tmp_path / "db.sqlite")
    tokens = _varied_register(db, 400)
    _publish(db, tmp_path / "site")
    _, shards = _shards(tmp_path / "site")
    real = {t.keys().lookup_id for t in tokens}
    grades: dict[bool, set[tuple[int, int]]] = {True: set(), False: set()}
    answer_sizes: dict[bool, set[tuple[int, int]]] = {True: set(), False: set()}
    for data in shards:
        for lookup_id, status, answers in parse_shard(data):
            grades[lookup_id in real].add((len(status), len(answers)))
            answer_sizes[lookup_id in real].update((k, len(a)) for k, a in enumerate(answers))
    assert grades[False] and answer_sizes[False]  # dummies born with the real rows
    assert grades[False] <= grades[True]  # status size and answer count as real rows have
    assert answer_sizes[False] <= answer_sizes[True]  # answers of real answers' sizes


def test_a_failing_worker_fails_the_build_with_its_message(tmp_path: Path) -> None:
    from publisher.status import StatusBuildError, _in_workers, _Part

    part = _Part(None, None, TODAY.isoformat(), UNTIL.isoformat(), str(tmp_path / "spool"))
    with pytest.raises(StatusBuildError, match="unable to open database file"):
        _in_workers(str(tmp_path / "missing.sqlite"), [part], tmp_path, lambda spools: None)
