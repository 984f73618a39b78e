"""Server time per page of the web desk (``lianxin desk serve``) under 20 signed-in officers,
beside the bare framework on the same machine.

A synthetic register (``desk.synth.synthesize_register``, as ``bench/desk_bench.py`` builds it,
reused from ``--db``) gets a test office: a registrar, an approver, a supervisor and the
handlers of the five units with the most cases. The web desk runs as shipped, in a child
process on a loopback port, with its day fixed at the end of the range. ``--clients`` officers
sign in (cycling over those accounts), then each asks in turn for its work list and a case page
of its scope (a signed read event is written and committed per case page before it is sent,
as in real use) and, for the approver and the supervisor, the monthly analysis with the month
before and a year before; ``--requests`` pages per client and kind.

Two runs, each on a fresh server after an unmeasured warm-up round (one page of each kind per
officer, all at once; its slowest server times are printed apart): *browsing*, where each
officer reads a page for a random 0 to 2 x ``--think`` seconds before asking for the next, and
*saturation*, where every officer asks again the moment a page arrives. Beside each, a bare
FastAPI app under the same uvicorn settings answers a constant HTML page of the size of the
work list under the same load: what the framework, the machine and the load generator cost
with no work behind them. Printed per page: the app's own time (``Server-Timing``) and the
client round trip, p50 and p99, requests per second, and the load average before and after.
``--profile`` samples the web desk with py-spy during the saturation run.
Target (issue 14): server p50 under 100 ms and p99 under 500 ms for every page at 1,000,000
cases.

    .venv/bin/python bench/deskweb_bench.py [--cases 1000000] [--db var/bench/deskweb-1000k.sqlite]
        [--clients 20] [--requests 10] [--think 2] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from desk.context import open_desk  # noqa: E402
from desk.officers import new_officer  # noqa: E402
from desk.registry import add_officer, init_office, is_initialised  # noqa: E402
from desk.synth import synthesize_register  # noqa: E402
from lianxin.domain.workdays import FixedClock  # noqa: E402

START, MONTHS, TODAY = "2024-12", 24, date(2026, 11, 30)
KINDS = ("work", "case", "analysis")
ANALYSTS = {"appr", "sup"}  # the roles that may open the monthly analysis
PHRASE = "bench passphrase of {}"


def _build(db: Path, cases: int) -> None:
    db.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    summary = synthesize_register(db, cases, seed=3, start_month=START, months=MONTHS)
    print(f"built {summary.cases:,} cases in {time.perf_counter() - started:.1f} s: {db}")
    reader = open_desk(db)
    top = "SELECT unit FROM cases WHERE unit IS NOT NULL GROUP BY unit ORDER BY count(*) DESC"
    units = [str(u) for (u,) in reader.db.execute(top + " LIMIT 5")]
    reader.close()
    cast = [
        ("admin", "office.letters", ("administrator",)),
        ("reg", "office.letters", ("registrar",)),
        ("appr", "office.letters", ("approver",)),
        ("sup", "office.case_management", ("supervisor",)),
        *[(f"hand{i}", unit, ("handler",)) for i, unit in enumerate(units)],
    ]
    made = {
        oid: new_officer(oid, oid, unit, roles, PHRASE.format(oid)) for oid, unit, roles in cast
    }
    desk = open_desk(db, officer=made["admin"].unlocked, clock=FixedClock(TODAY))
    try:
        if not is_initialised(desk.db):
            init_office(desk, made["admin"], kind="test")
        for oid, new in made.items():
            if oid != "admin":
                add_officer(desk, new)
    finally:
        desk.close()


def _officers(db: Path) -> list[tuple[str, str]]:
    desk = open_desk(db)
    try:
        return [
            (str(i), str(u))
            for i, u in desk.db.execute("SELECT id, unit FROM officers WHERE id != 'admin'")
        ]
    finally:
        desk.close()


def _case_ids(db: Path, units: set[str]) -> dict[str, list[int]]:
    desk = open_desk(db)
    try:
        out: dict[str, list[int]] = {}
        for unit in units:
            rows = desk.db.execute("SELECT id FROM cases WHERE unit = ? LIMIT 500", [unit])
            out[unit] = [int(r[0]) for r in rows]
        rows = desk.db.execute("SELECT id FROM cases ORDER BY random() LIMIT 2000")
        out["*"] = [int(r[0]) for r in rows]
        return out
    finally:
        desk.close()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(args: list[str], url: str, log: Path | None = None) -> subprocess.Popen[bytes]:
    err = log.open("ab") if log else subprocess.DEVNULL
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=err, cwd=ROOT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{args} did not start")


BARE = """
import sys, time, uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
size, port = int(sys.argv[1]), int(sys.argv[2])
app = FastAPI()
page = "<!doctype html><p>" + "x" * size
@app.middleware("http")
async def timing(request: Request, call_next):
    started = time.perf_counter()
    response = await call_next(request)
    response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
    return response
