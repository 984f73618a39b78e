"""Replication delay: how long after a 201 an acknowledged report is in the replica.

One run starts, on loopback and in a fresh temporary folder: the gateway as shipped
(``lianxin gateway serve --create``, difficulty 8) and ``litestream replicate STORE
file://REPLICA`` (Litestream's defaults: sync interval 1 s). It submits ``--reports`` reports one
at a time; after each 201 it restores the replica into a scratch file, again and again, until the
report's lookup id is there. The delay printed is from the acknowledgement to the first restore
that holds the report: an upper bound on the replication delay (it includes one restore, whose
own time is printed too). This delay is what an office can lose if the primary disk dies: reports
acknowledged within it may be missing from the replica.

    python bench/replication_bench.py [--reports 10]
"""

from __future__ import annotations

import argparse
import shlex
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from lianxin.client import GatewayClient, load_published_keys, submit_report
from lianxin.keys import init_keys
from lianxin.protocol import Token

LITESTREAM = Path(sys.executable).parent / "litestream"
REPORT = {
    "real_name": False,
    "reported": {
        "name": "王某某",
        "unit": "某县住建局",
        "post": "科长",
        "rank": "township_section",
    },
    "region": "town.dongshan",
    "problem_type": "legal.embezzlement_bribery",
    "title": "工程款问题",
    "text": "反映某科长在工程验收中收受好处。",
}


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _restored_has(replica: Path, probe: Path, lookup_id: bytes) -> tuple[bool, float]:
    started = time.perf_counter()
    probe.unlink(missing_ok=True)
    done = subprocess.run(
        [str(LITESTREAM), "restore", "-o", str(probe), f"file://{replica}"], capture_output=True
    )
    took = time.perf_counter() - started
    if done.returncode != 0:
        return False, took
    conn = sqlite3.connect(probe)
    try:
        found = conn.execute("SELECT 1 FROM tokens WHERE lookup_id = ?", [lookup_id]).fetchone()
    finally:
        conn.close()
    return found is not None, took


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reports", type=int, default=10)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="lianxin-replication-"))
    keys, store, replica, probe = work / "keys", work / "s.sqlite", work / "replica", work / "p"
    init_keys(keys)
    port = _port()
    gateway = subprocess.Popen(
        [sys.executable, "-m", "lianxin_cli", "gateway", "serve", "--create", "--db", str(store),
         "--keys", str(keys), "--port", str(port), "--pow-difficulty", "8"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    replicator: subprocess.Popen[bytes] | None = None
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(url + "/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        replicator = subprocess.Popen(
            [str(LITESTREAM), "replicate", str(store), f"file://{replica}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        published = load_published_keys(str(keys))
        delays: list[float] = []
        restores: list[float] = []
        with GatewayClient(url) as client:
            for _ in range(args.reports):
                token = submit_report(client, published, REPORT).token
                acknowledged = time.perf_counter()
                lookup_id = bytes(Token.parse(token).keys().lookup_id)
                while True:
                    found, took = _restored_has(replica, probe, lookup_id)
                    restores.append(took)
                    if found:
                        delays.append(time.perf_counter() - acknowledged)
                        break
                    if time.perf_counter() - acknowledged > 60:
                        sys.exit("a report was not replicated within 60 s")
    finally:
        if replicator is not None:
            replicator.terminate()
            replicator.wait()
        gateway.terminate()
        gateway.wait()
    version = subprocess.run([str(LITESTREAM), "version"], capture_output=True, text=True)
    print(f"litestream {version.stdout.strip()}")
    print(f"reports: {len(delays)}; acknowledged -> in the replica (s):")
    print(f"  median {statistics.median(delays):.2f}  max {max(delays):.2f}")
    print(f"  one restore takes: median {statistics.median(restores):.2f} s")
    print("reproduce: " + shlex.join([sys.executable, "bench/replication_bench.py", *sys.argv[1:]]))


if __name__ == "__main__":
    main()
