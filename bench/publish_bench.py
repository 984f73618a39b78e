"""How long a full ``lianxin publish`` takes at 10,000, 100,000 and 1,000,000 cases, how much
memory it needs, and what one status lookup downloads.

Each register comes from ``desk.synth.synthesize_register`` (realistic channels, types, states,
deadlines, tags, satisfaction and reviews over 24 months) with one token per case. The bench adds
what the synthesizer leaves out but the status shards carry: a sealed answer for every answered
case (random bytes of the sizes real sealed answers have, indistinguishable without the token),
and ``REAL_TOKENS`` real tokens whose rows are then looked up in the built site. Registers are
built once and reused (``--dir``); each measured publish runs on a fresh copy in a child process,
so that its peak memory belongs to the publish alone and every month is released from scratch.

Targets at 1M cases: full publish <= 60 s, peak memory <= 1.5 GiB, one status lookup downloads
<= 64 KiB, and the MkDocs step does not grow with the number of cases.

    .venv/bin/python bench/publish_bench.py [--sizes 10000 100000 1000000] [--dir var/bench]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import time
from datetime import date
from itertools import pairwise
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from desk.synth import synthesize_register  # noqa: E402
from lianxin.keys import init_keys  # noqa: E402
from lianxin.protocol import Token  # noqa: E402
from lianxin.protocol.sealing import seal_answer_for_reporter  # noqa: E402
from lianxin.status import read_status  # noqa: E402
from lianxin.store.db import connect  # noqa: E402
from publisher.build import PublishSettings, publish  # noqa: E402

START, MONTHS, TODAY = "2024-12", 24, date(2026, 12, 3)
REAL_TOKENS = 3
GIB = 1024**3


def make_register(path: Path, n: int) -> list[str]:
    """A synthetic register of ``n`` cases with tokens and answers; returns the real tokens."""
    synthesize_register(path, n, seed=7, start_month=START, months=MONTHS, today=TODAY,
                        with_tokens=True)  # fmt: skip
    rng = random.Random(7)
    db = connect(path)
    rows = db.execute(
        "SELECT t.lookup_id, t.case_id, t.reply_pk, c.answered_date FROM tokens t"
        " JOIN cases c ON c.id = t.case_id WHERE c.answered_date IS NOT NULL"
    ).fetchall()
    real: list[str] = []
    replaced: set[bytes] = set()
    db.execute("BEGIN")
    for lookup_id, case_id, _, answered in rng.sample(rows, min(REAL_TOKENS, len(rows))):
        replaced.add(lookup_id)
        token = Token.generate()
        keys = token.keys()
        db.execute(
            "UPDATE tokens SET lookup_id = ?, reply_pk = ? WHERE lookup_id = ?",
            [keys.lookup_id, bytes(keys.reply_public), lookup_id],
        )
        sealed = seal_answer_for_reporter({"kind": "answer", "text": "经核查，问题已处理。"},
                                          bytes(keys.reply_public))  # fmt: skip
        db.execute(
            "INSERT INTO answers (case_id, lookup_id, kind, sealed, created_date)"
            " VALUES (?, ?, 'answer', ?, ?)",
            [case_id, keys.lookup_id, sealed, answered],
        )
        real.append(str(token))
    # A sealed answer is 48 bytes of box overhead plus 128-byte blocks of padded text.
    db.conn.executemany(
        "INSERT INTO answers (case_id, lookup_id, kind, sealed, created_date)"
        " VALUES (?, ?, 'answer', ?, ?)",
        ((case_id, lookup_id, rng.randbytes(48 + 128 * rng.randint(2, 5)), answered)
         for lookup_id, case_id, _, answered in rows if lookup_id not in replaced),
    )  # fmt: skip
    db.execute("COMMIT")
    db.conn.close()
    return real


def measure(work: Path, register: Path, real: list[str]) -> dict[str, Any]:
    """One full publish of a fresh copy of ``register`` (run in a child process)."""
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    db = work / "db.sqlite"
    shutil.copy(register, db)
    init_keys(work / "keys")
    started = time.perf_counter()
    result = publish(PublishSettings(db, work / "keys", work / "site", TODAY))
    total = time.perf_counter() - started
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    index = json.loads((work / "site" / "status" / "index.json").read_text())
    index_bytes = (work / "site" / "status" / "index.json").stat().st_size
    found = [read_status(str(work / "site"), Token.parse(t)) for t in real]
    lookup_started = time.perf_counter()
    read_status(str(work / "site"), Token.parse(real[0])) if real else None
    lookup_seconds = time.perf_counter() - lookup_started
    cases = connect(db).execute("SELECT count(*) FROM cases").fetchone()[0]
    shutil.rmtree(work)
    return {
        "cases": cases,
        "tokens": result.status["tokens"],
        "seconds": result.seconds,
        "total_seconds": round(total, 2),
        "peak_rss_self": me,
        "peak_rss_children": children,
        "shards": index["shards"],
        "shard_bytes": index["shard_bytes"],
        "lookup_bytes": index["shard_bytes"] + index_bytes,
        "lookup_seconds": round(lookup_seconds, 4),
        "real_tokens_found": sum(1 for f in found if f is not None),
        "files": result.files,
    }


def _mib(n: int) -> str:
    return f"{n / 2**20:,.0f} MiB"


def report(results: list[dict[str, Any]]) -> None:
    """Print the table, the growth between sizes and the verdict on the 1M targets."""
    steps = list(results[0]["seconds"])
    machine = platform.processor() or platform.machine()
    print(f"\nmachine: {machine}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    head = f"{'cases':>10} " + " ".join(f"{s:>9}" for s in steps) + f" {'total':>8}"
    print(
        head + f" {'peak self':>10} {'children':>10} {'shards':>7} {'shard B':>8} {'lookup B':>9}"
    )
    for r in results:
        line = f"{r['cases']:>10,} " + " ".join(f"{r['seconds'][s]:>9.2f}" for s in steps)
        print(line + f" {r['total_seconds']:>8.2f} {_mib(r['peak_rss_self']):>10}"
              f" {_mib(r['peak_rss_children']):>10} {r['shards']:>7,} {r['shard_bytes']:>8,}"
              f" {r['lookup_bytes']:>9,}")  # fmt: skip
    for small, big in pairwise(results):
        factor = big["cases"] / small["cases"]
        grow = {s: big["seconds"][s] / max(small["seconds"][s], 1e-3) for s in steps}
        parts = ", ".join(
            f"{s} x{g:.1f}"
            for s, g in grow.items()
            if s in ("pages", "mkdocs", "status", "manifest")
        )
        print(
            f"{small['cases']:,} -> {big['cases']:,} cases (x{factor:.0f}): total "
            f"x{big['total_seconds'] / small['total_seconds']:.1f}; {parts}"
        )
    last = results[-1]
    if last["cases"] >= 1_000_000:
        peak = max(last["peak_rss_self"], last["peak_rss_children"])
        checks = {
            "full publish <= 60 s": last["total_seconds"] <= 60,
            "peak memory <= 1.5 GiB (largest process)": peak <= 1.5 * GIB,
            "one status lookup <= 64 KiB": last["lookup_bytes"] <= 64 * 1024,
            "MkDocs flat (within 2x of the smallest)":
                last["seconds"]["mkdocs"] <= 2 * results[0]["seconds"]["mkdocs"] + 0.5,
            "real tokens found": last["real_tokens_found"] == REAL_TOKENS,
        }  # fmt: skip
        for name, ok in checks.items():
            print(f"  {'PASS' if ok else 'FAIL'}  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--dir", type=Path, default=ROOT / "var" / "bench")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # child: measure one size
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    if args.one:
        register = args.dir / f"publish-{args.one}.sqlite"
        real = json.loads(register.with_suffix(".tokens.json").read_text())
        print(json.dumps(measure(args.dir / f"work-{args.one}", register, real)))
        return
    results = []
    for n in args.sizes:
        register = args.dir / f"publish-{n}.sqlite"
        tokens = register.with_suffix(".tokens.json")
        if not register.exists() or not tokens.exists():
            print(f"building a register of {n:,} cases in {register} …", flush=True)
            started = time.perf_counter()
            for stale in (register, tokens):
                stale.unlink(missing_ok=True)
            tokens.write_text(json.dumps(make_register(register, n)))
            print(f"  built in {time.perf_counter() - started:.0f} s", flush=True)
        print(f"publishing {n:,} cases …", flush=True)
        child = subprocess.run(
            [sys.executable, __file__, "--dir", str(args.dir), "--one", str(n)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        results.append(json.loads(child.stdout.strip().splitlines()[-1]))
        print(f"  {results[-1]['total_seconds']} s", flush=True)
    report(results)


if __name__ == "__main__":
    main()
