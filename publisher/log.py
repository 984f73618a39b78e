"""The office's public transparency log, appended at each publication and written to ``log/``.

At each build (``append_batch``) the log gains one batch: a receipt entry for every submission
(gateway reports and follow-ups, desk intakes) not yet in it, one entry committing to the
register's chain head (``register_head``; skipped when unchanged), and dummy entries up to a
multiple of ``PAD``, shuffled. The entries are stored in ``log_entries`` so that the tree is the
same at every build; ``log_nodes`` caches the hash of every complete 256-leaf (and 65,536-leaf …)
subtree, so an append hashes only the new part.

Before appending, the publisher checks that the stored log still gives the last checkpoint it
signed (``check_stored``), and before signing it checks the consistency proof from that
checkpoint to the new tree; either failing (a dropped, changed or reordered entry) refuses the
build and shows the last checkpoint. ``write_log`` then writes C2SP tlog-tiles under ``log/``:
``checkpoint``, ``tile/…``, ``tile/entries/…``, ``vkey``, ``policy.json`` and the dated archive
of every checkpoint (``archive/index.json``, ``archive/<size>``). Full tiles of the previous site
are hard-linked when its checkpoint is one this store signed; a full tile written from the store
is first checked against the cached subtree hash, so a changed old entry is refused too.

The tables are append-only (SQLite triggers, ``lianxin/store/migrations.py``). The batch is
committed (and its checkpoint signed and stored) before the rest of the build: a build that
fails afterwards leaves it in the store, and the next build publishes the same checkpoint (or
one that extends it).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from lianxin.secrets import SigningSecret
from lianxin.tlog import LogError
from lianxin.tlog.checkpoint import Checkpoint
from lianxin.tlog.entries import PAD, dummy_entry, receipt_entry, register_entry
from lianxin.tlog.merkle import (
    consistency_proof,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
)
from lianxin.tlog.note import COSIGNATURE, ED25519, Verifier, parse_note, sign
from lianxin.tlog.tiles import HEIGHT, WIDTH, encode_bundle, tile_path, tiles_of

from .errors import PublisherError


class LogRefused(PublisherError):
    """The new tree would not extend the last signed checkpoint: nothing is signed."""


def register_head(db: Any) -> tuple[int, bytes] | None:
    """The register's chain head to commit to: (sequence, hash) of the last event.

    The hook for signed chain heads: replace the value, keep the shape."""
    row = db.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
    return (int(row[0]), bytes(row[1])) if row else None


class DbSource:
    """A ``HashSource`` over the stored log: leaf hashes below level 8, cached nodes above."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self.cache: dict[tuple[int, int], bytes] = {}

    def _base(self, level: int, first: int, count: int) -> list[bytes]:
        if level == 0:
            rows = self.conn.execute(
                "SELECT entry FROM log_entries WHERE idx >= ? AND idx < ? ORDER BY idx",
                [first, first + count],
            ).fetchall()
            hashes = [leaf_hash(bytes(r[0])) for r in rows]
        else:
            rows = self.conn.execute(
                "SELECT hash FROM log_nodes WHERE level = ? AND idx >= ? AND idx < ? ORDER BY idx",
                [level, first, first + count],
            ).fetchall()
            hashes = [bytes(r[0]) for r in rows]
        if len(hashes) != count:
            raise LogRefused(f"the stored log lacks hashes at level {level} from {first}")
        return hashes

    def hashes(self, level: int, first: int, count: int) -> list[bytes]:
        """Hashes ``first..first+count-1`` at a tile level (0, 8, 16 …)."""
        return self._base(level, first, count)

    def __call__(self, level: int, index: int) -> bytes:
        key = (level, index)
        if key not in self.cache:
            base = level - level % HEIGHT
            height = level - base
            hashes = self._base(base, index << height, 1 << height)
            while len(hashes) > 1:
                hashes = [node_hash(hashes[i], hashes[i + 1]) for i in range(0, len(hashes), 2)]
            self.cache[key] = hashes[0]
        return self.cache[key]


@dataclass(frozen=True)
class LogState:
    """The log after a build's append."""

    origin: str
    size: int
    note: str  # the signed checkpoint (with any cosignatures)
    appended: int
    previous: int  # the size of the last checkpoint before this build


