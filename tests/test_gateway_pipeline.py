"""The intake worker checks one batch while the previous one commits (``gateway/worker.py``).

A real worker process behind ``worker_client.IntakeWorker`` (the HTTP process's side), with a
batch size of one, so that requests handed together become batches that are in flight at the
same time: the second is checked while the first is being stored and committed. What the
store decides must come out exactly as if the batches had run one after the other.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils
from support import sealed_followup, sealed_report

from gateway.frames import STORED, TOKEN_ROW
from gateway.intake import NewReport, TokenRow, prune_spent, spend, store_reports
from gateway.settings import GatewaySettings
from gateway.worker import config_for
from gateway.worker_client import Answer, IntakeWorker
from lianxin.keys import Keyring, load_gateway_keys
from lianxin.protocol import Envelope, ProofOfWorkError, Token
from lianxin.protocol import pow as pow_
from lianxin.protocol.token import public_values
from lianxin.store.db import connect
from lianxin.store.events import verify_chain
from lianxin.store.migrations import MIGRATIONS


def _body(envelope: Envelope, challenge: pow_.Challenge) -> bytes:
    proof = envelope.proof(challenge.raw, pow_.solve(challenge))
    return json.dumps({"envelope": envelope.to_json(), "pow": proof}).encode()


def _submit_together(
    settings: GatewaySettings, keys_dir: Path, requests: list[tuple[str, bytes, bytes]]
) -> list[Answer]:
    """Hand ``requests`` (kind, body, token row) to a fresh worker in one write; their answers."""
    config = config_for(settings, load_gateway_keys(keys_dir))

    async def run() -> list[Answer]:
        worker = IntakeWorker(config)
        await worker.start()
        try:
            return list(await asyncio.gather(*(worker.submit(*r) for r in requests)))
        finally:
            await worker.stop()

    return asyncio.run(run())


def _rows(db_path: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db_path) as conn:
        return conn.execute(sql).fetchall()


def test_a_challenge_spent_in_a_batch_in_flight_is_refused_in_the_next(
    tmp_path: Path, keys_dir: Path, keyring: Keyring
) -> None:
    settings = GatewaySettings(
        db_path=tmp_path / "lianxin.sqlite", keys_dir=keys_dir, batch_max=1, pow_difficulty=1
    )
    pow_key = load_gateway_keys(keys_dir).secret.derive("pow")
    first, other = sealed_report(keyring), sealed_report(keyring)
    spent = pow_.issue(pow_key, 1, 600)
    tokens = [Token.generate() for _ in range(3)]
    rows = [TOKEN_ROW.pack(*public_values(token)) for token in tokens]
    answers = _submit_together(
        settings,
        keys_dir,
        [
            ("report", _body(first, spent), rows[0]),
            ("report", _body(other, spent), rows[1]),  # the same challenge, another envelope
            ("report", _body(first, pow_.issue(pow_key, 1, 600)), rows[2]),  # a retry
        ],
    )
    assert [a.status for a in answers] == [201, 409, 200], [a.body for a in answers]
    assert answers[1].problem_fields()[0] == "pow-replayed"
    # The worker answers a stored envelope with its receipt's fields (the HTTP process signs).
    assert all(a.stored for a in (answers[0], answers[2]))
    first_fields, retry_fields = STORED.unpack(answers[0].body), STORED.unpack(answers[2].body)
    assert (first_fields[1], retry_fields[1]) == (False, True)  # the retry is a duplicate
    assert first_fields[2] == retry_fields[2] == first.receipt_id
    # The refused request changed nothing: one case, one envelope, the two tokens of `first`.
    db = settings.db_path
    assert _rows(db, "SELECT count(*) FROM cases") == [(1,)]
    assert _rows(db, "SELECT receipt_id FROM submissions") == [(first.receipt_id,)]
    bound = {row[0] for row in _rows(db, "SELECT lookup_id FROM tokens")}
    assert bound == {public_values(tokens[0])[0], public_values(tokens[2])[0]}


def test_a_followup_checked_while_its_report_commits_finds_its_case(
    tmp_path: Path, keys_dir: Path, keyring: Keyring
) -> None:
    """The follow-up's lookup id is bound by the batch before it, not yet committed when the
    follow-up is checked: the check waits for that commit instead of answering 404."""
    settings = GatewaySettings(
        db_path=tmp_path / "lianxin.sqlite", keys_dir=keys_dir, batch_max=1, pow_difficulty=1
    )
    pow_key = load_gateway_keys(keys_dir).secret.derive("pow")
    token = Token.generate()
    report = sealed_report(keyring)
    followup = sealed_followup(keyring, token.keys(), {"type": "material", "text": "补充"})
    row = TOKEN_ROW.pack(*public_values(token))
    answers = _submit_together(
        settings,
        keys_dir,
        [
            ("report", _body(report, pow_.issue(pow_key, 1, 600)), row),
            ("followup", _body(followup, pow_.issue(pow_key, 1, 600)), b""),
        ],
    )
    assert [a.status for a in answers] == [201, 201], [a.body for a in answers]
    kinds = _rows(settings.db_path, "SELECT kind, case_id FROM submissions ORDER BY id")
    assert [kind for kind, _ in kinds] == ["report", "followup"]
    assert kinds[0][1] == kinds[1][1]


def test_one_batch_stores_its_reports_together_and_refuses_only_the_replay(
    tmp_path: Path, keys_dir: Path, keyring: Keyring
) -> None:
    """Requests handed in one write form one batch; its reports are stored a statement per
    table (``intake.store_reports``). A retry inside the batch gets its first copy's case; in
    the next batch a replayed challenge refuses only its own request (the batch is stored
    again one report at a time); the event chain and the counts stay whole."""
    settings = GatewaySettings(
        db_path=tmp_path / "lianxin.sqlite", keys_dir=keys_dir, pow_difficulty=1
    )
    pow_key = load_gateway_keys(keys_dir).secret.derive("pow")
    first, second, third = (sealed_report(keyring) for _ in range(3))
    spent = pow_.issue(pow_key, 1, 600)
    tokens = [Token.generate() for _ in range(5)]
    rows = [TOKEN_ROW.pack(*public_values(token)) for token in tokens]
    together = [
        _body(first, spent),
        _body(second, pow_.issue(pow_key, 1, 600)),
        _body(first, pow_.issue(pow_key, 1, 600)),  # a retry of the first, same batch
    ]
    answers = _submit_together(
        settings, keys_dir, [("report", b, row) for b, row in zip(together, rows, strict=False)]
    )
    replayed = [_body(third, spent), _body(third, pow_.issue(pow_key, 1, 600))]
    answers += _submit_together(
        settings, keys_dir, [("report", b, row) for b, row in zip(replayed, rows[3:], strict=True)]
    )
    assert [a.status for a in answers] == [201, 201, 200, 409, 201], [a.body for a in answers]
    assert answers[3].problem_fields()[0] == "pow-replayed"
    db = settings.db_path
    cases = _rows(db, "SELECT s.receipt_id, s.case_id FROM submissions s ORDER BY s.case_id")
    assert [bytes(r) for r, _ in cases] == [first.receipt_id, second.receipt_id, third.receipt_id]
    case_of = {bytes(r): c for r, c in cases}
    bound = dict(_rows(db, "SELECT lookup_id, case_id FROM tokens"))
    lookup = [public_values(token)[0] for token in tokens]
    assert bound == {
        lookup[0]: case_of[first.receipt_id],
        lookup[1]: case_of[second.receipt_id],
        lookup[2]: case_of[first.receipt_id],
        lookup[4]: case_of[third.receipt_id],
    }
    events = _rows(db, "SELECT case_id, type FROM events ORDER BY seq")
    assert events == [
        (case_of[r], "received") for r in (first.receipt_id, second.receipt_id, third.receipt_id)
    ]
    counts = _rows(db, "SELECT state, n FROM case_counts")
    assert counts == [("received", 3)]
    store = connect(db, migrate=False)
    assert verify_chain(store) == []


def test_store_reports_takes_a_retry_within_its_own_call(tmp_path: Path, keyring: Keyring) -> None:
    """The batch writer itself, without the worker's one-at-a-time fallback that would hide
    its mistakes: a retry in the same call is a duplicate of its first copy, not an error."""
    db = connect(tmp_path / "lianxin.sqlite")
    key = bytes(32)
    first, second = sealed_report(keyring), sealed_report(keyring)
    reports = [
        NewReport(envelope, pow_.issue(key, 1, 600), TokenRow(*public_values(Token.generate())))
        for envelope in (first, second, first)
    ]
    db.execute("BEGIN IMMEDIATE")
    stored = store_reports(db, reports, today="2026-03-02")
    db.execute("COMMIT")
    assert [(s.duplicate, s.received_date) for s in stored] == [
        (False, "2026-03-02"),
        (False, "2026-03-02"),
        (True, "2026-03-02"),
    ]
    assert stored[2].case_id == stored[0].case_id != stored[1].case_id
    assert db.execute("SELECT count(*) FROM tokens").fetchone() == (3,)
    assert db.execute("SELECT count(*) FROM cases").fetchone() == (2,)
    with pytest.raises(ProofOfWorkError):  # the same challenges again: refused as a whole
        store_reports(db, reports[:1], today="2026-03-03")


def test_spent_nonces_survive_the_rekeying_and_only_expired_ones_are_forgotten(
    tmp_path: Path,
) -> None:
    """Migration 0014_spent_by_expiry keeps every spent nonce (a replay stays refused across
    the upgrade); pruning forgets exactly the expired ones, and a nonce still valid is refused."""
    path = tmp_path / "lianxin.sqlite"
    conn = sqlite3.connect(path)
    old = sqlite_utils.Database(conn)
    MIGRATIONS.apply(old, stop_before="0014_spent_by_expiry")
    key = bytes(32)
    soon, later = pow_.issue(key, 1, 60, now=1_000), pow_.issue(key, 1, 600, now=1_000)
    for challenge in (soon, later):
        old.execute(
            "INSERT INTO spent_challenges (nonce, expires) VALUES (?, ?)",
            [challenge.nonce, challenge.expires],
        )
    conn.commit()
    conn.close()

    db = connect(path)  # migrates
    kept = db.execute("SELECT expires, nonce FROM spent_challenges ORDER BY 1").fetchall()
    assert kept == [(soon.expires, soon.nonce), (later.expires, later.nonce)]
    with pytest.raises(ProofOfWorkError):
        spend(db, [later])
    prune_spent(db, soon.expires + 1)
    assert db.execute("SELECT nonce FROM spent_challenges").fetchall() == [(later.nonce,)]
    with pytest.raises(ProofOfWorkError):  # still spent until it expires
        spend(db, [later])
    spend(db, [soon])  # expired and forgotten: the MAC check refuses it long before this
