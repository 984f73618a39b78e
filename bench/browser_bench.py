"""Proof of work and sealing in headless Chromium, with the portal's own code.

    .venv/bin/python bench/browser_bench.py [--runs 10] [--difficulties 18,20,21]

Serves portal/js/protocol.mjs and the standard libsodium-wrappers build (copied the way the
publisher copies it) on loopback, loads them into Debian's /usr/bin/chromium, and prints the
median of ``--runs`` runs of:

- solving a proof-of-work challenge at each difficulty, with the submit page's settings
  (yielding to the event loop every 4096 hashes); a single solve is geometrically distributed,
  so the hash rate over all runs and the expected time 2^d / rate are printed too;
- sealing (validate, pack, pad, crypto_box_seal, sign, base64) a report of 4 KiB of text, and
  one with a 5 MiB attachment.

Targets (issue 5): proof of work about 1 s at the default difficulty; sealing 5 MiB under 1 s.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from publisher.browser import copy_libsodium  # noqa: E402
from publisher.serve import make_server  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
    "--disable-quic",
]
PAGE = '<!doctype html><meta charset="utf-8"><script type="module" src="bench.mjs"></script>\n'


def bench_folder(folder: Path) -> None:
    (folder / "js").mkdir()
    shutil.copyfile(ROOT / "portal/js/protocol.mjs", folder / "js/protocol.mjs")
    copy_libsodium(ROOT / "node_modules", folder / "js/vendor")
    shutil.copyfile(ROOT / "bench/browser_bench.mjs", folder / "bench.mjs")
    (folder / "index.html").write_text(PAGE)


def summary(values: list[float]) -> str:
    return (
        f"median {statistics.median(values):8.1f} ms   min {min(values):8.1f}   "
        f"max {max(values):8.1f}"
    )


def run(runs: int, difficulties: list[int]) -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        bench_folder(folder)
        server = make_server(folder)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/index.html"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page()
            page.goto(url)
            page.wait_for_function("globalThis.lxBench?.ready === true")
            print(f"Chromium {browser.version}, {cpu_info()}")
            print(f"{runs} runs each\n")
            print("proof of work (solveChallenge, yieldEvery 4096):")
            for difficulty in difficulties:
                results: list[dict[str, Any]] = page.evaluate(f"lxBench.pow({difficulty}, {runs})")
                times = [r["ms"] for r in results]
                rate = sum(r["hashes"] for r in results) / (sum(times) / 1000)
                expected = 2**difficulty / rate
                print(
                    f"  difficulty {difficulty}: {summary(times)}   "
                    f"{rate / 1e6:.2f} M hashes/s → expected {expected:.2f} s"
                )
            print("\nsealing a report (sealReport, then JSON text):")
            for label, text, attachment in (("4 KiB", 4096, 0), ("5 MiB", 4096, 5 << 20)):
                results = page.evaluate(f"lxBench.seal({text}, {attachment}, {runs})")
                print(
                    f"  {label:>6}: {summary([r['ms'] for r in results])}   "
                    f"with JSON.stringify: median "
                    f"{statistics.median(r['withJsonMs'] for r in results):.1f} ms"
                )
            browser.close()
        server.shutdown()


def cpu_info() -> str:
    try:
        model = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        model = "unknown CPU"
    cores = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    return f"{model}, {cores} cores available"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--difficulties", default="18,20,21")
    args = parser.parse_args()
    print("$ " + " ".join([".venv/bin/python", "bench/browser_bench.py", *sys.argv[1:]]))
    run(args.runs, [int(d) for d in args.difficulties.split(",")])


if __name__ == "__main__":
    main()
