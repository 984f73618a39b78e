"""Signed register at scale: ``desk verify`` of a day's events (since the last signed chain
head) and of everything (shares on both cores), opening one case as its handler, and listing a
unit's open cases.

Builds a test office (administrator, registrar, approver, a handler in each of two units) and
N cases of eight events each, all signed by their officers with strictly increasing times:
received (gateway, unsigned), opened, read, registered, assigned, note-added, read by the
handler, and concluded for a third of them. Each case has its key wrapped to the registrar, the
approver and its unit's handler, its report content and a note sealed under it. The publisher
signs the chain head; then a day's events (N x 8 / 365) follow. Targets at 1,000,000 cases:
incremental verify < 1 s, full verify < 5 min on both cores, one case opened < 50 ms.

    .venv/bin/python bench/accounts_bench.py [--cases 20000] [--db var/bench/accounts-20000.sqlite]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import nacl.secret  # noqa: E402
import nacl.utils  # noqa: E402
from nacl.signing import SigningKey  # noqa: E402

from desk.casekeys import seal_case  # noqa: E402
from desk.context import open_desk  # noqa: E402
from desk.listing import Filters, list_cases, show_case  # noqa: E402
from desk.officekeys import OfficeKeys, digest, pack_note  # noqa: E402
from desk.officers import NewOfficer, new_officer, seal_to  # noqa: E402
from desk.registry import add_officer, init_office  # noqa: E402
from desk.verify_parallel import check_since_head, verify_full  # noqa: E402
from lianxin.domain.workdays import FixedClock  # noqa: E402
from lianxin.secrets import SigningSecret  # noqa: E402
from lianxin.store.db import connect  # noqa: E402
from lianxin.store.events import canonical, chain_head, event_hash_v2  # noqa: E402
from lianxin.store.heads import sign_head  # noqa: E402

DAY = date(2026, 1, 5)
UNITS = ("town.dongshan", "town.xihe")
PHRASE = "benchmark passphrase"


def _officers() -> dict[str, NewOfficer]:
    spec = {
        "admin": ("office.letters", ("administrator",)),
        "reg": ("office.letters", ("registrar",)),
        "appr": ("office.letters", ("approver",)),
        "hand.a": (UNITS[0], ("handler",)),
        "hand.b": (UNITS[1], ("handler",)),
    }
    return {k: new_officer(k, k, u, r, PHRASE) for k, (u, r) in spec.items()}


class _Writer:
    """Appends signed events in bulk with strictly increasing times."""

    def __init__(self, db: object, start: datetime) -> None:
        self.db = db
        seq, prev, _ = chain_head(db)  # type: ignore[arg-type]
        self.seq, self.prev, self.clock, self.rows = seq, prev, start, []  # type: ignore[var-annotated]

    def add(self, case_id: int, kind: str, actor: str, data: dict, signer: object | None) -> None:  # type: ignore[type-arg]
        self.seq += 1
        self.clock += timedelta(seconds=1)
        t = self.clock.strftime("%Y-%m-%dT%H:%M:%SZ") if signer else None
        at = self.clock.date().isoformat()
        body = canonical(data)
        digest = event_hash_v2(self.prev, self.seq, case_id, at, t, actor, kind, body)
        sig = signer.sign(digest) if signer else None  # type: ignore[attr-defined]
        self.rows.append((self.seq, case_id, at, t, actor, kind, body, self.prev, digest, 2, sig))
        self.prev = digest

    def flush(self) -> None:
        self.db.conn.executemany(  # type: ignore[attr-defined]
            "INSERT INTO events (seq, case_id, at, time, actor, type, data, prev_hash, hash, v,"
            " sig) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            self.rows,
        )
        self.rows = []


def _cases(db: object, w: _Writer, people: dict[str, NewOfficer], first: int, n: int) -> None:
    reg, appr = people["reg"], people["appr"]
    for i in range(first, first + n):
        unit = UNITS[i % 2]
        hand = people["hand.a" if unit == UNITS[0] else "hand.b"]
        day = w.clock.date().isoformat()
        state = "concluded" if i % 3 == 0 else "in_progress"
        db.execute(  # type: ignore[attr-defined]
            "INSERT INTO cases (id, channel, received_date, state, number, unit, route)"
            " VALUES (?, 'online', ?, ?, ?, ?, 'assign')",
            [i, day, state, f"2026-{i:07d}", unit],
        )
        key = nacl.utils.random(nacl.secret.SecretBox.KEY_SIZE)
        for o in (reg, appr, hand):
            db.execute(  # type: ignore[attr-defined]
                "INSERT INTO case_keys (case_id, holder, sealed) VALUES (?, ?, ?)",
                [i, o.record.id, seal_to(o.record, key)],
            )
        note = seal_case(key, pack_note({"kind": "step", "text": f"调查步骤 {i}"}, b""))
        # the report: its case-key copy, and the envelope row with its ciphertext removed
        # (desk/envelopes.py), as registration leaves it
        receipt = nacl.utils.random(32)
        copy = seal_case(key, _content(i))
        db.execute(  # type: ignore[attr-defined]
            "INSERT INTO submissions (id, receipt_id, kind, case_id, key_id, author, ciphertext,"
            " sig, received_date, opened_at) VALUES (?, ?, 'report', ?, ?, ?, ?, ?, ?, ?)",
            [i, receipt, i, "0123456789abcdef", nacl.utils.random(32), b"", bytes(64), day, day],
        )
        db.execute(  # type: ignore[attr-defined]
            "INSERT INTO case_content (submission_id, case_id, sealed) VALUES (?, ?, ?)",
            [i, i, copy],
        )
        db.execute(  # type: ignore[attr-defined]
            "INSERT INTO notes (id, case_id, key_id, sealed, created_at, officer, sealed_with)"
            " VALUES (?, ?, 'case', ?, ?, ?, 'case')",
            [i, i, note, day, hand.record.id],
        )
        received = {"channel": "online", "received": day, "receipt_id": receipt.hex()}
        w.add(i, "received", "gateway", received, None)
        w.add(i, "opened", "reg", {"submission": i, "kind": "report"}, reg.unlocked)
        w.add(i, "read", "reg", {"what": "report", "submission": i}, reg.unlocked)
        registered = {
            "set": {"number": f"2026-{i:07d}"},
            "content_sealed": 1,
            "envelopes_removed": [[i, receipt.hex(), digest(copy)]],
        }
        w.add(i, "registered", "reg", registered, reg.unlocked)
        assigned = {"set": {"unit": unit, "route": "assign", "state": "in_progress"}}
        w.add(i, "assigned", "appr", assigned, appr.unlocked)
        w.add(
            i, "note-added", hand.record.id, {"note": i, "note_hash": digest(note)}, hand.unlocked
        )
        w.add(i, "read", hand.record.id, {"what": "case"}, hand.unlocked)
        if state == "concluded":
            w.add(i, "concluded", hand.record.id, {"set": {"state": "concluded"}}, hand.unlocked)
        if len(w.rows) > 50_000:
            w.flush()
    w.flush()


def _content(i: int) -> bytes:
    doc = {
        "kind": "report",
        "document": {"title": f"反映某单位问题 {i}", "text": "举报内容" * 40},
        "attachments": [],
    }
    return json.dumps(doc, ensure_ascii=False, sort_keys=True).encode()


def build(path: Path, n: int) -> dict[str, float]:
    path.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    people = _officers()
    desk = open_desk(path if path.exists() else _new(path), officer=people["admin"].unlocked,
                     clock=FixedClock(DAY))  # fmt: skip
    init_office(desk, people["admin"], kind="test")
    for oid, new in people.items():
        if oid != "admin":
            add_officer(desk, new)
    db = desk.db
    day_events = max(1, n * 8 // 365)
    history = n - max(1, day_events // 8)
    w = _Writer(db, datetime(2026, 1, 6, tzinfo=UTC))
    db.execute("BEGIN")
    _cases(db, w, people, 1, history)
    db.execute("COMMIT")
    publisher = SigningSecret(SigningKey.generate(), "bench")
    db.execute("BEGIN")
    sign_head(db, publisher, "2026-12-01")
    _cases(db, w, people, history + 1, n - history)
    db.execute("COMMIT")
    desk.close()
    return {"build_s": time.perf_counter() - started}


def _new(path: Path) -> Path:
    connect(path).conn.close()
    return path


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def _load() -> str:
    return "load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def measure(path: Path, one_core: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    t = time.perf_counter()
    connect(path).conn.close()  # migrate once (indexes added since the build)
    out["migrate_s"] = time.perf_counter() - t
    t = time.perf_counter()
    inc = check_since_head(path, 1)
    out["incremental_one"] = (time.perf_counter() - t, inc.events, len(inc.problems), _load())
    t = time.perf_counter()
    inc = check_since_head(path, 2)
    out["incremental"] = (time.perf_counter() - t, inc.events, len(inc.problems), _load())
    if one_core:
        t = time.perf_counter()
        one = verify_full(path, 1)
        out["full_one_core"] = (time.perf_counter() - t, one.events, len(one.problems), _load())
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    two = verify_full(path, 2)
    out["full_two_cores"] = (time.perf_counter() - t, two.events, len(two.problems), _load())
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    out["full_cpu_s"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    out["cases"] = two.cases
    people_db = connect(path)
    from desk.officers import unlock

    t = time.perf_counter()
    handler = unlock(people_db, "hand.a", PHRASE)
    out["unlock_s"] = time.perf_counter() - t
    people_db.conn.close()
    desk = open_desk(path, officer=handler, clock=FixedClock(DAY + timedelta(days=400)))
    ids = [
        int(r[0])
        for r in desk.db.execute(
            "SELECT id FROM cases WHERE unit = ? ORDER BY id DESC LIMIT 41", [UNITS[0]]
        )
    ]
    keys = OfficeKeys({}, path, None)
    t = time.perf_counter()
    shown = show_case(desk, ids[0], keys)  # the first after opening the store: cold caches
    out["open_first_s"] = time.perf_counter() - t
    out["open_case_notes"] = len(shown.get("notes", []))
    out["open_case_content"] = len(shown.get("content", []))
    times = []
    for case_id in ids[1:]:
        t = time.perf_counter()
        show_case(desk, case_id, keys)
        times.append(time.perf_counter() - t)
    out["open_median_s"] = statistics.median(times)
    out["open_max_s"] = max(times)
    # the same reads without the read event (what the keys and the queries cost alone)
    from desk.cases import load_case
    from desk.notes import read_notes
    from desk.scope import read_content

    times = []
    for case_id in ids[1:]:
        t = time.perf_counter()
        case = load_case(desk.db, case_id)
        read_content(desk, case)
        read_notes(desk, case, keys)
        times.append(time.perf_counter() - t)
    out["decrypt_median_s"] = statistics.median(times)
    t = time.perf_counter()
    rows = list_cases(desk, Filters(state="in_progress", unit=UNITS[0], limit=200))
    out["list_unit_s"] = time.perf_counter() - t
    out["list_rows"] = len(rows)
    out["load_end"] = _load()
    desk.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument(
        "--one-core", action="store_true", help="Also verify in one process (the baseline)."
    )
    parser.add_argument("--build-only", action="store_true", help="Build the register and stop.")
    args = parser.parse_args()
    path = args.db or ROOT / "var" / "bench" / f"accounts-{args.cases}.sqlite"
    if not path.exists():
        print(f"building {args.cases:,} cases ({_load()}): {json.dumps(build(path, args.cases))}")
    else:
        print(f"reusing {path}")
    if args.build_only:
        return
    f = measure(path, args.one_core)
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()},"
          f" {os.cpu_count()} cores")  # fmt: skip
    print(f"migrate to the current schema     {f['migrate_s']:8.2f} s")
    for name in ("incremental_one", "incremental", "full_one_core", "full_two_cores"):
        if name not in f:
            continue
        took, events, problems, load = f[name]
        print(
            f"verify {name:<15} {took:8.2f} s  {events:>10,} events  {problems} problem(s)"
            f"  ({load} at the end)"
        )
    if "full_one_core" in f:
        ratio = f["full_one_core"][0] / f["full_two_cores"][0]
        print(f"two cores vs one: {ratio:.2f}x faster")
    print(
        f"  CPU time of the two workers together {f['full_cpu_s']:.1f} s: on two idle cores the"
        f" full verify takes about {f['full_cpu_s'] / 2:.1f} s (the machine is shared)"
    )
    print(f"cases replayed {f['cases']:,}")
    print(f"unlock handler (Argon2id 64 MiB, once per login) {f['unlock_s']:.2f} s")
    print(
        f"open one case as its handler: first {f['open_first_s'] * 1000:.1f} ms (cold),"
        f" median of 40 {f['open_median_s'] * 1000:.1f} ms, max {f['open_max_s'] * 1000:.1f} ms"
        f" ({f['open_case_content']} report, {f['open_case_notes']} note; includes the signed"
        " read event, committed)"
    )
    print(f"  of which unwrap + decrypt + queries, no read event: median"
          f" {f['decrypt_median_s'] * 1000:.1f} ms")  # fmt: skip
    print(
        f"list a unit's open cases (200)   {f['list_unit_s'] * 1000:.1f} ms ({f['list_rows']} rows)"
    )
    print(f"{f['load_end']} at the end; uptime: {_uptime()}")
    flag = " --one-core" if args.one_core else ""
    print(
        f"\nreproduce: .venv/bin/python bench/accounts_bench.py --cases {args.cases} --db {path}"
        + flag
    )


if __name__ == "__main__":
    main()
