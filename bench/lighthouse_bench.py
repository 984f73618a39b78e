"""Lighthouse scores of the published portal, offline, in Debian's Chromium.

    .venv/bin/python bench/lighthouse_bench.py [--pages ,submit/,status/,statistics/] [--keep]

Builds a site from a synthetic register (as tests/test_browser_site.py does: 600 cases over
ten months, ``--site-url`` set to the loopback address it is served on), serves it with the
publisher's own preview server, starts a gateway on the loopback for it (the submit and status
pages ask it for its keys and limits, as they would in production: without one, a refused
connection is a console error), and runs Lighthouse (npm ``lighthouse``, desktop preset,
``/usr/bin/chromium`` headless; nothing leaves the machine) on each page in Chinese and English.
Prints the four category scores per page and every audit that did not pass.

Performance is a timing: run it on a quiet machine (the load average is printed first).
tests/test_lighthouse.py checks the three categories that do not depend on timing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = "/usr/bin/chromium"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")


def lighthouse(url: str, out: Path) -> dict[str, Any]:
    """One Lighthouse run (desktop preset) on ``url``; the JSON report."""
    subprocess.run(
        [
            str(LIGHTHOUSE),
            url,
            "--preset=desktop",
            "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
            "--output=json",
            f"--output-path={out}",
            "--quiet",
        ],
        check=True,
        env={**os.environ, "CHROME_PATH": CHROMIUM},
        timeout=300,
    )
    report: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return report


def scores(report: dict[str, Any]) -> dict[str, int]:
    """Category scores out of 100."""
    return {c: round(100 * (report["categories"][c]["score"] or 0)) for c in CATEGORIES}


def failed_audits(report: dict[str, Any]) -> list[str]:
    """Audits that count towards a score and did not pass, with what they found."""
    found = []
    for name in CATEGORIES:
        for ref in report["categories"][name]["auditRefs"]:
            audit = report["audits"][ref["id"]]
            if ref["weight"] > 0 and audit["score"] is not None and audit["score"] < 1:
                items = (audit.get("details") or {}).get("items") or []
                where = sorted(
                    {
                        str(i.get("url") or i.get("sourceLocation", {}).get("url", ""))
                        for i in items
                        if isinstance(i, dict)
                    }
                    - {""}
                )
                found.append(f"{name}: {ref['id']} {audit.get('displayValue', '')} {where[:3]}")
    return found


def main() -> None:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import GatewayProcess, free_port
    from test_browser_site import build_site

    from publisher.serve import make_server

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", default=",submit/,status/,statistics/")
    parser.add_argument("--keep", action="store_true", help="keep the site and the reports")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()}")
    root = Path(tempfile.mkdtemp(prefix="lianxin-lighthouse-"))
    (root / "site").mkdir()
    server = make_server(root / "site")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    gateway_port = free_port()
    build_site(root, server.server_address[1], gateway_url=f"http://127.0.0.1:{gateway_port}/")
    gateway = GatewayProcess(
        db_path=root / "gateway.sqlite",
        keys_dir=root / "keys",
        port=gateway_port,
        log_path=root / "gateway.log",
        extra_args=["--portal-origin", base.rstrip("/")],
    ).start()
    print(f"{'page':28} " + " ".join(f"{c[:11]:>11}" for c in CATEGORIES))
    problems = []
    for prefix in ("", "en/"):
        for page in args.pages.split(","):
            url = base + prefix + page
            report = lighthouse(
                url, root / f"lh-{prefix.strip('/') or 'zh'}-{page.strip('/') or 'home'}.json"
            )
            s = scores(report)
            print(f"/{prefix}{page:27} " + " ".join(f"{s[c]:>11}" for c in CATEGORIES), flush=True)
            problems += [f"/{prefix}{page}: {p}" for p in failed_audits(report)]
    print(
        "\n".join(["", "audits not passed:", *problems] if problems else ["", "every audit passed"])
    )
    print(f"\nreproduce: .venv/bin/python bench/lighthouse_bench.py --pages {args.pages}")
    gateway.stop()
    server.shutdown()
    if args.keep:
        print(f"kept: {root}")
    else:
        import shutil

        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
