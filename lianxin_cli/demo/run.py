"""The demo's steps. Each step is a plain function so tests can run the same path."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import httpx

from lianxin.client import GatewayClient, load_published_keys, submit_report
from lianxin.keys import KeysExistError, export_published, init_keys


def until_interrupted(step: float = 0.5) -> None:
    """Block until Ctrl+C (``KeyboardInterrupt``), waking every ``step`` seconds.

    The kernel may hand a process's SIGINT to any of its threads (the portal's, the web desk's).
    Python then runs the handler in the main thread only once that thread runs again, so an
    endless ``Event().wait()`` there would never see it and the demo would not stop."""
    while True:
        time.sleep(step)


def say(message: str) -> None:
    """Print a step heading."""
    print(f"\n==> {message}", flush=True)


@dataclass
class DemoState:
    """Where the demo keeps its files and what it learnt on the way."""

    root: Path
    gateway_url: str = ""
    tokens: list[str] = field(default_factory=list)

    @property
    def keys_dir(self) -> Path:
        return self.root / "keys"

    @property
    def db_path(self) -> Path:
        return self.root / "lianxin.sqlite"

    @property
    def published_keys(self) -> Path:
        return self.root / "published" / "keys.json"


def sample_reports() -> list[dict[str, Any]]:
    """The demo's sample reports (fictional)."""
    text = resources.files("lianxin_cli.demo").joinpath("reports.json").read_text(encoding="utf-8")
    reports: list[dict[str, Any]] = json.loads(text)
    return reports


def make_keys(state: DemoState) -> None:
    """Create keys once; reuse them on later runs."""
    say(f"Keys in {state.keys_dir}")
    try:
        init_keys(state.keys_dir)
        print("created new office, gateway and publisher keys")
    except KeysExistError:
        print("reusing the existing keys")
    export_published(state.keys_dir, state.published_keys)


