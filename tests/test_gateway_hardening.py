"""Hardening found by attacking and breaking the gateway (issue 13): a failing store is seen,
bodies are refused without being read, every refusal is readable, nothing redirects."""

from __future__ import annotations

import errno
import os
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from conftest import ROOT, GatewayProcess, free_port
from support import post, problem_slug, report_doc, sealed_report, snapshot

from lianxin.keys import load_keyring
from lianxin.protocol import Envelope, Token
from lianxin.store.db import connect


def _serve(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lianxin_cli", "gateway", "serve", *args, "--port", "1"],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip


def _raw(port: int, head: bytes, body: bytes = b"", *, close: bool = False) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(head + body)
    if close:
        sock.close()
    return sock


def _answer(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    sock.close()
    return data


# --- starting on a store -----------------------------------------------------------------------
def test_a_missing_store_is_refused_unless_created(tmp_path: Path, keys_dir: Path) -> None:
    typo = tmp_path / "typo" / "lianxin.sqlite"
    result = _serve("--db", str(typo), "--keys", str(keys_dir))
    assert result.returncode == 2 and "--create" in result.stderr
    assert "Traceback" not in result.stderr
    assert not typo.parent.exists()


def test_a_file_that_is_not_sqlite_is_one_clear_line(tmp_path: Path, keys_dir: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_bytes(b"not a database\n" * 200)
    result = _serve("--db", str(junk), "--keys", str(keys_dir))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "notes.txt" in lines[0] and "SQLite" in lines[0]
    assert junk.read_bytes() == b"not a database\n" * 200


# --- HTTP details ------------------------------------------------------------------------------
def test_head_works_on_get_routes_and_405_says_what_is_allowed(gateway: GatewayProcess) -> None:
    for path in ("/v1/health", "/v1/keys"):
        head = httpx.head(gateway.url + path)
        assert head.status_code == 200 and head.content == b""
    refused = httpx.put(gateway.url + "/v1/keys")
    assert problem_slug(refused) == "method-not-allowed"
    assert refused.headers["allow"] == "GET, HEAD"
    assert httpx.get(gateway.url + "/v1/reports").headers["allow"] == "POST"


def test_no_redirect_is_built_from_the_host_header(gateway: GatewayProcess) -> None:
    answer = httpx.get(gateway.url + "/v1/health/", headers={"host": "evil.example"})
    assert answer.status_code == 404 and problem_slug(answer) == "not-found"
    assert "location" not in answer.headers


def test_a_challenge_with_a_body_is_refused_without_reading_it(gateway: GatewayProcess) -> None:
    answer = httpx.post(gateway.url + "/v1/challenges", content=b"{}")
    assert answer.status_code == 400 and problem_slug(answer) == "body-not-allowed"
    # A 200 MiB chunked body: the answer comes after the first chunk, not after 200 MiB.
    sock = _raw(
        gateway.port,
        b"POST /v1/challenges HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n",
        b"100000\r\n" + b"a" * 0x100000 + b"\r\n",
    )
    head = _answer(sock)  # the gateway answers and closes; the client sent one chunk
    assert head.startswith(b"HTTP/1.1 400 ") and b"body-not-allowed" in head
    assert httpx.post(gateway.url + "/v1/challenges").status_code == 201


def test_a_client_still_sending_reads_the_413(start_gateway: Callable[..., GatewayProcess]) -> None:
    gw = start_gateway("--max-body", "65536")
    declared = 8 * 1024 * 1024
    sock = _raw(
        gw.port,
        b"POST /v1/reports HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
        + f"content-length: {declared}\r\n\r\n".encode(),
    )
    sent = 0
    try:  # keep sending as a slow uploader would, up to half a megabyte
        while sent < 512 * 1024:
            sock.sendall(b" " * 16384)
            sent += 16384
    except OSError:
        pass
    answer = _answer(sock)
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert b"body-too-large" in answer and b"connection: close" in answer.lower()


def test_a_client_disconnect_mid_body_is_one_log_line(gateway: GatewayProcess) -> None:
    for _ in range(5):
        _raw(
            gateway.port,
            b"POST /v1/reports HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
            b"content-length: 100000\r\n\r\n",
            b'{"envelope": ',
            close=True,
        )
    httpx.get(gateway.url + "/v1/health")  # the disconnects have been handled by now
    log = gateway.log_path.read_text()
    assert "Traceback" not in log and "ClientDisconnect" not in log
    lines = [line for line in log.splitlines() if "disconnected" in line]
    assert 1 <= len(lines) <= 5 and all("127.0.0.1" not in line for line in lines)


def test_a_body_that_stalls_is_refused_with_408(
    start_gateway: Callable[..., GatewayProcess],
) -> None:
    gw = start_gateway("--body-timeout", "1")
    sock = _raw(
        gw.port,
        b"POST /v1/reports HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
        b"content-length: 1000\r\n\r\n",
        b'{"envelope": ',
    )
    answer = _answer(sock)  # the gateway closes it: nothing more is sent
    assert answer.startswith(b"HTTP/1.1 408 ") and b"body-timeout" in answer


# --- a failing store ---------------------------------------------------------------------------
@pytest.fixture
def immutable_store(tmp_path: Path) -> Iterator[Path]:
    """A store the kernel refuses to change (``chattr +i``), as on a locked-down disk."""
    path = tmp_path / "locked.sqlite"
    connect(path).conn.close()
    subprocess.run(["chattr", "+i", str(path)], check=True)
    try:
        yield path
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_a_store_that_cannot_be_written_is_reported_by_health_log_and_503_type(
    start_gateway: Callable[..., GatewayProcess], immutable_store: Path
) -> None:
    gw = start_gateway(db_path=immutable_store)
    health = httpx.get(gw.url + "/v1/health")
    assert health.status_code == 503
    assert health.json()["accepting"] is False
    assert health.json()["reason"] == "store-read-only"
    answer = post(gw.url, "/v1/reports", sealed_report(load_keyring(gw.keys_dir)))
    assert answer.status_code == 503 and problem_slug(answer) == "store-failing"
    assert "retry-after" not in answer.headers  # retrying will not help; "busy" says when
    log = gw.log_path.read_text()
    assert "cannot accept reports" in log and "locked.sqlite" in log
    assert "SQLITE_READONLY" in log and "Traceback" not in log


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real file system of its own, small enough to fill: a 96 MiB tmpfs (the gateway wants
    64 MiB free), mounted for the test and unmounted after it."""
    folder = tmp_path / "small-disk"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=96m,mode=0700", "tmpfs", str(folder)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if mounted.returncode != 0:
        pytest.fail(
            "this test fills a real file system: it needs to mount a tmpfs (run it as root, or"
            f" with CAP_SYS_ADMIN, on a machine that allows mounts); mount said:"
            f" {mounted.stderr.strip() or mounted.returncode}"
        )
    try:
        yield folder
    finally:
        if subprocess.run(["umount", str(folder)], check=False).returncode != 0:
            subprocess.run(["umount", "--lazy", str(folder)], check=True)


def _fill(folder: Path) -> Path:
    """Write a file until the file system has no block left; return it."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for chunk in (bytes(1 << 20), bytes(4096), bytes(1)):
            try:
                while True:
                    os.write(fd, chunk)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
    finally:
        os.close(fd)
    assert os.statvfs(folder).f_bavail == 0
    return filler


def test_a_full_disk_is_reported_and_loses_nothing_acknowledged(
    small_disk: Path, start_gateway: Callable[..., GatewayProcess]
) -> None:
    gw = start_gateway(db_path=small_disk / "lianxin.sqlite")
    keyring = load_keyring(gw.keys_dir)
    assert httpx.get(gw.url + "/v1/health").json()["accepting"] is True
    acknowledged: list[tuple[Envelope, str]] = []

    def submit(envelope: Envelope) -> httpx.Response:
        answer = post(gw.url, "/v1/reports", envelope)
        if answer.status_code == 201:
            acknowledged.append((envelope, answer.json()["token"]))
        return answer

    for i in range(3):
        assert submit(sealed_report(keyring, report_doc(f"before {i}"))).status_code == 201

    filler = _fill(small_disk)
    health = httpx.get(gw.url + "/v1/health")
    assert health.status_code == 503
    assert health.json() == {**health.json(), "accepting": False, "reason": "disk-full"}
    # SQLite may still write a commit or two into room the write-ahead log already has; then
    # it reports SQLITE_FULL, and the submission is refused as a failing store, not "busy".
    for i in range(200):
        refused = sealed_report(keyring, report_doc(f"on a full disk {i}"))
        answer = submit(refused)
        if answer.status_code != 201:
            break
    assert answer.status_code == 503, answer.text
    assert problem_slug(answer) == "store-failing"
    assert "SQLITE_FULL" in answer.json()["detail"]
    assert "retry-after" not in answer.headers
    assert httpx.get(gw.url + "/v1/health").json()["reason"] == "disk-full"
    log = gw.log_path.read_text()
    assert "the disk holding the store has too little free space" in log
    assert f"cannot write the store {small_disk / 'lianxin.sqlite'}: SQLITE_FULL" in log
    assert "Traceback" not in log
    for envelope, token in acknowledged:
        assert token not in log and envelope.receipt_id.hex() not in log
    assert "on a full disk" not in log and refused.receipt_id.hex() not in log

    filler.unlink()
    # The refused report, sent again once there is room, is taken; health says so again.
    assert submit(refused).status_code == 201
    assert submit(sealed_report(keyring, report_doc("after"))).status_code == 201
    health = httpx.get(gw.url + "/v1/health")
    assert health.status_code == 200 and health.json()["accepting"] is True
    assert "accepting reports" in gw.log_path.read_text().split("SQLITE_FULL")[-1]
    gw.stop()

    db = connect(gw.db_path, migrate=False)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        for envelope, token in acknowledged:
            stored = db.execute(
                "SELECT case_id FROM submissions WHERE receipt_id = ?", [envelope.receipt_id]
            ).fetchone()
            bound = db.execute(
                "SELECT case_id FROM tokens WHERE lookup_id = ?",
                [Token.parse(token).keys().lookup_id],
            ).fetchone()
            assert stored is not None and bound is not None and stored[0] == bound[0]
        assert db.execute("SELECT count(*) FROM submissions").fetchone()[0] == len(acknowledged)
    finally:
        db.conn.close()


def test_a_healthy_gateway_says_it_accepts(gateway: GatewayProcess) -> None:
    health = httpx.get(gateway.url + "/v1/health")
    assert health.status_code == 200
    assert health.json()["status"] == "ok" and health.json()["accepting"] is True


def test_busy_and_failing_are_different_problem_types() -> None:
    from gateway.worker import refusal

    busy = sqlite3.OperationalError("database is locked")
    busy.sqlite_errorname = "SQLITE_BUSY"  # type: ignore[attr-defined]
    full = sqlite3.OperationalError("database or disk is full")
    full.sqlite_errorname = "SQLITE_FULL"  # type: ignore[attr-defined]
    assert b"store-unavailable" in refusal(busy)[2]
    assert b"store-failing" in refusal(full)[2] and b"SQLITE_FULL" in refusal(full)[2]


# --- metrics -----------------------------------------------------------------------------------
def test_metrics_on_a_loopback_port_count_without_per_request_data(
    start_gateway: Callable[..., GatewayProcess],
) -> None:
    port = free_port()
    gw = start_gateway("--metrics-port", str(port))
    keyring = load_keyring(gw.keys_dir)
    answer = post(gw.url, "/v1/reports", sealed_report(keyring))
    assert answer.status_code == 201
    token = answer.json()["token"]
    httpx.post(gw.url + "/v1/reports", content=b"{", headers={"content-type": "application/json"})
    text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
    values = {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line and not line.startswith("#")
    }
    assert values['lianxin_gateway_accepted_total{kind="report"}'] == 1
    assert values['lianxin_gateway_refused_total{problem="bad-json"}'] == 1
    assert values["lianxin_gateway_commit_seconds_count"] >= 1
    assert values['lianxin_gateway_commit_seconds_bucket{le="+Inf"}'] >= 1
    assert values["lianxin_gateway_queue_depth"] == 0
    assert values["lianxin_gateway_pow_difficulty_bits"] == 8
    assert values["lianxin_gateway_accepting"] == 1
    assert token not in text and "127.0.0.1" not in text
    assert "# TYPE lianxin_gateway_commit_seconds histogram" in text
    # Loopback only, and not on the public port.
    listening = subprocess.run(["ss", "-ltnH"], capture_output=True, text=True).stdout
    assert f"127.0.0.1:{port} " in listening and f"0.0.0.0:{port} " not in listening
    assert httpx.get(gw.url + "/metrics").status_code == 404
    assert snapshot(gw.db_path)  # the store was written, the metrics hold none of it


# --- the CLI client ----------------------------------------------------------------------------
def test_submit_refuses_a_report_file_with_a_repeated_key(tmp_path: Path, keys_dir: Path) -> None:
    from click.testing import CliRunner

    from lianxin_cli.main import main

    report = tmp_path / "r.json"
    report.write_text('{"title": "t", "text": "first", "text": "second", "reported": {}}')
    result = CliRunner().invoke(
        main,
        ["submit", "--gateway", "http://127.0.0.1:1", "--keys", str(keys_dir),
         "--report", str(report)],
    )  # fmt: skip
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "r.json" in result.stderr and "'text' appears twice" in result.stderr


def test_a_metrics_port_in_use_is_one_clear_line(tmp_path: Path, keys_dir: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _serve("--db", str(tmp_path / "s.sqlite"), "--create", "--keys", str(keys_dir),
                        "--metrics-port", str(port))  # fmt: skip
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"127.0.0.1:{port}" in result.stderr and "--metrics-port" in result.stderr
