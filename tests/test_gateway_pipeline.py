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

from support import sealed_followup, sealed_report

from gateway.frames import TOKEN_ROW
from gateway.settings import GatewaySettings
from gateway.worker import config_for
from gateway.worker_client import Answer, IntakeWorker
from lianxin.keys import Keyring, load_gateway_keys
from lianxin.protocol import Envelope, Token
from lianxin.protocol import pow as pow_
from lianxin.protocol.token import public_values


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
    assert json.loads(answers[2].body)["duplicate"] is True
    assert json.loads(answers[0].body)["receipt"] == json.loads(answers[2].body)["receipt"]
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
