"""The read log and the event log for the auditor (审计).

Every read of report content, notes or attachments is a signed ``read`` event; ``desk reads``
lists them. ``desk events`` lists every event of the signed log (what the register did, who
did it, when), narrowed by case, officer, kind and dates. Neither shows report text: events
hold hashes and codes, never plaintext.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from .cases import find_case_id
from .context import Desk
from .refusals import BadValue
from .roles import desk_action

MAX_EVENTS = 10_000


def _narrow(
    desk: Desk,
    case: int | str | None,
    officer: str | None,
    since: date | None,
    until: date | None,
) -> tuple[list[str], list[int | str]]:
    """The WHERE clauses (and their values) the filters ask for."""
    where: list[str] = []
    params: list[int | str] = []
    if case is not None and case != "":
        where.append("case_id = ?")
        params.append(find_case_id(desk.db, case, "--case"))
    if officer:
        where.append("actor = ?")
        params.append(officer)
    if since is not None and until is not None and since > until:
        raise BadValue(f"--since {since} is after --until {until}", "--since")
    if since is not None:
        where.append("at >= ?")
        params.append(since.isoformat())
    if until is not None:
        where.append("at <= ?")
        params.append(until.isoformat())
    return where, params


def _limit(limit: int | None) -> None:
    if limit is not None and not 1 <= limit <= MAX_EVENTS:
        raise BadValue(f"{limit} is out of range (1..{MAX_EVENTS})", "--limit")


def _detail(doc: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(doc.items()))


@desk_action("reads")
def list_reads(
    desk: Desk,
    case: int | str | None = None,
    officer: str | None = None,
    *,
    since: date | None = None,
    until: date | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Who read which case's what, and when (UTC), oldest first; ``since``/``until`` are
    office days (inclusive); ``limit`` keeps the latest reads."""
    where, params = _narrow(desk, case, officer, since, until)
    _limit(limit)
    clauses = " AND ".join(["type = 'read'", *where])
    sql = f"SELECT seq, case_id, time, at, actor, data FROM events WHERE {clauses}"  # noqa: S608
    sql += " ORDER BY seq DESC" + (" LIMIT ?" if limit else "")
    rows = desk.db.execute(sql, [*params, limit] if limit else params).fetchall()
    out = []
    for seq, case_id, time, at, actor, data in reversed(rows):
        doc = json.loads(data)
        what = doc.pop("what", "")
        out.append(
            {"seq": seq, "time": time, "date": at, "officer": actor, "case": case_id,
             "what": what, "detail": _detail(doc)}
        )  # fmt: skip
    return out


@desk_action("events")
def list_events(
    desk: Desk,
    case: int | str | None = None,
    officer: str | None = None,
    *,
    kind: str | None = None,
    since: date | None = None,
    until: date | None = None,
    limit: int = 500,
) -> list[dict[str, Any]]:
    """The event log, newest first (at most ``limit`` events): sequence number, time (UTC),
    office day, officer, case, event type and its recorded data (codes and hashes)."""
    where, params = _narrow(desk, case, officer, since, until)
    if kind:
        where.append("type = ?")
        params.append(kind)
    _limit(limit)
    sql = "SELECT seq, case_id, time, at, actor, type, data FROM events"
    if where:
        sql += " WHERE " + " AND ".join(where)
    rows = desk.db.execute(sql + " ORDER BY seq DESC LIMIT ?", [*params, limit]).fetchall()
    return [
        {"seq": seq, "time": time, "date": at, "officer": actor, "case": case_id,
         "type": kind_, "detail": _detail(json.loads(data))}
        for seq, case_id, time, at, actor, kind_, data in rows
    ]  # fmt: skip
