"""Style and layout work of a page at load, with and without the lazy layout of its charts and
tables (``content-visibility: auto`` in portal/docs/css/pages.css), in Debian's Chromium.

    .venv/bin/python bench/layout_bench.py [--pages statistics/,en/statistics/] [--runs 9]

Builds the site lighthouse_bench.py measures (600 synthetic cases over ten months), serves it,
and loads each page ``--runs`` times in a fresh desktop-sized context (1350 x 940, Lighthouse's
desktop preset), after one warm-up load; Chromium's own counters (DevTools ``Performance``
metrics ``LayoutDuration``, ``RecalcStyleDuration``, ``TaskDuration``) are read after the load.
The baseline is the same site in the same run with the lazy-layout rule taken out of pages.css,
served from a second folder. Prints the medians and the ratios. Timings: run on a quiet
machine (the load average is printed first).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
METRICS = ("LayoutDuration", "RecalcStyleDuration", "TaskDuration")
LAZY_RULE_START = "/* The page has some 30 charts"


def without_lazy_layout(css: str) -> str:
    """pages.css without its content-visibility block (the baseline)."""
    start = css.index(LAZY_RULE_START)
    end = css.index(".md-typeset .lx-chart { contain-intrinsic-size", start)
    return css[:start] + css[css.index("\n", end) + 1 :]


def measure(browser: Any, url: str, runs: int) -> dict[str, float]:
    """Median milliseconds of each metric over ``runs`` loads (after one warm-up load)."""
    found: dict[str, list[float]] = {m: [] for m in METRICS}
    for i in range(runs + 1):
        context = browser.new_context(viewport={"width": 1350, "height": 940})
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Performance.enable")
        page.goto(url, wait_until="load")
        page.wait_for_timeout(300)
        values = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
        if i:
            for name in METRICS:
                found[name].append(1000 * values[name])
        context.close()
    return {name: statistics.median(v) for name, v in found.items()}


def main() -> None:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "tests"))
    from playwright.sync_api import sync_playwright
    from test_browser_site import build_site

    from publisher.serve import make_server

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", default="statistics/,en/statistics/")
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()}")
    root = Path(tempfile.mkdtemp(prefix="lianxin-layout-"))
    try:
        (root / "site").mkdir()
        shipped = make_server(root / "site")
        build_site(root, shipped.server_address[1])
        shutil.copytree(root / "site", root / "baseline")
        css = root / "baseline" / "css" / "pages.css"
        css.write_text(without_lazy_layout(css.read_text(encoding="utf-8")), encoding="utf-8")
        baseline = make_server(root / "baseline")
        for server in (shipped, baseline):
            threading.Thread(target=server.serve_forever, daemon=True).start()
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            print(f"{'page':22} {'metric':20} {'baseline ms':>12} {'lazy ms':>9} {'ratio':>6}")
            for page in args.pages.split(","):
                urls = [
                    f"http://127.0.0.1:{s.server_address[1]}/{page}" for s in (baseline, shipped)
                ]
                before, after = (measure(browser, url, args.runs) for url in urls)
                for name in METRICS:
                    ratio = before[name] / after[name] if after[name] else float("inf")
                    print(
                        f"/{page:21} {name:20} {before[name]:12.1f} {after[name]:9.1f}"
                        f" {ratio:5.2f}x"
                    )
            browser.close()
        for server in (shipped, baseline):
            server.shutdown()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    command = f".venv/bin/python bench/layout_bench.py --pages {args.pages} --runs {args.runs}"
    print(f"\nreproduce: {command}")


if __name__ == "__main__":
    main()
