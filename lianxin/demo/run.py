"""The demo's steps. Each step is a plain function so tests can run the same path."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import httpx

from ..client import GatewayClient, load_published_keys, submit_report
from ..keys import KeysExistError, export_published, init_keys


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
    text = resources.files("lianxin.demo").joinpath("reports.json").read_text(encoding="utf-8")
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
def running_gateway(state: DemoState, port: int, pow_difficulty: int) -> Iterator[None]:
    """Run ``lianxin gateway serve`` as a child process for the duration of the block."""
    say(f"Gateway on http://127.0.0.1:{port}")
    args = [
        sys.executable,
        "-m",
        "lianxin",
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
