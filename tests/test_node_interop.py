"""The JavaScript client interoperates with the Python protocol and the real gateway.

(a) ``node --test tests/node/`` checks portal/js/protocol.mjs, on the real libsodium-wrappers,
    against the known-answer vectors.
(b) The same Node test submits a report, an identical retry and two follow-ups to a running
    gateway; here the stored envelopes are opened with the office key and compared with what Node
    sealed, and the follow-ups must sit on the report's case under the tokens' lookup ids.

Node and node_modules are required: CI installs them (``npm ci``), so their absence is a
failure, not a skip.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, GatewayProcess

from lianxin.keys import export_published, fingerprint, load_keyring, load_office_secrets
from lianxin.protocol import (
    Attachment,
    Envelope,
    Token,
    open_envelope,
    parse_envelope,
    validate_followup,
)

NODE_TESTS = "tests/node/"
MAX_CIPHERTEXT = 64 * 1024 * 1024


def node_command() -> list[str]:
    """``node --test tests/node/``, or a failure that says what to install."""
    node = shutil.which("node")
    if node is None:
        pytest.fail(
            "node is not on PATH: install Node.js 20+ (CI does) to run the JS interop tests"
        )
    if not (ROOT / "node_modules" / "libsodium-wrappers" / "package.json").is_file():
        pytest.fail("node_modules/libsodium-wrappers is missing: run `npm ci` at the repo root")
    return [node, "--test", NODE_TESTS]


def run_node(extra_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIANXIN_")}
    result = subprocess.run(
        node_command(),
        cwd=ROOT,
        env={**env, **extra_env},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"node --test failed:\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}")
    return result


def b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def attachments(items: list[dict[str, str]]) -> list[Attachment]:
    return [Attachment(a["name"], a["type"], b64d(a["data"])) for a in items]


def stored(db_path: Path) -> dict[bytes, tuple[Any, ...]]:
    """Submissions by receipt id: (kind, case_id, key_id, author, ciphertext, sig)."""
    conn = sqlite3.connect(db_path)
    try:
        rows = conn.execute(
            "SELECT receipt_id, kind, case_id, key_id, author, ciphertext, sig FROM submissions"
        ).fetchall()
        return {bytes(r[0]): tuple(r[1:]) for r in rows}
    finally:
        conn.close()


def token_cases(db_path: Path) -> dict[bytes, tuple[int, bytes, bytes]]:
    """Token rows by lookup id: (case_id, reply_pk, followup_vk)."""
    conn = sqlite3.connect(db_path)
    try:
        rows = conn.execute("SELECT lookup_id, case_id, reply_pk, followup_vk FROM tokens")
        return {bytes(r[0]): (r[1], bytes(r[2]), bytes(r[3])) for r in rows}
    finally:
        conn.close()


def test_node_client_passes_the_vectors() -> None:
    result = run_node({})
    assert "# fail 0" in result.stdout


def test_node_client_submits_to_the_python_gateway(gateway: GatewayProcess, tmp_path: Path) -> None:
    keys_json = tmp_path / "published" / "keys.json"
    export_published(gateway.keys_dir, keys_json)
    out = tmp_path / "node-out.json"
    run_node(
        {
            "LIANXIN_GATEWAY_URL": gateway.url,
            "LIANXIN_KEYS_JSON": str(keys_json),
            "LIANXIN_PUBLISHER_FINGERPRINT": fingerprint(
                load_keyring(gateway.keys_dir).publisher.public_key
            ),
            "LIANXIN_TOKEN_OUT": str(out),
        }
    )
    assert out.is_file(), "the Node interop test did not run (it writes LIANXIN_TOKEN_OUT)"
    sent = json.loads(out.read_text("utf-8"))
    rows = stored(gateway.db_path)
    assert len(rows) == 3, "one report (the retry adds nothing) and two follow-ups"
    office = load_office_secrets(gateway.keys_dir)

    # The report: sealed and signed in JavaScript, stored as sent, opened in Python.
    report = sent["report"]
    envelope = parse_envelope(report["envelope"], max_ciphertext=MAX_CIPHERTEXT)
    assert envelope.receipt_id.hex() == report["receipt_id"]
    kind, case_id, key_id, author, ciphertext, sig = rows[envelope.receipt_id]
    assert (kind, key_id) == ("report", sent["office_key_id"])
    from_db = Envelope("report", key_id, bytes(author), bytes(ciphertext), bytes(sig))
    assert from_db.to_json() == report["envelope"]
    from_db.verify()
    opened = open_envelope(from_db, office)
    assert {k: v for k, v in opened.doc.items() if k != "attachments"} == report["sealed_doc"]
    assert opened.doc["title"] == report["doc"]["title"]
    assert list(opened.attachments) == attachments(report["attachments"])

    # Both tokens (first answer and retry) derive, in Python, the values the gateway stored.
    tokens = token_cases(gateway.db_path)
    for text in (sent["token"], sent["retry_token"]):
        keys = Token.parse(text).keys()
        assert tokens[keys.lookup_id] == (
            case_id,
            bytes(keys.reply_public),
            bytes(keys.followup_verify),
        )

    # The follow-ups: addressed by the tokens' lookup ids, on the report's case.
    for followup in sent["followups"]:
        envelope = parse_envelope(followup["envelope"], max_ciphertext=MAX_CIPHERTEXT)
        kind, f_case, f_key_id, author, ciphertext, sig = rows[envelope.receipt_id]
        keys = Token.parse(followup["token"]).keys()
        assert (kind, f_case, bytes(author)) == ("followup", case_id, keys.lookup_id)
        from_db = Envelope("followup", f_key_id, bytes(author), bytes(ciphertext), bytes(sig))
        from_db.verify(keys.followup_verify)
        opened = open_envelope(from_db, office)
        expected = validate_followup(dict(followup["doc"], schema="lianxin/followup/v1"))
        assert {k: v for k, v in opened.doc.items() if k != "attachments"} == expected
        assert list(opened.attachments) == attachments(followup["attachments"])
