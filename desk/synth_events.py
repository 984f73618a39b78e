"""Hash-chained events for synthetic cases, written in bulk so ``verify`` accepts the register.

Synthetic events are unsigned (actor ``synthetic``): ``verify`` accepts them only in demo and
test stores. Each case gets a ``received`` event, one ``synthesized`` event that sets every
register column it has, and, when its ledgers were cleared, a ``ledger-cleared`` event dated
the conclusion.
"""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from lianxin.store.events import GENESIS, event_hash_v2

from .cases import LOOP_COLUMNS, REGISTER_COLUMNS

ACTOR = "synthetic"


def _body(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def cleared_date(case: dict[str, Any]) -> str | None:
    """When a synthetic case left its special ledgers (concluded, or not accepted)."""
    if case["state"] == "not_accepted":
        return str(case["registered_date"])
    return case["concluded_date"]  # type: ignore[no-any-return]


def write_events(db: sqlite_utils.Database, chunk: list[tuple[dict[str, Any], list[str]]]) -> int:
    """Append the events of ``chunk`` to the chain (inside the caller's transaction)."""
    row = db.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev = (row[0], bytes(row[1])) if row else (0, GENESIS)
    out = []
    for case, tags in chunk:
        cid = case["id"]
        events = [
            (case["received_date"], "received",
             {"channel": case["channel"], "received": case["received_date"]}),
        ]  # fmt: skip
        if case["number"]:
            columns = ("state", *REGISTER_COLUMNS, *LOOP_COLUMNS)
            updates = {k: case[k] for k in columns if case[k] is not None}
            data: dict[str, Any] = {"set": updates}
            if tags:
                data["tags"] = sorted(set(tags))
            events.append((case["registered_date"], "synthesized", data))
            cleared = cleared_date(case)
            if tags and cleared:
                events.append((cleared, "ledger-cleared", {"cleared_tags": True}))
        for at, kind, doc in events:
            seq += 1
            body = _body(doc)
            digest = event_hash_v2(prev, seq, cid, at, None, ACTOR, kind, body)
            out.append((seq, cid, at, ACTOR, kind, body, prev, digest))
            prev = digest
    db.conn.executemany(
        "INSERT INTO events (seq, case_id, at, actor, type, data, prev_hash, hash)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        out,
    )
    return len(out)
