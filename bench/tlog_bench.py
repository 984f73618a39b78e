"""The public log at scale: appending 1,000,000 entries cold, then a day's 1,000 more; the size
of ``log/``; and what a browser downloads to verify one inclusion at that size.

The store gets N submissions (cases and sealed envelopes of dummy bytes, inserted directly) and
the publisher's log step runs as in a build (``append_batch`` then ``write_log``): cold into an
empty site, then after 1,000 more submissions into a new site beside the previous one (full
tiles hard-linked). ``append`` covers inserting the batch and hashing the new subtrees;
``write`` the tiles, bundles and checkpoint.

Targets: incremental append of a day's entries < 1 s; one inclusion check reads at most 3 tiles
plus the checkpoint, < 30 KiB.

    .venv/bin/python bench/tlog_bench.py [--entries 1000000] [--day 1000]
"""

from __future__ import annotations

import argparse
import secrets
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lianxin.keys import export_published, init_keys, load_publisher_signer  # noqa: E402
from lianxin.store.db import connect  # noqa: E402
from lianxin.tlog.client import current, prove_index  # noqa: E402
from lianxin.tlog.entries import receipt_entry  # noqa: E402
from lianxin.tlog.site import Site  # noqa: E402
from publisher import log as publog  # noqa: E402

ORIGIN = "bench.lianxin.example/log"


def add_submissions(db, n: int) -> list[bytes]:
    ids = [secrets.token_bytes(32) for _ in range(n)]
    with db.atomic():
        start = db.execute("SELECT coalesce(max(id), 0) FROM cases").fetchone()[0] + 1
        db.conn.executemany(
            "INSERT INTO cases (id, channel, received_date) VALUES (?, 'online', '2026-10-01')",
            [(start + i,) for i in range(n)],
        )
        db.conn.executemany(
            "INSERT INTO submissions (receipt_id, kind, case_id, key_id, author, ciphertext, sig,"
            " received_date) VALUES (?, 'report', ?, 'k', x'00', x'00', x'00', '2026-10-01')",
            [(rid, start + i) for i, rid in enumerate(ids)],
        )
    return ids


def publish_log(db, keys: Path, site: Path, previous: Path | None, today: date) -> dict[str, float]:
    signer = load_publisher_signer(keys)
    times: dict[str, float] = {}
    began = time.perf_counter()
    state = publog.append_batch(db, ORIGIN, signer, today)
    times["append"] = time.perf_counter() - began
    began = time.perf_counter()
    publog.write_log(db, state, site / "log", previous / "log" if previous else None, signer)
    times["write"] = time.perf_counter() - began
    export_published(keys, site / "keys.json")
    times["size"] = state.size
    return times


def folder_bytes(path: Path) -> tuple[int, int]:
    files = [p for p in path.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--day", type=int, default=1_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        init_keys(work / "keys")
        db = connect(work / "db.sqlite")
        began = time.perf_counter()
        ids = add_submissions(db, args.entries)
        print(
            f"store: {args.entries:,} submissions inserted in {time.perf_counter() - began:.1f} s"
        )
        cold = publish_log(db, work / "keys", work / "site1", None, date(2026, 11, 1))
        print(
            f"cold:  {int(cold['size']):,} entries; append+hash {cold['append']:.2f} s,"
            f" write log/ {cold['write']:.2f} s"
        )
        files, size = folder_bytes(work / "site1" / "log")
        print(f"log/:  {files:,} files, {size / 2**20:.1f} MiB")
        day = add_submissions(db, args.day)
        inc = publish_log(db, work / "keys", work / "site2", work / "site1", date(2026, 11, 2))
        print(
            f"day:   +{args.day:,} receipts -> {int(inc['size']):,} entries;"
            f" append {inc['append']:.3f} s (target < 1 s),"
            f" write log/ {inc['write']:.2f} s (hard links to the previous site's tiles)"
        )
        shutil.rmtree(work / "site1")
        for label, receipt_id in (
            ("oldest", ids[0]),
            ("middle", ids[len(ids) // 2]),
            ("newest", day[-1]),
        ):
            site = Site(str(work / "site2"))
            signed = current(site)
            checkpoint = site.fetched
            index = db.execute(
                "SELECT idx FROM log_entries WHERE receipt_id = ?", [receipt_id]
            ).fetchone()[0]
            site.fetched = site.files = 0
            tiles_before = site.fetched
            found = prove_index(site, signed, index, receipt_entry(receipt_id))
            del found
            print(
                f"proof: {label} receipt (entry {index:,}): checkpoint {len(signed.raw)} B,"
                f" tiles {site.fetched - tiles_before:,} B in {site.files} files;"
                f" total with keys.json {checkpoint + site.fetched:,} B"
            )
        db.conn.close()
    print(
        f"command: {sys.executable} bench/tlog_bench.py --entries {args.entries} --day {args.day}"
    )


if __name__ == "__main__":
    main()
