"""Writing a case: one change to the register and the event that records it, and its tags.

Kept apart from :mod:`desk.cases` (reading a case), which the desk's context itself uses.
"""

from __future__ import annotations

from typing import Any

from .cases import COLUMNS, Case
from .context import Desk
from .refusals import BadValue


def change(
    desk: Desk,
    case: Case,
    kind: str,
    updates: dict[str, Any],
    data: dict[str, Any] | None = None,
) -> int:
    """Set ``updates`` on the case and append the event that records them (in a transaction
    the caller holds). Returns the event's sequence number."""
    unknown = set(updates) - set(COLUMNS[3:])
    if unknown:
        raise ValueError(f"not a register column: {sorted(unknown)}")
    if desk.today.isoformat() < case.received_date:
        raise BadValue(
            f"{desk.today.isoformat()} is before case {case.label} was received"
            f" ({case.received_date})",
            argument="--today",
        )
    if updates:
        assignments = ", ".join(f"{name} = ?" for name in updates)
        desk.db.execute(
            f"UPDATE cases SET {assignments} WHERE id = ?",  # noqa: S608 - names checked above
            [*updates.values(), case.id],
        )
    return desk.event(case.id, kind, {**(data or {}), "set": updates})


def set_tags(desk: Desk, case: Case, tags: tuple[str, ...]) -> dict[str, Any]:
    """Replace the case's tags (keeping cleared dates of tags it keeps); returns event data."""
    keep = set(tags)
    for tag in set(case.tags) - keep:
        desk.db.execute("DELETE FROM case_tags WHERE case_id = ? AND tag = ?", [case.id, tag])
    for tag in sorted(keep - set(case.tags)):
        desk.db.execute("INSERT INTO case_tags (case_id, tag) VALUES (?, ?)", [case.id, tag])
    return {"tags": sorted(keep)}


def clear_tags(desk: Desk, case: Case) -> None:
    """Mark the case cleared (对账销号) in every special ledger it is in."""
    desk.db.execute(
        "UPDATE case_tags SET cleared_date = ? WHERE case_id = ? AND cleared_date IS NULL",
        [desk.today.isoformat(), case.id],
    )