def log_size(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT max(idx) FROM log_entries").fetchone()
    return 0 if row[0] is None else int(row[0]) + 1


@dataclass(frozen=True)
class Last:
    """The last checkpoint signed, and where its batch ended."""

    checkpoint: Checkpoint
    note: str
    submissions: int
    head_entry: bytes | None


def last_checkpoint(conn: sqlite3.Connection) -> Last | None:
    row = conn.execute(
        "SELECT note, submissions, head_entry FROM log_checkpoints ORDER BY size DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return None
    note = str(row[0])
    head = bytes(row[2]) if row[2] is not None else None
    return Last(Checkpoint.from_text(parse_note(note).text), note, int(row[1]), head)


def _new_entries(
    conn: sqlite3.Connection, db: Any, last: Last | None
) -> tuple[list[tuple[bytes, bytes | None]], int, bytes | None]:
    """This batch (entry, receipt id) shuffled; the last submission id and head it covers."""
    after = last.submissions if last else 0
    rows = conn.execute(
        "SELECT id, receipt_id FROM submissions WHERE id > ? ORDER BY id", [after]
    ).fetchall()
    batch: list[tuple[bytes, bytes | None]] = [
        (receipt_entry(bytes(r[1])), bytes(r[1])) for r in rows
    ]
    upto = int(rows[-1][0]) if rows else after
    head = register_head(db)
    head_entry = last.head_entry if last else None
    if head is not None and register_entry(*head) != head_entry:
        head_entry = register_entry(*head)
        batch.append((head_entry, None))
    if batch:
        batch += [(dummy_entry(), None) for _ in range(-len(batch) % PAD)]
    secrets.SystemRandom().shuffle(batch)
    return batch, upto, head_entry


def _extend_nodes(conn: sqlite3.Connection, source: DbSource, old: int, new: int) -> None:
    """Cache the hashes of the subtrees of 256**k leaves completed by growing old -> new."""
    level = HEIGHT
    while new >> level:
        for index in range(old >> level, new >> level):
            below = source.hashes(level - HEIGHT, index * WIDTH, WIDTH)
            conn.execute("INSERT INTO log_nodes VALUES (?, ?, ?)", [level, index, _mth(below)])
        level += HEIGHT


def _mth(hashes: list[bytes]) -> bytes:
    """The root of a complete subtree over ``hashes`` (a power of two of them)."""
    while len(hashes) > 1:
        hashes = [node_hash(hashes[i], hashes[i + 1]) for i in range(0, len(hashes), 2)]
    return hashes[0]


def check_stored(conn: sqlite3.Connection, source: DbSource, last: Last | None) -> None:
    """Refuse unless the stored log still gives the last checkpoint's root (before appending).

    The root comes from the cached subtree hashes and the entries after the last complete
    256-leaf subtree, so a dropped entry (which shifts the tail), a changed cached hash, or a
    changed, dropped or reordered recent entry is caught here; older entries are checked
    against the cached hashes whenever their tiles are written (``write_log``)."""
    if last is None:
        return
    old = last.checkpoint
    size = log_size(conn)
    problem = None
    if size != old.size:
        problem = f"the store holds {size} entries, the last checkpoint {old.size}"
    else:
        try:
            if root(source, old.size) != old.root:
                problem = "the stored entries no longer give its root hash"
        except LogRefused as exc:
            problem = str(exc)
    if problem:
        raise LogRefused(
            f"the stored log does not match the last checkpoint ({problem}): an entry was"
            f" dropped, changed or reordered; refusing to sign. Last checkpoint:\n{last.note}"
        )


def append_batch(
    db: Any,
    origin: str,
    signer: SigningSecret,
    today: date,
    cosignatures: Sequence[str] = (),
) -> LogState:
    """Append this publication's batch, check it extends the last checkpoint, sign."""
    conn: sqlite3.Connection = db.conn
    conn.execute("BEGIN IMMEDIATE")
    try:
        last = last_checkpoint(conn)
        check_stored(conn, DbSource(conn), last)
        old = last.checkpoint.size if last else 0
        batch, upto, head_entry = _new_entries(conn, db, last)
        try:
            conn.executemany(
                "INSERT INTO log_entries (idx, entry, receipt_id) VALUES (?, ?, ?)",
                [(old + i, entry, rid) for i, (entry, rid) in enumerate(batch)],
            )
        except sqlite3.IntegrityError as exc:
            raise LogRefused(f"a receipt is already in the log ({exc})") from exc
        size = old + len(batch)
        source = DbSource(conn)
        _extend_nodes(conn, source, old, size)
        new_root = root(source, size)
        if last is not None and 0 < old < size:  # from the empty tree, any tree extends
            try:
                proof = consistency_proof(source, old, size)
                verify_consistency(old, size, proof, last.checkpoint.root, new_root)
            except LogError as exc:
                raise LogRefused(f"the new tree does not extend the last one: {exc}") from exc
        if last is not None and size == old and last.checkpoint.origin == origin:
            note = last.note
        else:
            text = Checkpoint(origin, size, new_root).text()
            note = text + "\n" + sign(text, origin, signer.raw).line()
        note = _add_cosignatures(note, cosignatures)
        if last is not None and size == old:
            conn.execute("UPDATE log_checkpoints SET note = ? WHERE size = ?", [note, size])
        else:
            conn.execute(
                "INSERT INTO log_checkpoints VALUES (?, ?, ?, ?, ?)",
                [size, today.isoformat(), note, upto, head_entry],
            )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return LogState(origin, size, note, len(batch), old)


def _add_cosignatures(note: str, cosigned: Sequence[str]) -> str:
    """Add the witness signature lines of cosigned copies of this very checkpoint."""
    parsed = parse_note(note)
    for other in cosigned:
        copy = parse_note(other)
        if copy.text != parsed.text:
            continue
        for signature in copy.signatures:
            if signature not in parsed.signatures:
                parsed = parsed.with_signature(signature)
    return parsed.render()


def write_log(
    db: Any,
    state: LogState,
    out: Path,
    previous_site: Path | None,
    signer: SigningSecret,
    witnesses: Sequence[str] = (),
    quorum: int = 0,
) -> dict[str, int]:
    """Write ``log/`` into the site being built; ``witnesses`` (vkeys) and ``quorum`` go into
    ``policy.json``, which the status page applies."""
    policy = write_policy(witnesses, quorum)
    conn: sqlite3.Connection = db.conn
    out.mkdir(parents=True, exist_ok=True)
    old_tiles = previous_site / "tile" if previous_site else None
    if old_tiles and old_tiles.is_dir() and _same_lineage(conn, previous_site):
        shutil.copytree(old_tiles, out / "tile", copy_function=os.link)
    source = DbSource(conn)
    written = 0
    for level, n, width in tiles_of(state.size):
        path = out / tile_path(level, n, width)
        if not path.exists():
            hashes = source.hashes(level * HEIGHT, n * WIDTH, width)
            if width == WIDTH and _mth(hashes) != source((level + 1) * HEIGHT, n):
                raise LogRefused(
                    f"the stored hashes of tile {level}/{n} do not give the signed tree:"
                    " an old entry was changed; refusing to publish"
                )
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"".join(hashes))
            written += 1
        if level == 0:
            bundle = out / tile_path("entries", n, width)
            if not bundle.exists():
                rows = conn.execute(
                    "SELECT entry FROM log_entries WHERE idx >= ? AND idx < ? ORDER BY idx",
                    [n * WIDTH, n * WIDTH + width],
                ).fetchall()
                bundle.parent.mkdir(parents=True, exist_ok=True)
                bundle.write_bytes(encode_bundle([bytes(r[0]) for r in rows]))
                written += 1
    (out / "checkpoint").write_text(state.note, encoding="utf-8")
    (out / "policy.json").write_text(policy, encoding="utf-8")
    vkey = Verifier(state.origin, ED25519, bytes(signer.verify_key)).vkey
    (out / "vkey").write_text(vkey + "\n", encoding="utf-8")
    archive = out / "archive"
    archive.mkdir(exist_ok=True)
    index = []
    for size, published, note in conn.execute(
        "SELECT size, published_date, note FROM log_checkpoints ORDER BY size"
    ):
        (archive / str(size)).write_text(note, encoding="utf-8")
        index.append({"date": published, "size": size, "path": f"archive/{size}"})
    (archive / "index.json").write_text(json.dumps(index, indent=1) + "\n", encoding="utf-8")
    return {"size": state.size, "appended": state.appended, "tiles_written": written}


def write_policy(witnesses: Sequence[str], quorum: int) -> str:
    """The witness policy document: ``{"witnesses": [vkey, …], "quorum": k}``."""
    try:
        parsed = [Verifier.parse(v) for v in witnesses]
    except LogError as exc:
        raise LogRefused(f"witness key: {exc}") from exc
    if any(v.kind != COSIGNATURE for v in parsed):
        raise LogRefused("a witness key must be a cosignature (type 0x04) key")
    if not 0 <= quorum <= len(parsed):
        raise LogRefused(f"a quorum of {quorum} needs at least as many witness keys")
    doc = {"quorum": quorum, "witnesses": [v.vkey for v in parsed]}
    return json.dumps(doc, indent=1) + "\n"


def _same_lineage(conn: sqlite3.Connection, previous_site: Path | None) -> bool:
    """Whether the previous site's log is one this store signed (its tiles can be reused)."""
    if previous_site is None:
        return False
    try:
        note = (previous_site / "checkpoint").read_text(encoding="utf-8")
        checkpoint = Checkpoint.from_text(parse_note(note).text)
    except (OSError, LogError, UnicodeDecodeError):
        return False
    row = conn.execute(
        "SELECT note FROM log_checkpoints WHERE size = ?", [checkpoint.size]
    ).fetchone()
    return row is not None and parse_note(str(row[0])).text == parse_note(note).text


# The token's log entries inside its sealed status document: the receipt of the report that
# created its case and of the follow-ups sent with it, as [{"i": index, "r": receipt id hex}]
# (only the token holder can read them). Tables ``cases c`` and ``tokens t``.
LOG_JSON = (
    "(SELECT coalesce(json_group_array(json_object('i', l.idx, 'r', lower(hex(l.receipt_id)))),"
    " '[]') FROM submissions s JOIN log_entries l ON l.receipt_id = s.receipt_id"
    " WHERE s.case_id = c.id AND (s.kind = 'report' OR s.author = t.lookup_id))"
)
