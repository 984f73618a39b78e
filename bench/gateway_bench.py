"""Throughput of the gateway against the framework's ceiling on this machine.

One run starts, on loopback ports and with a fresh database and keys:

- the gateway as shipped (``python -m lianxin_cli gateway serve``: one uvicorn worker, WAL,
  ``synchronous=FULL``, group commit), except ``--pow-difficulty 1`` and a long challenge TTL;
- ``bench/bare_app.py``: FastAPI under the same uvicorn that only validates the same JSON body
  with pydantic and answers 201 (the ceiling: what the framework costs with no work behind it).

It pre-builds distinct 4 KiB reports (sealed, signed, padded) with challenges fetched through
POST /v1/challenges, solved and signed, so the load generator does no crypto. It drives both
servers with the same concurrency for the same duration, in alternating rounds (wrk with a Lua
script cycling over the bodies, or an asyncio load generator in a separate process when wrk is
missing), and prints accepted submissions per second, p50/p99 latency and the ratio
gateway/ceiling. Then it audits the store: an acknowledged receipt that is not stored, or a token
that does not resolve to its case, is *lost*; a second case for one envelope is *duplicated*.
``--profile`` adds a py-spy run and says where the gateway's event-loop thread spends its time.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import math
import os
import platform
import shlex
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from nacl.public import PublicKey
from nacl.signing import SigningKey

from lianxin.keys import init_keys, load_keyring
from lianxin.protocol import Token, seal_report
from lianxin.protocol import pow as pow_
from lianxin.protocol.documents import validate_report
from lianxin.protocol.payload import pack

ROOT = Path(__file__).resolve().parent.parent
POW_DIFFICULTY = 1
POW_TTL = 3600  # seconds: covers building the bodies and every phase of the run
PLAINTEXT_BYTES = 4000  # packed report size: pads to the 4096-byte bucket (4 KiB reports)
INITIAL_BODIES = 4000  # enough for the ceiling, which may reuse bodies (it stores nothing)
HEADROOM = 2.0  # gateway bodies per phase = its warm-up rate x seconds x HEADROOM (single-use)

WRK_SCRIPT = r"""
-- Cycle over pre-built request bodies (one JSON document a line), split between threads.
-- init args: bodies file, output prefix, thread count, path, "cycle" | "once".
local threads, created = {}, 0

function setup(thread)
  thread:set("id", created)
  created = created + 1
  table.insert(threads, thread)
end