@contextmanager
def running_gateway(
    state: DemoState, port: int, pow_difficulty: int, portal_origin: str
) -> Iterator[None]:
    """Run ``lianxin gateway serve`` as a child process for the duration of the block."""
    say(f"Gateway on http://127.0.0.1:{port} (CORS for {portal_origin})")
    args = [
        sys.executable,
        "-m",
        "lianxin_cli",
        "gateway",
        "serve",
        "--db",
        str(state.db_path),
        "--keys",
        str(state.keys_dir),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--pow-difficulty",
        str(pow_difficulty),
        "--portal-origin",
        portal_origin,
        "--create",
    ]
    log = (state.root / "gateway.log").open("ab")
    process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603 - own argv
    state.gateway_url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(state.gateway_url, process)
        yield
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _wait_healthy(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the gateway stopped at startup; see gateway.log")
        try:
            if httpx.get(url + "/v1/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("the gateway did not answer within 30 s")


def submit_samples(state: DemoState) -> None:
    """Submit the sample reports through the real protocol (seal, sign, proof of work)."""
    say("Submitting sample reports (sealed in this process, proof of work solved)")
    published = load_published_keys(str(state.published_keys))
    with GatewayClient(state.gateway_url) as client:
        for report in sample_reports():
            result = submit_report(client, published, report)
            state.tokens.append(result.token)
            print(f"  {result.token}  {report['title']}")
    (state.root / "demo-tokens.txt").write_text("\n".join(state.tokens) + "\n")
    print(
        f"tokens also saved to {state.root / 'demo-tokens.txt'} (demo only: real tokens are "
        "never written anywhere)"
    )


def walk_desk(state: DemoState, today: date) -> None:
    """The office's side: open, register, route, answer, forward, refuse (desk library)."""
    from desk.demo import walk_sample_cases

    say("Office desk: opening the reports with the office key and walking the cases")
    walk_sample_cases(state.db_path, state.keys_dir, "示例办公室/demo-officer", today)


def add_history(state: DemoState, today: date) -> None:
    """Eleven closed months of synthetic cases, so the statistics pages have figures."""
    from desk.demo import synthesize_register

    first = date(today.year - (1 if today.month == 1 else 0), today.month - 1 or 12, 1)
    start_year, start_month = divmod(first.year * 12 + first.month - 1 - 10, 12)
    say("Adding 11 closed months of synthetic history for the statistics pages")
    summary = synthesize_register(
        state.db_path,
        2400,
        seed=7,
        start_month=f"{start_year:04d}-{start_month + 1:02d}",
        months=11,
        today=today,
        with_events=True,
    )
    states = ", ".join(f"{n} {s}" for s, n in sorted(summary.states.items(), key=lambda i: -i[1]))
    print(f"  {summary.cases} cases ({states}); {summary.warnings} warnings issued")


DEMO_LOG = "demo.lianxin.example/log"


def publish_site(state: DemoState, today: date) -> Path:
    """Build the portal from the store (statistics, leaders, keys, status shards)."""
    from publisher.build import PublishSettings, publish

    say("Publishing the portal")
    out = state.root / "site"
    result = publish(
        PublishSettings(
            db_path=state.db_path,
            keys_dir=state.keys_dir,
            out=out,
            today=today,
            gateway_url=state.gateway_url,
            log_origin=DEMO_LOG,
        ),
        progress=lambda message: print(f"  {message}", flush=True),
    )
    print(
        f"  {result.files} files, {result.status['tokens']} tokens in "
        f"{result.status['shards']} status shards; public log of {result.log['size']} entries"
    )
    return out


@contextmanager
def running_web_desk(state: DemoState, port: int, today: date) -> Iterator[str]:
    """Run the web desk (``lianxin desk serve``) in a thread for the duration of the block;
    its day is the demo's, so steps taken in the browser follow the demo's events."""
    from deskweb.desks import WebSettings
    from deskweb.serve import make_server

    server = make_server(WebSettings(db=state.db_path, today=today), "127.0.0.1", port)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the web desk did not start on port {port}")
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}/"
    say(f"Web desk served at {url}")
    try:
        yield url
    finally:
        server.should_exit = True  # every signed-in officer's keys are wiped on the way out
        thread.join(timeout=15)


def how_to_repeat(state: DemoState, site_url: str, desk_url: str) -> None:
    """Print the commands that repeat the desk and publish steps by hand."""
    db, keys = state.db_path, state.keys_dir
    print(
        f"""
Portal:        {site_url}
Submit page:   {site_url}submit/        (English: {site_url}en/submit/)
Status page:   {site_url}status/        (try a token from {state.root / "demo-tokens.txt"})
Gateway:       {state.gateway_url}
Web desk:      {desk_url}   (sign in as registrar, approver, handler.dongshan, supervisor,
               ... with the passphrases printed above under "Desk: the demo office's officers")

After submitting in the browser, take it through the office on the web desk: as registrar,
Inbox (网上举报收件箱) opens it, then register it; the approver routes it; the unit's handler
signs for it and reports; the approver checks and answers; then publish (the last command
below). Or take every step in another shell:
  .venv/bin/lianxin desk inbox --db {db} --officer registrar   # passphrase printed above
  .venv/bin/lianxin desk register CASE --db {db} --officer registrar --item-type accusation \\
      --problem-type PROBLEM-TYPE     # codes: lianxin/domain/data/*.yaml
  .venv/bin/lianxin desk route CASE --db {db} --officer approver --assign UNIT --days 15
      # --days: the default policy (cn-jijian-2020) sets handling deadlines case by case
  .venv/bin/lianxin desk --help     # conclude, answer... (portal/docs/desk.en.md)
  .venv/bin/lianxin publish --db {db} --keys {keys} --out {state.root / "site"} \\
      --gateway-url {state.gateway_url} --log-origin {DEMO_LOG}
then reload the status page with your token. Check the public log as anyone can:
  .venv/bin/lianxin audit {site_url} --state {state.root / "auditor"}""",
        flush=True,
    )


def how_to_serve_later(state: DemoState) -> None:
    """With ``--no-serve``: where the built site is, and how to serve it (nothing is running)."""
    say(f"Site built in {state.root / 'site'} (not served: --no-serve)")
    print(
        f"""Nothing is left running. To look at the site:
  .venv/bin/lianxin publish --db {state.db_path} --keys {state.keys_dir} \\
      --out {state.root / "site"} --serve
or run `make demo` (without --no-serve) to serve the portal and the gateway together.""",
        flush=True,
    )
