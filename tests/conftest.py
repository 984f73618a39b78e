"""Shared fixtures: real key folders, real SQLite files, a real gateway on a loopback port."""

from __future__ import annotations

import os
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from lianxin.keys import Keyring, init_keys

ROOT = Path(__file__).resolve().parent.parent
TEST_POW_DIFFICULTY = 8


def free_port() -> int:
    """A port that was free a moment ago on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class GatewayProcess:
    """A gateway running as ``lianxin gateway serve`` in a child process."""

    db_path: Path
    keys_dir: Path
    port: int
    log_path: Path
    extra_args: list[str] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None
    nofile: int | None = None  # the gateway's file-descriptor limit (RLIMIT_NOFILE)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> GatewayProcess:
        args = [
            sys.executable,
            "-m",
            "lianxin_cli",
            "gateway",
            "serve",
            "--db",
            str(self.db_path),
            "--keys",
            str(self.keys_dir),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--pow-difficulty",
            str(TEST_POW_DIFFICULTY),
            "--create",
            *self.extra_args,
        ]
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            args, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, preexec_fn=self._limits
        )
        log.close()
        deadline = time.monotonic() + 60  # a loaded shared machine can take 30 s to import
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gateway exited: {self.log_path.read_text()}")
            try:
                # 503: up, but its store cannot take reports (tests of a failing store)
                if httpx.get(self.url + "/v1/health", timeout=1).status_code in (200, 503):
                    return self
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("gateway did not start in 60 s")

    def _limits(self) -> None:
        if self.nofile is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (self.nofile, self.nofile))

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs."""
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()


@pytest.fixture
def keys_dir(tmp_path: Path) -> Path:
    """A fresh keys folder."""
    directory = tmp_path / "keys"
    init_keys(directory)
    return directory


@pytest.fixture
def keyring(keys_dir: Path) -> Keyring:
    from lianxin.keys import load_keyring

    return load_keyring(keys_dir)


@pytest.fixture
def start_gateway(tmp_path: Path, keys_dir: Path) -> Iterator[Callable[..., GatewayProcess]]:
    """Start gateways (stopped at teardown): ``start_gateway(*extra_cli_args)``."""
    started: list[GatewayProcess] = []

    def start(
        *extra: str, db_path: Path | None = None, nofile: int | None = None
    ) -> GatewayProcess:
        gw = GatewayProcess(
            db_path=db_path or tmp_path / "lianxin.sqlite",
            keys_dir=keys_dir,
            port=free_port(),
            log_path=tmp_path / "gateway.log",
            extra_args=list(extra),
            nofile=nofile,
        )
        started.append(gw)
        return gw.start()

    yield start
    for gw in started:
        gw.stop()


@pytest.fixture
def gateway(start_gateway: Callable[..., GatewayProcess]) -> GatewayProcess:
    """One running gateway."""
    return start_gateway()