@app.get("/{path:path}")
async def any_page(path: str) -> HTMLResponse:
    return HTMLResponse(page)
uvicorn.run(app, host="127.0.0.1", port=port, access_log=False, log_level="warning")
"""


async def _sign_in(client: httpx.AsyncClient, url: str, officer: str) -> None:
    page = await client.get(url + "/login")
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found
    data = {"csrf": found[1], "officer": officer, "passphrase": PHRASE.format(officer)}
    answer = await client.post(url + "/login", data=data)
    assert answer.status_code == 303, answer.text[:300]


async def _drive(
    url: str, sessions: list[tuple[str, str]], cases: dict[str, list[int]], requests: int,
    bare: bool, think: float,
) -> dict[str, Any]:  # fmt: skip
    clients = [httpx.AsyncClient(timeout=60) for _ in sessions]
    try:
        if not bare:
            for client, (officer, _) in zip(clients, sessions, strict=True):
                await _sign_in(client, url, officer)
        load_before = os.getloadavg()[0]
        times: dict[str, list[float]] = {kind: [] for kind in KINDS}
        server: dict[str, list[float]] = {kind: [] for kind in KINDS}
        rng = random.Random(1)

        async def one(
            client: httpx.AsyncClient, officer: str, unit: str, rounds: int, pause: float
        ) -> None:
            pool = cases["*"] if not officer.startswith("hand") else cases[unit]
            kinds = KINDS if officer in ANALYSTS else KINDS[:2]
            for _ in range(rounds):
                for kind in kinds:
                    if pause:  # an officer reads the page before the next (mean: pause)
                        await asyncio.sleep(rng.uniform(0, 2 * think))
                    path = {
                        "work": "/work",
                        "case": f"/case/{rng.choice(pool)}",
                        "analysis": f"/analysis?month={TODAY:%Y-%m}",
                    }[kind]
                    started = time.perf_counter()
                    try:
                        answer = await client.get(url + path)
                    except httpx.RemoteProtocolError:  # a kept-alive connection the server
                        # closed as it was reused (idle > 5 s): a browser asks again at once
                        started = time.perf_counter()
                        answer = await client.get(url + path)
                    times[kind].append(time.perf_counter() - started)
                    assert answer.status_code == 200, (path, answer.status_code)
                    dur = answer.headers["server-timing"].split("dur=")[1]
                    server[kind].append(float(dur) / 1000)

        pairs = list(zip(clients, sessions, strict=True))
        # Unmeasured warm-up: one page of each kind per officer, at once (what a server that
        # has been up for a while has already done); its slowest pages are reported apart.
        await asyncio.gather(*(one(c, o, u, 1, 0.0) for c, (o, u) in pairs))
        warmup = {kind: max(server[kind], default=0.0) * 1000 for kind in KINDS}
        for kind in KINDS:
            times[kind].clear()
            server[kind].clear()
        started = time.perf_counter()
        await asyncio.gather(*(one(c, o, u, requests, think) for c, (o, u) in pairs))
        wall = time.perf_counter() - started
    finally:
        for client in clients:
            await client.aclose()
    out: dict[str, Any] = {"rps": sum(len(v) for v in times.values()) / wall}
    out["load"] = (load_before, os.getloadavg()[0])
    out["warmup"] = warmup
    for kind in times:
        if times[kind]:
            out[kind] = (*_p50_p99(server[kind]), *_p50_p99(times[kind]))
    return out


def _spy(pid: int, out: Path) -> subprocess.Popen[bytes]:
    """py-spy sampling whichever thread of the web desk holds the GIL (100 Hz)."""
    spy = Path(sys.executable).with_name("py-spy")
    args = [str(spy), "record", "--pid", str(pid), "--rate", "100", "--nonblocking", "--gil"]
    args += ["--format", "raw", "--output", str(out)]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # let py-spy attach
    return process


def _profile_summary(raw: Path, top: int = 40) -> str:
    """The functions on the most non-idle samples (inclusive), from py-spy's collapsed stacks."""
    inclusive: dict[str, int] = {}
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if any(w in frames[-1] for w in ("select (", "wait (", "_worker (", "accept (")):
            continue  # idle: waiting for work
        total += int(count)
        for frame in set(frames):
            name = re.sub(r":\d+\)$", ")", frame)  # one entry per function
            inclusive[name] = inclusive.get(name, 0) + int(count)
    rows = sorted(inclusive.items(), key=lambda kv: -kv[1])[:top]
    lines = [f"py-spy: {total} busy samples; share of busy samples with the function on the stack"]
    lines += [f"{n / total * 100:6.1f}%  {name[:110]}" for name, n in rows]
    return "\n".join(lines)


