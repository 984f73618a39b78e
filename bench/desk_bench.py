"""How long ``lianxin desk warnings`` and ``lianxin desk analysis`` take on a 1,000,000-case
register, and how much memory they need.

The register is synthetic (``desk.synth.synthesize_register``: a realistic mix of channels,
item types, problem types, ranks, regions, states, working-day deadlines, tags, satisfaction,
reviews and warnings over 24 months) and is built once, then reused from ``--db``. The
measurements run in a fresh child process so that its peak resident memory belongs to the
measured work alone: ``warnings`` on the last day of the range (per-unit colours and every red
and yellow case) and ``analysis`` of the last month (every figure, Markdown rendered), each
timed ``--repeat`` times (best reported), then once more under ``tracemalloc`` for the Python
heap peak. Target: each under 2 s at 1M cases.

    .venv/bin/python bench/desk_bench.py [--cases 1000000] [--db var/bench/desk-1m.sqlite]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
import tracemalloc
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from desk.analysis import monthly_analysis  # noqa: E402
from desk.analysis_render import to_markdown  # noqa: E402
from desk.context import open_desk  # noqa: E402
from desk.synth import synthesize_register  # noqa: E402
from desk.warnings import compute_warnings  # noqa: E402
from lianxin.domain.workdays import FixedClock  # noqa: E402

START, MONTHS, LAST_MONTH, TODAY = "2024-12", 24, "2026-11", date(2026, 11, 30)


def _build(db: Path, cases: int, seed: int) -> None:
    db.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    summary = synthesize_register(db, cases, seed=seed, start_month=START, months=MONTHS)
    took = time.perf_counter() - started
    print(f"built {summary.cases:,} cases in {took:.1f} s ({summary.cases / took:,.0f}/s): {db}")
    print(f"  states {dict(sorted(summary.states.items()))}")
    print(f"  {summary.tags:,} ledger tags, {summary.warnings:,} warnings issued")


def _measure(db: Path, repeat: int) -> dict[str, Any]:
    desk = open_desk(db, clock=FixedClock(TODAY))
    out: dict[str, Any] = {}

    def warnings() -> str:
        report = compute_warnings(desk)
        totals = report.totals()
        return f"{dict(totals)}; {len(report.flagged):,} red/yellow cases listed"

    def analysis() -> str:
        result = monthly_analysis(desk, LAST_MONTH)
        text = to_markdown(desk, result)
        return (
            f"{result.received_total:,} received in {LAST_MONTH}; {len(text):,} chars of Markdown"
        )

    for name, work in (("warnings", warnings), ("analysis", analysis)):
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            result = work()
            times.append(time.perf_counter() - started)
        tracemalloc.start()
        work()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        out[name] = {
            "best_s": min(times),
            "times_s": times,
            "heap_peak_mib": peak / 2**20,
            "result": result,
        }
    out["max_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["cases"] = desk.db.execute("SELECT count(*) FROM cases").fetchone()[0]
    desk.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", type=Path, default=None, help="Register to build or reuse.")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    db = args.db or ROOT / "var" / "bench" / f"desk-{args.cases}.sqlite"
    if args.measure:
        print(json.dumps(_measure(db, args.repeat)))
        return
    if not db.exists():
        _build(db, args.cases, args.seed)
    else:
        print(f"reusing {db}")
    child = subprocess.run(
        [sys.executable, __file__, "--measure", "--db", str(db), "--repeat", str(args.repeat)],
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads(child.stdout)
    print(
        f"\n{figures['cases']:,} cases; {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}, SQLite {__import__('sqlite3').sqlite_version}"
    )
    for name in ("warnings", "analysis"):
        f = figures[name]
        verdict = "OK" if f["best_s"] < 2 else "OVER the 2 s target"
        runs = ", ".join(f"{t:.2f}" for t in f["times_s"])
        print(
            f"{name:>9}: best {f['best_s']:.2f} s (runs {runs}) — {verdict}; "
            f"Python heap peak {f['heap_peak_mib']:.1f} MiB"
        )
        print(f"{'':>11}{f['result']}")
    print(f"peak resident memory of the measuring process: {figures['max_rss_mib']:.0f} MiB")
    print(f"\nreproduce: .venv/bin/python bench/desk_bench.py --cases {args.cases} --db {db}")


if __name__ == "__main__":
    main()
