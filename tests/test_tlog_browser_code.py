"""portal/js/tlog.mjs (the status page's log check) on Node with the real libsodium-wrappers,
against logs the Python publisher wrote: entries verify, a tampered tile or checkpoint does not."""

from __future__ import annotations

import base64
import json
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from conftest import ROOT
from test_tlog_publish import DAY1, _add_reports, _publish_log

from lianxin import keys as keys_mod
from lianxin.keys import load_keyring
from lianxin.tlog.tiles import WIDTH, tile_path, tile_width


def _node(site: Path, key: bytes, entries: list[dict[str, object]]) -> list[dict[str, object]]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH: install Node.js 20+")
    result = subprocess.run(
        [
            node,
            "tests/tlog_node.mjs",
            str(site),
            base64.b64encode(key).decode(),
            json.dumps(entries),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    return list(json.loads(result.stdout))


def test_the_status_page_code_verifies_entries_and_notices_tampering(tmp_path: Path) -> None:
    keys_mod.init_keys(tmp_path / "keys")
    db, site = tmp_path / "db.sqlite", tmp_path / "site"
    ids = _add_reports(db, 300)  # more than one tile: proofs use full and partial tiles
    _publish_log(db, tmp_path / "keys", site, DAY1)
    key = load_keyring(tmp_path / "keys").publisher.public_key
    conn = sqlite3.connect(db)
    wanted = [ids[0], ids[150], ids[-1]]
    entries = [
        {"i": conn.execute("SELECT idx FROM log_entries WHERE receipt_id = ?", [r]).fetchone()[0],
         "r": r.hex()}
        for r in wanted
    ]  # fmt: skip
    lines = _node(site, key, entries)
    assert [line["ok"] for line in lines] == [True, True, True], lines
    assert "is entry" in str(lines[0]["text"])
    # The wrong index for a receipt does not verify.
    wrong = [{"i": (entries[0]["i"] + 1) % 8, "r": entries[0]["r"]}]  # type: ignore[operator]
    assert _node(site, key, wrong)[0]["ok"] is False
    # A tampered tile is noticed: the level-0 tile that holds the first entry's hash (the entries
    # are in random order, so it may be the full tile or the partial one).
    size = int((site / "log" / "checkpoint").read_text().split("\n")[1])
    n = int(entries[0]["i"]) // WIDTH  # type: ignore[call-overload]
    tile = site / "log" / tile_path(0, n, tile_width(0, n, size))
    original = tile.read_bytes()
    tile.write_bytes(bytes(len(original)))
    assert _node(site, key, entries[:1])[0]["ok"] is False
    tile.write_bytes(original)
    # A checkpoint signed by another key is refused.
    other = keys_mod.init_keys(tmp_path / "other").publisher.public_key
    bad = _node(site, other, entries[:1])
    assert bad[0]["ok"] is False and "not signed" in str(bad[0]["text"])


def test_a_witness_quorum_is_required_by_the_status_page(tmp_path: Path) -> None:
    from nacl.signing import SigningKey

    from lianxin.keys import load_publisher_signer
    from lianxin.store.db import connect
    from lianxin.tlog.client import log_lines
    from lianxin.tlog.note import COSIGNATURE, Verifier, cosign, parse_note
    from publisher.log import append_batch, write_log

    keys_mod.init_keys(tmp_path / "keys")
    db_path, site = tmp_path / "db.sqlite", tmp_path / "site"
    ids = _add_reports(db_path, 2)
    _publish_log(db_path, tmp_path / "keys", site, DAY1)
    key = load_keyring(tmp_path / "keys").publisher.public_key
    conn = sqlite3.connect(db_path)
    index = conn.execute("SELECT idx FROM log_entries WHERE receipt_id = ?", [ids[0]]).fetchone()
    entries = [{"i": index[0], "r": ids[0].hex()}]
    witness = SigningKey(b"\x05" * 32)
    vkey = Verifier("news.example/w1", COSIGNATURE, bytes(witness.verify_key)).vkey
    signer = load_publisher_signer(tmp_path / "keys")

    def republish(cosigned: list[str]) -> None:
        db = connect(db_path)
        state = append_batch(db, "office.example/log", signer, DAY1, cosigned)
        write_log(db, state, site / "log", None, signer, [vkey], 1)
        db.conn.close()

    republish([])
    refused = _node(site, key, entries)
    assert refused[0]["ok"] is False and "0 of the 1" in str(refused[0]["text"])
    assert "0 of the 1" in log_lines(str(site), entries)[0]
    note = parse_note((site / "log" / "checkpoint").read_text())
    republish([note.with_signature(cosign(note.text, "news.example/w1", witness, 1)).render()])
    assert _node(site, key, entries)[0]["ok"] is True
    assert "is entry" in log_lines(str(site), entries)[0]
