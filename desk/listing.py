"""``list`` and ``show``: the register as staff read it.

Listings flag every deadline that falls in a year without holiday data (``provisional``), so a
deadline the calendar cannot yet confirm is never shown as if it were certain.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from .casefiles import attachment_refs
from .casekeys import has_case_key, open_case_key
from .cases import SELECT, Case, case_from_row, load_case
from .context import Desk
from .deadlines import counts_working_days
from .lifecycle import STATES, allowed_steps, case_stage
from .notes import read_notes
from .officekeys import OfficeKeys
from .refusals import BadValue, Refused
from .roles import ROLEBOOK, desk_action
from .scope import read_content
from .values import parse_month
from .warnings import CaseColours

MAX_ROWS = 10_000


@dataclass(frozen=True)
class Filters:
    """What ``list`` narrows the register to."""

    state: str | None = None
    unit: str | None = None
    channel: str | None = None
    month: str | None = None  # received in YYYY-MM
    tag: str | None = None
    limit: int = 200
    number: str | None = None  # registration number, or a part of it
    since: date | None = None  # received on or after
    until: date | None = None  # received on or before


def current_due(case: Case) -> str | None:
    """The deadline that matters in the case's state."""
    if case.state == "concluded":
        return case.answer_due
    if case.state == "reviewing":
        return case.review_due
    if case.state in ("accepted", "in_progress", "forwarded"):
        return case.due_date
    return None


def provisional(desk: Desk, case: Case, due: str | None) -> bool:
    """Whether ``due`` could not be confirmed by the holiday calendar."""
    if not due:
        return False
    if due == case.due_date and case.due_uncertain:
        return True
    return counts_working_days(desk.policy(case.policy)) and not desk.calendar.has_data(
        int(due[:4])
    )


def row_of(desk: Desk, case: Case) -> dict[str, Any]:
    """A case as a listing row."""
    due = current_due(case)
    return {
        "id": case.id,
        "number": case.number,
        "channel": case.channel,
        "received": case.received_date,
        "state": case.state,
        "item_type": case.item_type,
        "problem": case.problem_subtype or case.problem_type,
        "unit": case.unit or case.forwarded_to,
        "due": due,
        "provisional": provisional(desk, case, due),
        "tags": ",".join(case.tags),
    }


def scoped_unit(desk: Desk) -> str | None:
    """The one unit the acting officer's lists are limited to (a handler's), or None."""
    me = desk.me().record
    if [r for r in ROLEBOOK.action("list").roles if me.has(r)] == ["handler"]:
        return me.unit
    return None


@desk_action("list")
def list_cases(desk: Desk, filters: Filters) -> list[dict[str, Any]]:
    """Cases matching ``filters``, newest first; a handler sees only their unit's cases."""
    return [row for row, _case in _listed(desk, filters)]


@desk_action("list")
def listed_cases(desk: Desk, filters: Filters) -> list[tuple[dict[str, Any], Case]]:
    """:func:`list_cases` with each row's :class:`Case` beside it (for the steps it allows,
    without reading each case again)."""
    return _listed(desk, filters)


