"""Supervision actions (督办): by phone (电话督办), by a visit (实地督办) and by letter (督办函).

A supervisor records each action taken on an open case (a forwarded case too: the office follows
it until the authority reports the result). The action is metadata (its kind, the unit chased,
what was chased, an optional reference such as the letter's number), never case content, so the
supervisor, who reads no report, can record it. The monthly analysis counts them by kind.
"""

from __future__ import annotations

from typing import Any

from .cases import Case, load_case
from .context import Desk
from .lifecycle import require
from .refusals import BadValue
from .roles import desk_action
from .values import clean_text

KINDS: dict[str, tuple[str, str]] = {
    "phone": ("电话督办", "by phone"),
    "visit": ("实地督办", "by a visit"),
    "letter": ("督办函", "by letter"),
}
MAX_REFERENCE = 100


def chased(case: Case) -> str:
    """What the action chases: the case's current stage."""
    if case.phase == "assigned":
        return "sign"
    if case.phase == "rework":
        return "rework"
    return {"concluded": "answer", "reviewing": "review"}.get(case.state, "handle")


@desk_action("supervise")
def supervise(desk: Desk, ref: int | str, kind: str, reference: str = "") -> dict[str, Any]:
    """Record a supervision action on an open case; returns what was recorded."""
    case = load_case(desk.db, ref)
    require(case, "supervise")
    if kind not in KINDS:
        raise BadValue(
            f"{kind!r} is not one of {', '.join(KINDS)}", argument="--kind", code="not_one_of"
        )
    ref_text = clean_text(reference, "--reference", limit=MAX_REFERENCE, required=False)
    unit = case.unit or case.forwarded_to
    record: dict[str, Any] = {"kind": kind, "unit": unit, "stage": chased(case)}
    if ref_text:
        record["reference"] = ref_text
    with desk.transaction():
        cursor = desk.db.execute(
            "INSERT INTO supervision_actions (case_id, kind, unit, acted_date) VALUES (?, ?, ?, ?)",
            [case.id, kind, unit, desk.today.isoformat()],
        )
        record["action"] = int(cursor.lastrowid or 0)
        desk.event(case.id, "supervised", record)
    return record
