"""Slow and abusive connections (issue 13): 1,000 connections that send their headers a byte at
a time, against a gateway limited to 1,024 file descriptors, do not take ``/v1/health`` down.

Bounded and loopback only: the attack runs for ATTACK_SECONDS and every socket is closed at the
end, whatever happens. The gateway runs with a 2 s header deadline so that the attack outlives
several deadlines within the bound.
"""

from __future__ import annotations

import resource
import socket
import time
from collections.abc import Callable

import httpx
import pytest
from conftest import GatewayProcess

SLOW = 1000
NOFILE = 1024
ATTACK_SECONDS = 8.0
HEALTH_TIMEOUT = 1.0  # the bound: health answers within a second throughout


def _open_slow(port: int) -> socket.socket | None:
    try:
        sock = socket.socket()
        sock.setblocking(False)
        sock.connect_ex(("127.0.0.1", port))
        return sock
    except OSError:
        return None


def _drip(sock: socket.socket, step: int) -> bool:
    """Send one more byte of a never-ending header; False once the gateway has closed it."""
    try:
        sock.send(b"GET /v1/health HTTP/1.1\r\nx-slow: " if step == 0 else b"a")
        return True
    except (BlockingIOError, InterruptedError):
        return True  # not connected yet or buffer full: still held
    except OSError:
        return False


@pytest.mark.slow
def test_a_thousand_slow_connections_leave_health_answering(
    start_gateway: Callable[..., GatewayProcess],
) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * SLOW)), hard))
    gw = start_gateway("--header-timeout", "2", nofile=NOFILE)
    attackers: list[socket.socket | None] = [None] * SLOW
    steps = [0] * SLOW
    answered = failed = reopened = 0
    try:
        end = time.monotonic() + ATTACK_SECONDS
        while time.monotonic() < end:
            for i in range(SLOW):  # keep 1,000 slow connections open, reopening closed ones
                sock = attackers[i]
                if sock is None or not _drip(sock, steps[i]):
                    if sock is not None:
                        sock.close()
                        reopened += 1
                    attackers[i], steps[i] = _open_slow(gw.port), 0
                else:
                    steps[i] += 1
            try:
                health = httpx.get(gw.url + "/v1/health", timeout=HEALTH_TIMEOUT)
                answered += health.status_code == 200
                failed += health.status_code != 200
            except httpx.HTTPError:
                failed += 1
            time.sleep(0.2)
    finally:
        for sock in attackers:
            if sock is not None:
                sock.close()
    print(f"slow connections: {SLOW}, reopened after the gateway closed them: {reopened}")
    print(f"health checks answered within {HEALTH_TIMEOUT} s: {answered}, not: {failed}")
    assert answered >= 5 and failed == 0
    assert reopened > 0  # the header deadline or the cap did close slow connections
    assert "Too many open files" not in gw.log_path.read_text()
