"""The publisher's log: batches across publications, refusal to sign a tree that does not extend
the last checkpoint, audits that catch a rewritten log, and what never reaches ``log/``."""

from __future__ import annotations

import json
import secrets
import shutil
import sqlite3
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from lianxin import keys as keys_mod
from lianxin.keys import export_published, load_publisher_signer
from lianxin.store.db import connect
from lianxin.store.events import append_event
from lianxin.tlog.checkpoint import Checkpoint
from lianxin.tlog.client import AuditError, audit, prove_receipt
from lianxin.tlog.entries import receipt_entry
from lianxin.tlog.merkle import leaf_hash, list_source, root
from lianxin.tlog.note import sign
from lianxin.tlog.proof import verify_proof
from lianxin.tlog.site import Site
from lianxin.tlog.tiles import encode_bundle, tile_path, tiles_of
from lianxin_cli.main import main
from publisher.log import LogRefused, append_batch, write_log

ORIGIN = "office.example/log"
DAY1, DAY2, DAY3 = date(2026, 11, 2), date(2026, 11, 3), date(2026, 11, 4)


def _add_reports(db_path: Path, n: int, officer: str = "王警官") -> list[bytes]:
    db = connect(db_path)
    ids = []
    with db.atomic():
        for _ in range(n):
            case = db.execute(
                "INSERT INTO cases (channel, received_date) VALUES ('online', '2026-10-07')"
            ).lastrowid
            receipt_id = secrets.token_bytes(32)
            db.execute(
                "INSERT INTO submissions (receipt_id, kind, case_id, key_id, author, ciphertext,"
                " sig, received_date) VALUES (?, 'report', ?, 'k', ?, ?, ?, '2026-10-07')",
                [receipt_id, case, b"a" * 32, b"MARKER-plaintext" * 4, b"s" * 64],
            )
            append_event(db, int(case or 0), "received", actor=officer, at="2026-10-07T09:13:00")
            ids.append(receipt_id)
    db.conn.close()
    return ids


def _publish_log(db_path: Path, keys_dir: Path, site: Path, today: date) -> int:
    """The publisher's log step alone (no MkDocs), swapped into ``site`` like a build."""
    db = connect(db_path)
    signer = load_publisher_signer(keys_dir)
    try:
        state = append_batch(db, ORIGIN, signer, today)
        new = site.parent / (site.name + ".new")
        write_log(db, state, new / "log", site / "log", signer)
        export_published(keys_dir, new / "keys.json")
    finally:
        db.conn.close()
    if site.exists():
        shutil.rmtree(site)
    new.rename(site)
    return state.size


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    keys_mod.init_keys(tmp_path / "keys")
    return tmp_path / "keys"


def test_publish_add_publish_is_consistent_and_receipts_are_provable(
    tmp_path: Path, keys: Path
) -> None:
    db, site, state = tmp_path / "db.sqlite", tmp_path / "site", tmp_path / "auditor"
    assert _publish_log(db, keys, site, DAY1) == 0  # an empty store: an empty, signed log
    assert audit(Site(str(site)), state).size == 0
    first = _add_reports(db, 3)
    size1 = _publish_log(db, keys, site, DAY1)
    assert size1 % 8 == 0 and size1 >= 4  # 3 receipts and the chain head, padded
    assert audit(Site(str(site)), state).size == size1
    assert _publish_log(db, keys, site, DAY1) == size1  # nothing new: the same checkpoint
    later = _add_reports(db, 5)
    size2 = _publish_log(db, keys, site, DAY2)
    assert size2 > size1
    report = audit(Site(str(site)), state)
    assert (report.previous, report.size) == (size1, size2)
    index = (site / "log" / "archive" / "index.json").read_text()
    assert '"date": "2026-11-02"' in index and f'"size": {size2}' in index
    vkey = (site / "log" / "vkey").read_text().strip()
    for receipt_id in (first[0], later[-1]):
        found = prove_receipt(Site(str(site)), receipt_id)
        text = found.proof.render()
        from lianxin.tlog.note import Verifier

        assert verify_proof(text, receipt_entry(receipt_id), Verifier.parse(vkey))
    # The sealed status of each token would name these entries: the store links them.
    conn = sqlite3.connect(db)
    logged = conn.execute("SELECT count(*) FROM log_entries WHERE receipt_id IS NOT NULL")
    assert logged.fetchone()[0] == 8


