"""`lianxin demo --no-serve`: the whole path a newcomer runs, end to end."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT
from test_tlog_publish import rewrite_log

from lianxin.protocol import Token
from lianxin.status import read_status
from lianxin.store.db import connect
from lianxin.store.events import verify_chain
from lianxin_cli.demo.run import DEMO_LOG
from publisher.manifest import verify_site


@pytest.mark.slow
def test_demo_runs_the_whole_path(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "lianxin_cli",
            "demo",
            "--dir",
            str(tmp_path),
            "--no-serve",
            "--port",
            "0",
            "--gateway-port",
            "0",
            "--pow-difficulty",
            "8",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    # --no-serve leaves nothing running, so it offers no URL, only the built files.
    assert "Portal served at" not in result.stdout and "Submit page:" not in result.stdout
    assert f"Site built in {tmp_path / 'site'}" in result.stdout
    assert "Summary(" not in result.stdout and " cases (" in result.stdout
    tokens = (tmp_path / "demo-tokens.txt").read_text().split()
    assert len(tokens) == 6
    site = tmp_path / "site"
    verify_site(str(site))
    statuses = [read_status(str(site), Token.parse(t)) for t in tokens]
    assert all(s is not None for s in statuses)
    assert any(s.answers for s in statuses if s is not None), "the demo answers some cases"
    assert (site / "statistics" / "index.html").is_file()
    assert verify_chain(connect(tmp_path / "lianxin.sqlite", readonly=True)) == []
    # The public log holds every receipt; each token's status names and proves its entries.
    audited = cli_run("audit", str(site), "--state", str(tmp_path / "auditor"))
    assert audited.returncode == 0 and "OK: demo.lianxin.example/log holds" in audited.stdout
    shown = cli_run("status", "--site", str(site), tokens[0])
    assert "is entry" in shown.stdout and "verified against its signed checkpoint" in shown.stdout
    conn = sqlite3.connect(tmp_path / "lianxin.sqlite")
    entries = [bytes(r[0]) for r in conn.execute("SELECT entry FROM log_entries ORDER BY idx")]
    rewrite_log(site, tmp_path / "keys", [entries[1], entries[0], *entries[2:]], DEMO_LOG)
    failed = cli_run("audit", str(site), "--state", str(tmp_path / "auditor"))
    assert failed.returncode == 1 and "fork" in failed.stderr


def cli_run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lianxin_cli", *args], capture_output=True, text=True, cwd=ROOT
    )


@pytest.mark.slow
def test_a_terminated_demo_stops_its_gateway_and_portal(tmp_path: Path) -> None:
    import signal
    import socket

    from conftest import free_port

    site_port, gateway_port, desk_port = free_port(), free_port(), free_port()
    demo = subprocess.Popen(
        [sys.executable, "-m", "lianxin_cli", "demo", "--dir", str(tmp_path), "--port",
         str(site_port), "--gateway-port", str(gateway_port), "--desk-port", str(desk_port),
         "--pow-difficulty", "8"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT,
        start_new_session=True,  # its own process group: a failing test stops its servers too
    )  # fmt: skip
    try:
        assert demo.stdout is not None
        printed = []
        for line in demo.stdout:
            printed.append(line)
            if "Press Ctrl+C" in line:
                break
        # The hint to repeat the desk steps says that routing needs --days (default policy).
        assert any("desk route" in line and "--days" in line for line in printed), printed
        # The web desk is up, at the printed URL, beside the officers and their passphrases.
        desk_url = f"http://127.0.0.1:{desk_port}/"
        assert any(line.startswith("Web desk:") and desk_url in line for line in printed)
        assert any("handler.dongshan" in line and "passphrase:" in line for line in printed)
        import httpx

        assert "登录" in httpx.get(desk_url + "login", timeout=10).text
        # A handler signs in with the printed passphrase and opens every case of their work
        # list (the demo's cases include events recorded without a time: synthetic cases).
        phrase = next(
            line.split("passphrase:")[1].strip() for line in printed if "handler.dongshan" in line
        )
        with httpx.Client(base_url=desk_url, timeout=30, follow_redirects=True) as web:
            form = web.get("login").text
            csrf = re.search(r'name="csrf" value="([^"]+)"', form)
            assert csrf, form
            work = web.post(
                "login",
                data={"csrf": csrf.group(1), "officer": "handler.dongshan", "passphrase": phrase},
            )
            assert work.status_code == 200 and "/work" in str(work.url), work.text[:500]
            cases = sorted(set(re.findall(r'href="/case/(\d+)', work.text)))
            assert len(cases) >= 5, work.text[:500]
            for case in cases:
                page = web.get(f"case/{case}")
                assert page.status_code == 200, (case, page.text[:300])
        # The auditor's pages over the same register (its events are timed and untimed).
        phrase = next(
            line.split("passphrase:")[1].strip() for line in printed if " auditor " in line
        )
        with httpx.Client(base_url=desk_url, timeout=120, follow_redirects=True) as web:
            csrf = re.search(r'name="csrf" value="([^"]+)"', web.get("login").text)
            assert csrf
            web.post(
                "login", data={"csrf": csrf.group(1), "officer": "auditor", "passphrase": phrase}
            )
            for path in ("audit/events", "audit/reads", "audit/verify"):
                page = web.get(path)
                assert page.status_code == 200, (path, page.text[:300])
        demo.send_signal(signal.SIGTERM)
        assert demo.wait(timeout=60) == 0
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)  # the demo and the servers it started
            demo.wait(timeout=30)
    for port in (site_port, gateway_port, desk_port):
        with socket.socket() as sock, pytest.raises(ConnectionRefusedError):
            sock.connect(("127.0.0.1", port))