function init(args)
  local nthreads = tonumber(args[3])
  local headers = {["Content-Type"] = "application/json"}
  requests, i = {}, 0
  for line in io.lines(args[1]) do
    if i % nthreads == id then
      requests[#requests + 1] = wrk.format("POST", args[4], headers, line)
    end
    i = i + 1
  end
  cycle = args[5] == "cycle"
  n, accepted, duplicate, refused, exhausted = 0, 0, 0, 0, 0
  out = io.open(args[2] .. "-" .. id .. ".txt", "w")
  out:setvbuf("line")
end

function request()
  n = n + 1
  if n > #requests then
    if cycle then
      n = 1
    else
      exhausted = 1
      n = #requests
      wrk.thread:stop()
    end
  end
  return requests[n]
end

function response(status, headers, body)
  if status == 201 then
    accepted = accepted + 1
  elseif status == 200 then
    duplicate = duplicate + 1
  else
    refused = refused + 1
  end
  local rid = body:match('"receipt_id": ?"(%x+)"') or "-"
  local token = body:match('"token": ?"([%w%-]+)"') or "-"
  out:write(status, " ", rid, " ", token, "\n")
end

function done(summary, latency, requests)
  local a, d, r, e = 0, 0, 0, 0
  for _, thread in ipairs(threads) do
    a = a + thread:get("accepted")
    d = d + thread:get("duplicate")
    r = r + thread:get("refused")
    e = e + thread:get("exhausted")
  end
  local errors = summary.errors
  io.write(string.format(
    'RESULT {"duration_s": %.6f, "responses": %d, "accepted": %d, "duplicate": %d,'
    .. ' "refused": %d, "exhausted": %d, "p50_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f,'
    .. ' "socket_errors": %d}\n',
    summary.duration / 1e6, summary.requests, a, d, r, e, latency:percentile(50) / 1e3,
    latency:percentile(99) / 1e3, latency.max / 1e3,
    errors.connect + errors.read + errors.write + errors.timeout))
end
"""


@dataclass
class Server:
    """A server child process on a loopback port."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        """User + system CPU time of the process and its children (the intake worker), Linux."""
        return sum(self.cpu_split())

    def cpu_split(self) -> tuple[float, float]:
        """User + system CPU time of the process itself (all its threads) and of its children."""
        family = _family(self.process.pid)
        return _cpu_seconds(family[0]), sum(_cpu_seconds(pid) for pid in family[1:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _family(pid: int) -> list[int]:
    # The process and its live descendants (/proc/PID/task/*/children).
    found = [pid]
    for tid in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (tid / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            found += _family(int(child))
    return found


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_server(name: str, args: list[str], work: Path) -> Server:
    """Start ``args --port N`` on a free loopback port and wait for GET /v1/health."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    log = work / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*args, "--port", str(port)], stdout=out, stderr=subprocess.STDOUT, cwd=ROOT
        )
    server = Server(name, process, port, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{name} exited:\n{log.read_text()}")
        try:
            if httpx.get(server.url + "/v1/health", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"{name} did not start in 60 s")


# --- raw HTTP/1.1 over asyncio: challenge fetcher and fallback load generator ---
async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bytes]:
    writer.write(request)
    status = int((await reader.readline()).split()[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, await reader.readexactly(length)


def _request(path: str, body: bytes = b"") -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _fetch_challenges(port: int, count: int, connections: int = 32) -> list[str]:
    out: list[str] = []

    async def worker(share: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(share):
            status, body = await _exchange(reader, writer, _request("/v1/challenges"))
            if status != 201:
                raise SystemExit(f"POST /v1/challenges answered {status}: {body[:200]!r}")
            out.append(json.loads(body)["challenge"])
        writer.close()

    await asyncio.gather(
        *(worker(count // connections + (i < count % connections)) for i in range(connections))
    )
    return out


async def _python_load(spec: dict[str, Any]) -> dict[str, Any]:
    """The fallback load generator (its own process): the Lua script's contract in asyncio."""
    bodies = Path(spec["bodies"]).read_bytes().splitlines()
    connections = spec["connections"]
    latencies: list[float] = []
    counts: collections.Counter[str] = collections.Counter()
    stop_at = time.perf_counter() + spec["duration"]

    async def worker(index: int) -> None:
        mine = [_request(spec["path"], b) for b in bodies[index::connections]]
        reader, writer = await asyncio.open_connection("127.0.0.1", spec["port"])
        with open(f"{spec['out']}-{index}.txt", "w") as out:
            n = 0
            while time.perf_counter() < stop_at:
                if n == len(mine):
                    if not spec["cycle"]:
                        counts["exhausted"] += 1
                        break
                    n = 0
                started = time.perf_counter()
                status, body = await _exchange(reader, writer, mine[n])
                latencies.append(time.perf_counter() - started)
                n += 1
                counts[{201: "accepted", 200: "duplicate"}.get(status, "refused")] += 1
                doc = json.loads(body) if status in (200, 201) else {}
                receipt = doc.get("receipt", {}).get("receipt_id", "-")
                out.write(f"{status} {receipt} {doc.get('token', '-')}\n")
        writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(connections)))
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1e3

    return {
        "duration_s": time.perf_counter() - began,
        "responses": len(latencies),
        **{k: counts[k] for k in ("accepted", "duplicate", "refused", "exhausted")},
        "p50_ms": pct(50),
        "p99_ms": pct(99),
        "max_ms": latencies[-1] * 1e3,
        "socket_errors": 0,
    }


# --- bodies ---
def build_bodies(keys_dir: Path, gateway: Server, count: int, start: int) -> list[bytes]:
    """``count`` distinct sealed, signed 4 KiB reports, each with its own solved challenge."""
    office = load_keyring(keys_dir).current_office
    office_key = PublicKey(office.public_key)
    challenges = asyncio.run(_fetch_challenges(gateway.port, count))
    lines = []
    for i, text in enumerate(challenges, start):
        doc = {
            "schema": "lianxin/report/v1",
            "real_name": False,
            "reported": {"name": f"被反映人 {i}", "unit": "某局", "post": "科长", "rank": ""},
            "region": "bench",
            "problem_type": "integrity.bribery",
            "title": f"基准测试报告 {i}",
            "text": f"{i}",
        }
        doc["text"] += "x" * (PLAINTEXT_BYTES - len(pack(validate_report(doc))))
        envelope = seal_report(
            doc, [], office_key=office_key, office_key_id=office.key_id,
            client_key=SigningKey.generate(),
        )  # fmt: skip
        challenge = pow_.decode(text)
        body = {
            "envelope": envelope.to_json(),
            "pow": envelope.proof(challenge.raw, pow_.solve(challenge)),
        }
        lines.append(json.dumps(body, separators=(",", ":")).encode())
    return lines


# --- load ---
@dataclass
class Load:
    """How to drive a server."""

    tool: str  # wrk | python
    connections: int
    threads: int
    work: Path

    def drive(
        self, server: Server, bodies: list[bytes], seconds: float, tag: str, *, cycle: bool
    ) -> dict[str, Any]:
        """POST ``bodies`` to /v1/reports for ``seconds``; return the counts and latencies."""
        body_file = self.work / f"bodies-{tag}.jsonl"
        body_file.write_bytes(b"\n".join(bodies) + b"\n")
        out = self.work / f"answers-{tag}"
        mode = "cycle" if cycle else "once"
        if self.tool == "wrk":
            script = self.work / "bodies.lua"
            script.write_text(WRK_SCRIPT)
            cmd = [
                "wrk", f"-t{self.threads}", f"-c{self.connections}",
                f"-d{max(1, round(seconds))}s", "--timeout", "30s", "-s", str(script),
                server.url, "--", str(body_file), str(out), str(self.threads), "/v1/reports", mode,
            ]  # fmt: skip
        else:
            spec = {
                "bodies": str(body_file), "out": str(out), "port": server.port,
                "path": "/v1/reports", "connections": self.connections, "duration": seconds,
                "cycle": cycle,
            }  # fmt: skip
            cmd = [sys.executable, __file__, "--loadgen-worker", json.dumps(spec)]
        own, children = server.cpu_split()
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        for line in done.stdout.splitlines():
            if line.startswith("RESULT "):
                result: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
                own_after, children_after = server.cpu_split()
                result["cpu_own_s"] = own_after - own
                result["cpu_children_s"] = children_after - children
                result["cores"] = (result["cpu_own_s"] + result["cpu_children_s"]) / result[
                    "duration_s"
                ]
                result["answers"] = read_answers(sorted(self.work.glob(f"answers-{tag}-*.txt")))
                return result
        raise SystemExit(f"load generator failed ({done.returncode}):\n{done.stdout}{done.stderr}")


def read_answers(files: list[Path]) -> list[tuple[int, str, str]]:
    """(status, receipt id, token) of every answer the load generator read."""
    out = []
    for path in files:
        for line in path.read_text().splitlines():
            status, receipt_id, token = line.split(" ")
            out.append((int(status), receipt_id, token))
    return out


# --- audit ---
def audit(db_path: Path, answers: list[tuple[int, str, str]]) -> dict[str, int]:
    """Acknowledged submissions missing from the store (lost) and extra cases (duplicated)."""
    conn = sqlite3.connect(db_path)
    try:
        stored = dict(
            (rid.hex(), case)
            for rid, case in conn.execute(
                "SELECT receipt_id, case_id FROM submissions WHERE kind = 'report'"
            )
        )
        cases = conn.execute("SELECT count(*) FROM cases").fetchone()[0]
        lookup = dict(conn.execute("SELECT lookup_id, case_id FROM tokens").fetchall())
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()
    acknowledged = [(s, r, t) for s, r, t in answers if s in (200, 201)]
    lost = sum(
        stored.get(rid) is None or lookup.get(Token.parse(token).keys().lookup_id) != stored[rid]
        for _status, rid, token in acknowledged
    )
    created = [rid for status, rid, _ in acknowledged if status == 201]
    return {
        "acknowledged": len(acknowledged),
        "stored": len(stored),
        "lost": lost,
        "duplicated": (cases - len(stored)) + (len(created) - len(set(created))),
        "integrity_ok": int(integrity == "ok"),
    }


# --- profile ---
# Where each process's main thread spends its samples: the first label whose function is on
# the stack. Idle samples (waiting in epoll or recv) are counted only where py-spy sees them.
HTTP_CATEGORIES = [
    ("idle: waiting in epoll", "EpollSelector.select"),
    ("token: CSPRNG + key derivation (X25519 + Ed25519)", "Token.generate|public_values"),
    ("hand-off to the intake worker", "IntakeWorker.submit"),
    ("worker's answers arriving", "_Channel.data_received"),
    ("answer: token, receipt signature, JSON", "Gateway.submit_report|Gateway.receipt_answer"),
    ("sending the response", "Response.__call__"),
    ("framework: HTTP parsing and ASGI/FastAPI plumbing", ""),
]
WORKER_CATEGORIES = [
    ("strict JSON", "parse_body"),
    ("proof-of-work check", "protocol/pow.py"),
    ("envelope parse (base64, lengths)", "parse_envelope"),
    ("Envelope.verify_binding (Ed25519)", "Envelope.verify_binding"),
    ("Envelope.verify (Ed25519)", "Envelope.verify ("),
    ("inserts (cases, submissions, events, tokens, nonces)", "store_report|store_followup"),
    ("answer (the receipt's fields)", "Intake.answer"),
    ("transaction: BEGIN/COMMIT (fsync)", "transaction"),
    ("sending answers", "sendall"),
    ("reading requests", ""),
]


def profile(load: Load, gateway: Server, bodies: list[bytes], seconds: float) -> str:
    """Drive the gateway while py-spy samples its two processes; summarise the samples."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        return "py-spy not found: .venv/bin/pip install py-spy"
    pids = _family(gateway.process.pid)
    recorders = []
    for pid in pids:
        raw = load.work / f"gateway-profile-{pid}.txt"
        recorder = subprocess.Popen(
            [spy, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "200",
             "--nonblocking", "--format", "raw", "--output", str(raw)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        recorders.append((raw, recorder))
    time.sleep(1.0)  # let py-spy attach
    result = load.drive(gateway, bodies, seconds - 2, "gprofile", cycle=False)
    parts = [
        f"py-spy, 200 Hz, wrk at {result['accepted'] / result['duration_s']:.0f} accepted/s"
        " while sampled (share of each process's samples; idle time is not sampled):"
    ]
    for (raw, recorder), title, categories in zip(
        recorders,
        ["HTTP process (uvicorn event loop)", "intake worker process"],
        [HTTP_CATEGORIES, WORKER_CATEGORIES],
        strict=False,
    ):
        _, err = recorder.communicate(timeout=120)
        if not raw.exists():
            parts.append(f"py-spy failed: {err.decode(errors='replace')[-500:]}")
            continue
        parts.append(summarise_profile(raw, title, categories))
    return "\n".join(parts)


def summarise_profile(raw: Path, title: str, categories: list[tuple[str, str]]) -> str:
    """Share of samples per category, and the heaviest leaf functions."""
    by_category: collections.Counter[str] = collections.Counter()
    leaves: collections.Counter[str] = collections.Counter()
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        frames = stack.split(";")
        count = int(count_text)
        label = next(
            label
            for label, names in categories
            if not names or any(name in frame for name in names.split("|") for frame in frames)
        )
        by_category[label] += count
        if not label.startswith("idle"):
            leaves[_where(frames[-1])] += count
    total = sum(by_category.values()) or 1
    lines = [f"{title}: {sum(by_category.values())} samples"]
    lines += [f"  {100 * n / total:5.1f}%  {label}" for label, n in by_category.most_common()]
    lines.append("  heaviest leaf functions:")
    lines += [f"  {100 * n / total:5.1f}%  {where}" for where, n in leaves.most_common(10)]
    return "\n".join(lines)


def _where(frame: str) -> str:
    # "function (path/to/module.py:123)" -> "function (to/module.py:123)"
    name, _, where = frame.partition(" (")
    return f"{name} ({'/'.join(Path(where.rstrip(')')).parts[-2:])})" if where else name


# --- main ---
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=8.0, help="timed seconds per phase")
    parser.add_argument("--rounds", type=int, default=3, help="timed phases per server")
    parser.add_argument("--warmup", type=float, default=2.0, help="untimed seconds per server")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--loadgen", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--profile", action="store_true", help="add a py-spy run of the gateway")
    parser.add_argument("--profile-seconds", type=float, default=12.0)
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--loadgen-worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.loadgen_worker:
        print("RESULT " + json.dumps(asyncio.run(_python_load(json.loads(args.loadgen_worker)))))
        return
    tool = args.loadgen if args.loadgen != "auto" else "wrk" if shutil.which("wrk") else "python"
    if tool == "wrk" and not shutil.which("wrk"):
        raise SystemExit("wrk not found (apt-get install -y wrk), or use --loadgen python")

    args.loadavg = os.getloadavg()[0]
    work = Path(tempfile.mkdtemp(prefix="lianxin-bench-"))
    load = Load(tool, args.connections, min(args.threads, args.connections), work)
    keys_dir, db_path = work / "keys", work / "bench.sqlite"
    init_keys(keys_dir)
    servers: list[Server] = []
    try:
        gateway = start_server(
            "gateway",
            [sys.executable, "-m", "lianxin_cli", "gateway", "serve", "--create",
             "--db", str(db_path), "--keys", str(keys_dir), "--host", "127.0.0.1",
             "--pow-difficulty", str(POW_DIFFICULTY), "--pow-ttl", str(POW_TTL)],
            work,
        )  # fmt: skip
        servers.append(gateway)
        bare = start_server("bare", [sys.executable, str(ROOT / "bench" / "bare_app.py")], work)
        servers.append(bare)

        pool = build_bodies(keys_dir, gateway, INITIAL_BODIES, 0)
        load.drive(bare, pool, args.warmup, "bwarm", cycle=True)
        # The gateway spends each body once. Its warm-up uses the pool and measures its rate;
        # each later phase gets twice the bodies the fastest rate seen so far needs.
        warm = load.drive(gateway, pool, args.warmup, "gwarm", cycle=False)
        rate = warm["accepted"] / warm["duration_s"]
        if warm["exhausted"]:
            rate = max(rate, len(pool) / args.warmup)
        built = len(pool)
        answers = list(warm["answers"])

        def bodies_for(seconds: float) -> list[bytes]:
            nonlocal built
            count = math.ceil(rate * seconds * HEADROOM) + 2 * args.connections
            lines = build_bodies(keys_dir, gateway, count, built)
            built += count
            return lines

        # Rounds alternate the two servers so that drift in the machine's speed hits both.
        rounds = []
        for n in range(args.rounds):
            bodies = bodies_for(args.duration)
            ceiling = load.drive(bare, pool, args.duration, f"b{n}", cycle=True)
            if ceiling["accepted"] == 0 or ceiling["refused"]:
                raise SystemExit(f"the bare app refused the bodies: {ceiling['answers'][:1]}")
            timed = load.drive(gateway, bodies, args.duration, f"g{n}", cycle=False)
            rate = max(rate, timed["accepted"] / timed["duration_s"])
            answers += timed["answers"]
            rounds.append((ceiling, timed))
        bare.stop()
        spy = ""
        if args.profile:
            spy = profile(load, gateway, bodies_for(args.profile_seconds), args.profile_seconds)
            answers += read_answers(sorted(work.glob("answers-gprofile-*.txt")))
        gateway.stop()  # clean shutdown; the audit reads the checkpointed store
        report(args, load, rounds, audit(db_path, answers), built)
        if spy:
            print("\n" + spy)
    finally:
        for server in servers:
            server.stop()
        if args.keep:
            print(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def report(
    args: argparse.Namespace,
    load: Load,
    rounds: list[tuple[dict[str, Any], dict[str, Any]]],
    checked: dict[str, int],
    bodies: int,
) -> None:
    """Print the figures: each round, then the medians."""
    import uvicorn

    def has(module: str) -> bool:
        try:
            __import__(module)
        except ImportError:
            return False
        return True

    def rate(r: dict[str, Any]) -> float:
        return float(r["accepted"]) / float(r["duration_s"])

    def row(name: str, r: dict[str, Any]) -> str:
        return (
            f"{name:28}{rate(r):11.0f}{r['p50_ms']:9.1f}{r['p99_ms']:9.1f}{r['max_ms']:9.1f}"
            f"{r['duplicate'] + r['refused']:9d}{r['socket_errors']:8d}{r['cores']:7.2f}"
        )

    def median(results: list[dict[str, Any]]) -> dict[str, Any]:
        keys = ("p50_ms", "p99_ms", "max_ms", "cores")
        out = {k: statistics.median(r[k] for r in results) for k in keys}
        out["duplicate"], out["refused"] = (
            sum(r["duplicate"] for r in results),
            sum(r["refused"] for r in results),
        )
        out["socket_errors"] = sum(r["socket_errors"] for r in results)
        out.update(accepted=statistics.median(rate(r) for r in results), duration_s=1.0)
        return out

    stack = ("httptools" if has("httptools") else "h11") + ", "
    stack += "uvloop" if has("uvloop") else "asyncio"
    if load.tool == "wrk":
        generator = f"wrk -t{load.threads} -c{load.connections} with a Lua body cycler"
    else:
        generator = f"asyncio load generator in its own process, {load.connections} connections"
    print(
        f"Lianxin gateway benchmark: {os.cpu_count()} CPUs, Python {platform.python_version()},"
        f" uvicorn {uvicorn.__version__} ({stack}), one worker per server; load average before"
        f" the run {args.loadavg:.1f} (other work on the machine skews the figures)\n"
        f"load: {generator}; {args.warmup:g} s warm-up per server, then {len(rounds)} rounds of"
        f" {args.duration:g} s timed per server, alternating; 4 KiB reports (4096-byte padded"
        f" plaintext, 4144-byte sealed box, ~5.9 KB bodies)\n"
        f"proof of work: the gateway runs with --pow-difficulty {POW_DIFFICULTY} --pow-ttl"
        f" {POW_TTL}; {bodies} challenges were fetched with POST /v1/challenges, solved and"
        f" signed before the phases that use them; the gateway gets each body once\n"
    )
    print(
        f"{'':28}{'accepted/s':>11}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'non-201':>9}"
        f"{'errors':>8}{'cores':>7}"
    )
    ratios = []
    for n, (ceiling, gateway) in enumerate(rounds, 1):
        print(row(f"round {n}: bare (ceiling)", ceiling))
        print(row(f"round {n}: gateway", gateway))
        ratios.append(rate(gateway) / rate(ceiling))
    print(row("median: bare (ceiling)", median([c for c, _ in rounds])))
    print(row("median: gateway", median([g for _, g in rounds])))
    ratio = statistics.median(ratios)
    verdict = "met" if ratio >= 0.5 else "NOT met"
    each = ", ".join(f"{r:.2f}" for r in ratios)
    print(
        f"\nratio gateway/ceiling: {ratio:.2f}, the median of the rounds' ratios ({each});"
        f" target >= 0.50: {verdict}"
    )

    def per_report(results: list[dict[str, Any]], key: str) -> float:
        return statistics.median(1000 * r[key] / max(1, r["accepted"]) for r in results)

    bares, gateways = [c for c, _ in rounds], [g for _, g in rounds]
    http, worker = per_report(gateways, "cpu_own_s"), per_report(gateways, "cpu_children_s")
    print(
        f"CPU per accepted report (user + system from /proc, median of the rounds): bare"
        f" {per_report(bares, 'cpu_own_s'):.2f} ms; gateway HTTP process {http:.2f} ms +"
        f" intake worker {worker:.2f} ms"
    )
    print(
        f"lost: {checked['lost']}  duplicated: {checked['duplicated']}  ({checked['acknowledged']}"
        f" acknowledged answers, warm-up included, checked against {checked['stored']} stored"
        f" reports; integrity_check {'ok' if checked['integrity_ok'] else 'FAILED'})"
    )
    if any(g["exhausted"] for _, g in rounds):
        print("warning: the gateway ran out of pre-built bodies; its rate is a lower bound")
    command = shlex.join([sys.executable, "bench/gateway_bench.py", *sys.argv[1:]])
    print(f"reproduce: cd {ROOT} && {command}")


if __name__ == "__main__":
    main()