@pytest.mark.parametrize("tamper", ["drop", "reorder", "change"])
def test_a_publisher_that_drops_or_reorders_is_refused(
    tmp_path: Path, keys: Path, tamper: str
) -> None:
    db, site = tmp_path / "db.sqlite", tmp_path / "site"
    _add_reports(db, 6)
    size1 = _publish_log(db, keys, site, DAY1)
    before = (site / "log" / "checkpoint").read_text()
    conn = sqlite3.connect(db)
    # A hand-made publisher: first it removes the store's append-only guards.
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        if name.startswith("log_"):
            conn.execute(f"DROP TRIGGER {name}")
    if tamper == "drop":
        conn.execute("DELETE FROM log_entries WHERE idx = 2")
        conn.execute("UPDATE log_entries SET idx = idx - 1 WHERE idx > 2")
    elif tamper == "reorder":
        conn.execute("UPDATE log_entries SET idx = -1 WHERE idx = 0")
        conn.execute("UPDATE log_entries SET idx = 0 WHERE idx = 1")
        conn.execute("UPDATE log_entries SET idx = 1 WHERE idx = -1")
    else:
        conn.execute("UPDATE log_entries SET entry = ? WHERE idx = 4", [b"\x01" + b"\0" * 32])
    conn.commit()
    conn.close()
    _add_reports(db, 2)
    with pytest.raises(LogRefused, match="last checkpoint") as refused:
        _publish_log(db, keys, site, DAY2)
    assert before in str(refused.value)  # says which checkpoint it would contradict
    assert (site / "log" / "checkpoint").read_text() == before  # nothing published
    rows = sqlite3.connect(db).execute("SELECT max(idx) + 1 FROM log_entries").fetchone()[0]
    assert rows <= size1  # nothing appended


def rewrite_log(site: Path, keys: Path, entries: list[bytes], origin: str = ORIGIN) -> None:
    """A hand-made publisher: writes a well-formed, validly signed log of ``entries``."""
    log = site / "log"
    shutil.rmtree(log / "tile")
    leaves = [leaf_hash(e) for e in entries]
    source = list_source(leaves)
    size = len(entries)
    for level, n, width in tiles_of(size):
        path = log / tile_path(level, n, width)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"".join(source(8 * level, i) for i in range(n * 256, n * 256 + width)))
        if level == 0:
            bundle = log / tile_path("entries", n, width)
            bundle.parent.mkdir(parents=True, exist_ok=True)
            bundle.write_bytes(encode_bundle(entries[n * 256 : n * 256 + width]))
    text = Checkpoint(origin, size, root(source, size)).text()
    signer = load_publisher_signer(keys)
    (log / "checkpoint").write_text(text + "\n" + sign(text, origin, signer.raw).line())


def test_audit_catches_a_rewritten_log(tmp_path: Path, keys: Path) -> None:
    db, site, state = tmp_path / "db.sqlite", tmp_path / "site", tmp_path / "auditor"
    _add_reports(db, 5)
    _publish_log(db, keys, site, DAY1)
    audit(Site(str(site)), state)
    conn = sqlite3.connect(db)
    entries = [bytes(r[0]) for r in conn.execute("SELECT entry FROM log_entries ORDER BY idx")]
    # Drop one old entry and add new ones: a bigger, validly signed, inconsistent tree.
    rewrite_log(site, keys, entries[:2] + entries[3:] + [receipt_entry(b"n" * 32)] * 9)
    with pytest.raises(AuditError, match="does not extend") as caught:
        audit(Site(str(site)), state)
    assert "earlier checkpoint" in str(caught.value) and "current checkpoint" in str(caught.value)
    # Reordered, same size: a fork.
    rewrite_log(site, keys, [entries[1], entries[0], *entries[2:]])
    with pytest.raises(AuditError, match="fork"):
        audit(Site(str(site)), state)
    # Shrunk.
    rewrite_log(site, keys, entries[:-1])
    with pytest.raises(AuditError, match="shrank"):
        audit(Site(str(site)), state)
    # A tile that disagrees with its entries, under an honest checkpoint, fails the recompute.
    rewrite_log(site, keys, entries)
    audit(Site(str(site)), state)
    tile = site / "log" / tile_path(0, 0, len(entries))
    tile.write_bytes(b"\0" * 32 + tile.read_bytes()[32:])
    with pytest.raises(AuditError, match="tile 0/0"):
        audit(Site(str(site)), None)