def _listed(desk: Desk, filters: Filters) -> list[tuple[dict[str, Any], Case]]:
    me = desk.me().record
    if scoped_unit(desk) is not None:
        if filters.unit not in (None, me.unit):
            raise Refused(f"a handler lists only their unit's cases ({me.unit})", "--unit")
        filters = replace(filters, unit=me.unit)
    where, params = [], []
    if filters.state is not None:
        if filters.state not in STATES:
            raise BadValue(f"{filters.state!r} is not one of {', '.join(STATES)}", "--state")
        # "+state": newest first by scanning ids backwards (stops after LIMIT rows) rather than
        # the state index, which would sort every case in that state (a unit's open cases at
        # 1M cases: hundreds of thousands); the worst case is one pass over the table
        where.append("+state = ?")
        params.append(filters.state)
    if filters.unit is not None:
        where.append("(unit = ? OR forwarded_to = ?)")
        params += [filters.unit, filters.unit]
    if filters.channel is not None:
        where.append("channel = ?")
        params.append(filters.channel)
    if filters.month is not None:
        first, last = parse_month(filters.month)
        where.append("received_date BETWEEN ? AND ?")
        params += [first.isoformat(), last.isoformat()]
    if filters.tag is not None:
        where.append("id IN (SELECT case_id FROM case_tags WHERE tag = ?)")
        params.append(filters.tag)
    if filters.number:
        where.append("number LIKE ? ESCAPE '\\'")
        escaped = filters.number.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params.append(f"%{escaped}%")
    if filters.since is not None and filters.until is not None and filters.since > filters.until:
        raise BadValue(f"--since {filters.since} is after --until {filters.until}", "--since")
    if filters.since is not None:
        where.append("received_date >= ?")
        params.append(filters.since.isoformat())
    if filters.until is not None:
        where.append("received_date <= ?")
        params.append(filters.until.isoformat())
    if not 1 <= filters.limit <= MAX_ROWS:
        raise BadValue(f"{filters.limit} is out of range (1..{MAX_ROWS})", argument="--limit")
    sql = SELECT + (" WHERE " + " AND ".join(where) if where else "")
    sql += " ORDER BY id DESC LIMIT ?"
    rows = desk.db.execute(sql, [*params, filters.limit]).fetchall()
    ids = [r[0] for r in rows]
    tags: dict[int, list[str]] = {}
    if ids:
        marks = ",".join("?" * len(ids))
        for case_id, tag in desk.db.execute(
            f"SELECT case_id, tag FROM case_tags WHERE case_id IN ({marks}) ORDER BY tag",  # noqa: S608
            ids,
        ):
            tags.setdefault(case_id, []).append(tag)
    colours = CaseColours(desk)
    listed = []
    for r in rows:
        case = case_from_row(r, tuple(tags.get(r[0], ())))
        listed.append(({**row_of(desk, case), "colour": colours.of(case)}, case))
    return listed


@desk_action("show-metadata")
def show_case(desk: Desk, ref: int | str, keys: OfficeKeys | None = None) -> dict[str, Any]:
    """Everything about one case: register fields, history, tokens, answers; with ``keys``
    and the case in the officer's scope, its report content and notes too (a read event)."""
    case = load_case(desk.db, ref)
    db = desk.db
    events = [
        {"seq": seq, "at": at, "time": time, "actor": actor, "type": kind, "data": json.loads(data)}
        for seq, at, time, actor, kind, data in db.execute(
            "SELECT seq, at, time, actor, type, data FROM events WHERE case_id = ? ORDER BY seq",
            [case.id],
        )
    ]

    def count(table: str) -> int:
        sql = f"SELECT count(*) FROM {table} WHERE case_id = ?"  # noqa: S608 - fixed names
        return int(db.execute(sql, [case.id]).fetchone()[0])

    due = current_due(case)
    out: dict[str, Any] = {
        "case": case.as_dict(),
        "state_label": case_stage(case),
        "current_due": due,
        "provisional": provisional(desk, case, due),
        "next_steps": allowed_steps(case),
        "tokens": count("tokens"),
        "submissions": count("submissions"),
        "answers": count("answers"),
        "notes_count": count("notes"),
        "events": events,
    }
    me = desk.me()
    readers = ROLEBOOK.action("show").roles
    in_scope = open_case_key(db, case.id, me) is not None or not has_case_key(db, case.id)
    if keys is not None and any(me.record.has(r) for r in readers) and in_scope:
        out["notes"] = [n.as_dict() for n in read_notes(desk, case, keys)]
        content = read_content(desk, case)
        out["content"] = [
            {
                "submission": c["submission"],
                "kind": c["kind"],
                "title": c["document"].get("title", ""),
                "text": c["document"].get("text", c["document"].get("type", "")),
            }
            for c in content
        ]
        out["files"] = attachment_refs(content) + [
            {"file": f"n{n['id']}", "note": n["id"], "name": n["file"], "size": n["file_size"]}
            for n in out["notes"]
            if n["file"]
        ]
        desk.record_read(case.id, "case", notes=len(out["notes"]), submissions=len(out["content"]))
    return out
