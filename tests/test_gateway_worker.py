"""The gateway's two processes: the HTTP process and the intake worker behind it.

The worker is a real child process of a real ``lianxin gateway serve``; these tests kill it and
its parent with real signals and watch what a client sees.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from conftest import GatewayProcess
from support import post, problem_slug, sealed_report, solved

from gateway.frames import FrameError, FrameReader, frame
from lianxin.keys import load_keyring
from lianxin.protocol import Token


def children(pid: int) -> list[int]:
    """Live child processes of ``pid`` (Linux /proc)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_until(condition: Callable[[], bool], seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def worker_of(gateway: GatewayProcess) -> int:
    assert gateway.process is not None
    found = children(gateway.process.pid)
    assert len(found) == 1, found
    return found[0]


def test_the_gateway_runs_one_intake_worker_that_writes_the_store(
    gateway: GatewayProcess, keys_dir: Path
) -> None:
    worker = worker_of(gateway)
    answer = post(gateway.url, "/v1/reports", sealed_report(load_keyring(keys_dir)))
    assert answer.status_code == 201
    # The worker holds the store open for writing; the HTTP process only reads it.
    opened = {os.readlink(fd) for fd in Path(f"/proc/{worker}/fd").iterdir() if fd.exists()}
    assert str(gateway.db_path) in opened


def test_a_killed_worker_is_replaced_and_nothing_is_lost(
    gateway: GatewayProcess, keys_dir: Path
) -> None:
    keyring = load_keyring(keys_dir)
    before = post(gateway.url, "/v1/reports", sealed_report(keyring))
    assert before.status_code == 201
    worker = worker_of(gateway)
    os.kill(worker, signal.SIGKILL)
    assert wait_until(lambda: not alive(worker))
    # Until a new worker answers, submissions get 503 `unavailable` with Retry-After; then
    # they are taken again.
    assert gateway.process is not None
    assert wait_until(
        lambda: len(children(gateway.process.pid)) == 1 and worker_of(gateway) != worker
    )
    assert wait_until(lambda: httpx.get(gateway.url + "/v1/health").json()["status"] == "ok")
    envelope = sealed_report(keyring)
    after = post(gateway.url, "/v1/reports", envelope)
    assert after.status_code == 201, after.text
    with sqlite3.connect(gateway.db_path) as conn:
        assert conn.execute("SELECT count(*) FROM submissions").fetchone() == (2,)
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    for answer in (before, after):
        Token.parse(answer.json()["token"])


def test_while_the_worker_is_down_submissions_get_a_retryable_503(
    gateway: GatewayProcess, keys_dir: Path
) -> None:
    keyring = load_keyring(keys_dir)
    worker = worker_of(gateway)
    os.kill(worker, signal.SIGSTOP)  # hangs: requests queue up behind it
    try:
        with httpx.Client(timeout=30) as client:
            envelope = sealed_report(keyring)
            body = {"envelope": envelope.to_json(), "pow": solved(gateway.url, envelope)}
            answers: list[httpx.Response] = []
            sender = threading.Thread(
                target=lambda: answers.append(client.post(gateway.url + "/v1/reports", json=body))
            )
            sender.start()
            time.sleep(0.5)
            os.kill(worker, signal.SIGKILL)  # dies with the request in its socket
            sender.join(30)
    finally:
        if alive(worker):
            os.kill(worker, signal.SIGCONT)
    assert len(answers) == 1
    answer = answers[0]
    assert answer.status_code == 503 and problem_slug(answer) == "unavailable"
    assert answer.headers["retry-after"] == "2"
    # The same envelope sent again, once the new worker runs, is stored once.
    assert wait_until(lambda: httpx.get(gateway.url + "/v1/health").json()["status"] == "ok")
    retry = post(gateway.url, "/v1/reports", envelope)
    assert retry.status_code == 201, retry.text


def test_the_worker_dies_with_a_killed_gateway(
    start_gateway: Callable[..., GatewayProcess],
) -> None:
    gateway = start_gateway()
    worker = worker_of(gateway)
    assert gateway.process is not None
    gateway.process.send_signal(signal.SIGKILL)
    gateway.process.wait()
    assert wait_until(lambda: not alive(worker), 10), "the intake worker outlived the gateway"


def test_the_worker_stops_with_a_stopped_gateway(
    start_gateway: Callable[..., GatewayProcess],
) -> None:
    gateway = start_gateway()
    worker = worker_of(gateway)
    gateway.stop()
    assert not alive(worker)


def test_frames_arrive_whole_however_the_bytes_are_cut() -> None:
    payloads = [b"", b"a", b"x" * 70_000, bytes(range(256))]
    stream = b"".join(frame(p) for p in payloads)
    for cut in (1, 3, 4, 5, 1000, len(stream)):
        reader = FrameReader(max_frame=100_000)
        got: list[bytes] = []
        for start in range(0, len(stream), cut):
            got += reader.feed(stream[start : start + cut])
        assert got == payloads


def test_an_oversized_frame_is_refused_before_it_is_buffered() -> None:
    reader = FrameReader(max_frame=10)
    with pytest.raises(FrameError, match="over the limit"):
        reader.feed(frame(b"x" * 11)[:6])
