"""`lianxin demo --linked --no-serve`: a city and two counties, one case assigned down and back
(slow: it publishes three portals)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from desk.demo_linked import ANSWER
from desk.verify import verify_register
from lianxin.offices.card import verify_card
from lianxin.protocol import Token
from lianxin.status import read_status
from lianxin.store.db import connect
from publisher.manifest import verify_site


@pytest.mark.slow
def test_the_linked_demo_walks_a_case_down_and_back(tmp_path: Path) -> None:
    args = [sys.executable, "-m", "lianxin_cli", "demo", "--linked", "--dir", str(tmp_path)]
    args += ["--no-serve", "--port", "0", "--gateway-port", "0", "--pow-difficulty", "8"]
    result = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    root = tmp_path / "linked"
    cards = {}
    for office in ("city", "county-a", "county-b"):
        site = root / office / "site"
        verify_site(str(site))
        sig = (site / "office.json.sig").read_text()
        cards[office] = verify_card((site / "office.json").read_bytes(), sig)
        report = verify_register(connect(root / office / "lianxin.sqlite", readonly=True))
        assert report.ok, (office, report.problems)
    assert cards["county-a"].parent == "city" and cards["city"].level == "city"
    token = Token.parse((root / "city" / "demo-tokens.txt").read_text().strip())
    status = read_status(str(root / "city" / "site"), token)
    assert status is not None and status.answers[0]["text"] == ANSWER
    assert status.status["state"] == "answered"
    # The city collects both counties' releases, verified against the cards it pinned (their
    # figures appear on its roll-up page once a month is over and released).
    for county in ("county-a", "county-b"):
        assert f"  {county}: 0 month(s)" in result.stdout, result.stdout[-3000:]
    assert (root / "city" / "site" / "rollup" / "index.html").is_file()