def _p50_p99(values: list[float]) -> tuple[float, float]:
    values = sorted(values)
    p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
    return statistics.median(values) * 1000, p99 * 1000


def _table(title: str, desk: dict[str, Any], bare: dict[str, Any]) -> None:
    print(f"\n{title}")
    print(
        f"load average (1 min) desk run {desk['load'][0]:.2f} -> {desk['load'][1]:.2f},"
        f" bare run {bare['load'][0]:.2f} -> {bare['load'][1]:.2f}"
    )
    head = ["page", "srv p50", "srv p99", "cli p50", "cli p99", "bare srv50", "bare srv99"]
    head += ["bare cli50", "bare cli99"]
    print("".join(f"{h:>11}" for h in head))
    met = True
    for kind in (k for k in KINDS if k in desk):
        d, b = desk[kind], bare[kind]
        met = met and d[0] < 100 and d[1] < 500
        cells = [kind, *(f"{v:.1f}" for v in d), *(f"{v:.1f}" for v in b)]
        print("".join(f"{c:>11}" for c in cells))
    print(
        f"requests/s: desk {desk['rps']:.1f}, bare {bare['rps']:.1f}"
        f" (ratio {desk['rps'] / bare['rps']:.3f});"
        f" target (server p50 < 100 ms, p99 < 500 ms, every page): {'met' if met else 'NOT met'}"
    )
    slowest = ", ".join(f"{k} {v:.0f} ms" for k, v in desk["warmup"].items() if v)
    print(f"warm-up round (unmeasured, all officers at once), slowest server time: {slowest}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=10, help="pages per client and kind")
    parser.add_argument(
        "--think", type=float, default=2.0,
        help="mean seconds an officer reads a page before the next in the browsing run",
    )  # fmt: skip
    parser.add_argument(
        "--profile", action="store_true", help="sample the web desk with py-spy meanwhile"
    )
    args = parser.parse_args()
    db = args.db or ROOT / "var" / "bench" / f"deskweb-{args.cases // 1000}k.sqlite"
    if not db.exists():
        _build(db, args.cases)
    officers = _officers(db)
    sessions = [officers[i % len(officers)] for i in range(args.clients)]
    cases = _case_ids(db, {u for _, u in officers})
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    serve = [sys.executable, "-m", "lianxin_cli", "desk", "serve", "--db", str(db)]
    serve += ["--port", str(port), "--today", TODAY.isoformat()]
    print(f"load average at start: {os.getloadavg()[0]:.2f} (cores: {os.cpu_count()})")
    # Two runs: officers browsing (each reads a page a random 0..2*think seconds, mean think,
    # before asking for the next), then the same officers asking without pause (saturation).
    runs = [(f"browsing: each officer pauses {args.think:g} s on average", args.think)]
    runs.append(("saturation: no pause between pages", 0.0))
    results: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    for title, think in runs:
        process = _start(serve, url + "/login", db.with_suffix(".serve.log"))
        profile = db.with_suffix(".profile.txt")
        spy = _spy(process.pid, profile) if args.profile and not think else None
        try:
            desk_result = asyncio.run(
                _drive(url, sessions, cases, args.requests, bare=False, think=think)
            )
        finally:
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                spy.wait(timeout=60)
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
        if spy is not None:
            print(_profile_summary(profile))
        bare_port = _free_port()
        bare_url = f"http://127.0.0.1:{bare_port}"
        bare = _start([sys.executable, "-c", BARE, "20000", str(bare_port)], bare_url + "/")
        try:
            bare_result = asyncio.run(
                _drive(bare_url, sessions, cases, args.requests, bare=True, think=think)
            )
        finally:
            bare.send_signal(signal.SIGTERM)
            bare.wait(timeout=30)
        results.append((title, desk_result, bare_result))
    print(f"\n{args.clients} officers, {args.requests} pages each per kind, register {db.name}")
    print("milliseconds; server: the app's own time (Server-Timing), client: round trip")
    for title, desk_result, bare_result in results:
        _table(title, desk_result, bare_result)
    print("target: p50 < 100 ms, p99 < 500 ms per page at 1,000,000 cases")
    print(
        f"reproduce: .venv/bin/python bench/deskweb_bench.py --cases {args.cases}"
        f" --clients {args.clients} --requests {args.requests} --think {args.think:g}"
    )


if __name__ == "__main__":
    main()
