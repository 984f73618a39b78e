"""Lighthouse (npm ``lighthouse``, desktop preset, offline, /usr/bin/chromium) on the portal.

Accessibility, best practices and SEO must be 100, with no audit failed, on the home page, the
statistics page and the status page (Lighthouse 12.8, package.json), in Chinese and English.
Performance is a timing and is left to bench/lighthouse_bench.py, which prints all four scores
for more pages.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT
from test_browser_site import build_site

from publisher.serve import make_server

sys.path.insert(0, str(ROOT / "bench"))
from lighthouse_bench import failed_audits, lighthouse, scores

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    root = tmp_path_factory.mktemp("lighthouse")
    (root / "site").mkdir()
    server = make_server(root / "site")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        build_site(root, server.server_address[1])
        yield root, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("path", ["", "statistics/", "en/status/"])
def test_accessibility_best_practices_and_seo_are_100(served: tuple[Path, str], path: str) -> None:
    root, base = served
    report = lighthouse(base + path, root / "report.json")
    assert report["lighthouseVersion"].startswith("12.8."), report["lighthouseVersion"]
    console = report["audits"]["errors-in-console"]["details"]["items"]
    assert console == [], console  # e.g. a 404 for a language's sitemap.xml
    failed = [f for f in failed_audits(report) if not f.startswith("performance:")]
    assert not failed, failed
    got = scores(report)
    assert got["accessibility"] == got["best-practices"] == got["seo"] == 100, got