def test_nothing_private_reaches_the_log(tmp_path: Path, keys: Path) -> None:
    db, site = tmp_path / "db.sqlite", tmp_path / "site"
    ids = _add_reports(db, 4, officer="OFFICER-Zhang")
    _publish_log(db, keys, site, DAY3)
    conn = sqlite3.connect(db)
    lookups = [bytes(r[0]) for r in conn.execute("SELECT author FROM submissions")]
    forbidden = [b"MARKER", b"OFFICER", "王警官".encode(), b"2026-10-07", b"09:13", b"127.0.0.1"]
    forbidden += ids + [i.hex().encode() for i in ids] + lookups
    for path in (site / "log").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for needle in forbidden:
                assert needle not in data, (path, needle)


def _receipt_file(path: Path, receipt_id: bytes) -> Path:
    from lianxin.protocol import Receipt

    doc = Receipt(receipt_id, "report", "2026-10-07", "k", "g" * 16, bytes(64)).to_json()
    path.write_text(json.dumps(doc))
    return path


def test_cli_prove_verify_witness_and_quorum(tmp_path: Path, keys: Path) -> None:
    db, site = tmp_path / "db.sqlite", tmp_path / "site"
    ids = _add_reports(db, 3)
    _publish_log(db, keys, site, DAY1)
    runner = CliRunner()
    receipt = _receipt_file(tmp_path / "receipt.json", ids[1])
    proof = tmp_path / "r.tlog-proof"
    result = runner.invoke(
        main, ["receipt", "prove", str(receipt), "--site", str(site), "--out", str(proof)]
    )
    assert result.exit_code == 0 and "is entry" in result.output, result.output
    vkey = (site / "log" / "vkey").read_text().strip()
    verify = ["receipt", "verify", str(receipt), str(proof), "--log-key", vkey]
    result = runner.invoke(main, verify)
    assert result.exit_code == 0 and "Verified" in result.output, result.output
    other = _receipt_file(tmp_path / "other.json", secrets.token_bytes(32))
    result = runner.invoke(main, ["receipt", "verify", str(other), str(proof), "--log-key", vkey])
    assert result.exit_code == 1 and "Error" in result.output
    result = runner.invoke(
        main, ["receipt", "prove", str(other), "--site", str(site), "--out", str(proof)]
    )
    assert result.exit_code == 1 and "not in the office's public log" in result.output
    # A witness cosigns; the publisher adds the cosignature; audits can require it.
    cosigned = tmp_path / "cosigned"
    args = ["witness", str(site), "--name", "news.example/w1", "--key", str(tmp_path / "w.key")]
    result = runner.invoke(main, [*args, "--state", str(tmp_path / "w"), "--out", str(cosigned)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "w.key").stat().st_mode & 0o777 == 0o600
    witness_vkey = result.output.rsplit("Witness key: ", 1)[1].strip()
    need = ["audit", str(site), "--witness", witness_vkey, "--quorum", "1"]
    assert runner.invoke(main, need).exit_code == 1  # not yet in the published checkpoint
    dbc = connect(db)
    signer = load_publisher_signer(keys)
    state = append_batch(dbc, ORIGIN, signer, DAY1, [cosigned.read_text()])
    write_log(dbc, state, site / "log", None, signer)
    dbc.conn.close()
    result = runner.invoke(main, need)
    assert result.exit_code == 0 and "cosigned by news.example/w1" in result.output, result.output
    bad = runner.invoke(main, ["audit", str(site), "--witness", vkey])
    assert bad.exit_code == 2 and "not a cosignature" in bad.output


def test_a_tokens_status_names_its_own_entries(tmp_path: Path, keys: Path) -> None:
    from lianxin.protocol import Token
    from publisher.status import status_documents

    db_path, site = tmp_path / "db.sqlite", tmp_path / "site"
    db = connect(db_path)
    mine, other = Token.generate().keys(), Token.generate().keys()
    receipts = {name: secrets.token_bytes(32) for name in ("report", "mine", "other")}
    with db.atomic():
        case = db.execute("INSERT INTO cases (channel, received_date) VALUES ('online', 'x')")
        case_id = case.lastrowid
        for lookup in (mine, other):
            db.execute(
                "INSERT INTO tokens VALUES (?, ?, ?, ?, '2026-10-07')",
                [lookup.lookup_id, case_id, bytes(32), bytes(32)],
            )
        for name, kind, author in (
            ("report", "report", b"c" * 32),
            ("mine", "followup", mine.lookup_id),
            ("other", "followup", other.lookup_id),
        ):
            db.execute(
                "INSERT INTO submissions (receipt_id, kind, case_id, key_id, author, ciphertext,"
                " sig, received_date) VALUES (?, ?, ?, 'k', ?, x'00', x'00', '2026-10-07')",
                [receipts[name], kind, case_id, author],
            )
    db.conn.close()
    _publish_log(db_path, keys, site, DAY1)
    db = connect(db_path)
    index = {
        bytes(r): i
        for i, r in db.execute("SELECT idx, receipt_id FROM log_entries").fetchall()
        if r
    }
    documents = dict(status_documents(db.conn, DAY1, DAY1))
    listed = json.loads(documents[mine.lookup_id])["log"]
    assert sorted(listed, key=lambda e: e["i"]) == sorted(
        [{"i": index[receipts[n]], "r": receipts[n].hex()} for n in ("report", "mine")],
        key=lambda e: e["i"],
    )
    assert receipts["mine"].hex() not in documents[other.lookup_id].decode()
    db.conn.close()


def test_the_store_keeps_the_log_append_only(tmp_path: Path, keys: Path) -> None:
    db, site = tmp_path / "db.sqlite", tmp_path / "site"
    _add_reports(db, 260)  # a complete 256-leaf subtree: a cached node
    _publish_log(db, keys, site, DAY1)
    conn = sqlite3.connect(db)
    for sql in (
        "UPDATE log_entries SET entry = x'00' WHERE idx = 0",
        "DELETE FROM log_entries WHERE idx = 0",
        "UPDATE log_nodes SET hash = x'00'",
        "DELETE FROM log_checkpoints",
        "UPDATE log_checkpoints SET size = 1",
    ):
        with pytest.raises(sqlite3.DatabaseError, match="append-only|cannot change"):
            conn.execute(sql)


def test_a_changed_entry_in_an_old_full_tile_never_reaches_the_site(
    tmp_path: Path, keys: Path
) -> None:
    db, site, state = tmp_path / "db.sqlite", tmp_path / "site", tmp_path / "auditor"
    _add_reports(db, 300)  # one full tile and a partial one
    _publish_log(db, keys, site, DAY1)
    audit(Site(str(site)), state)
    conn = sqlite3.connect(db)
    conn.execute("DROP TRIGGER log_entries_append_only")
    conn.execute("UPDATE log_entries SET entry = ? WHERE idx = 7", [b"\x01" + b"\0" * 32])
    conn.commit()
    _add_reports(db, 2)
    # With the previous site's tiles the change is not used, and the log stays consistent.
    _publish_log(db, keys, site, DAY2)
    audit(Site(str(site)), state)
    # Written from the store (no previous site), the changed tile is refused.
    shutil.rmtree(site)
    _add_reports(db, 2)
    with pytest.raises(LogRefused, match="tile 0/0"):
        _publish_log(db, keys, site, DAY3)
