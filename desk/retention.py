"""Retention: destroying a closed case's material once the policy's period has passed.

A policy's ``retention`` (:mod:`lianxin.domain.retention`) sets, per kind of material, how long
it is kept after the case is closed; the bundled policies keep everything, as Chinese archive
rules ask. ``lianxin desk retention`` lists what is due; ``--apply`` destroys it, case by case,
each in one transaction with a signed ``material-destroyed`` event:

* ``content``: the copies under the case key of every report and follow-up of the case
  (``case_content``, attachments included), and any original envelope still stored (its
  ciphertext removed; the receipt id and the rest of the row stay for receipts and the log);
* ``notes``: notes and documents, and the office's copies of answers and messages;
* ``reporter``: the answers, records of what was sent and messages sealed to the reporter's
  tokens (the status page then shows none).

Once nothing of the case is left under its case key, the key's wraps (``case_keys``) are
deleted too: no officer, and no copy of the live store, can open the case again. The case row,
its events and its tokens stay, so the published figures do not change. The event records the
row ids destroyed (and each submission's receipt id), never content; ``desk verify`` accepts
their absence on the strength of that signed event. The store deletes with ``secure_delete``
(freed pages are zeroed) and the write-ahead log is checkpointed and truncated afterwards;
backups and replicas keep the material until they themselves expire.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from lianxin.domain.retention import MATERIAL_KINDS

from .answers import review_window
from .cases import load_case
from .context import Desk
from .envelopes import REMOVED
from .roles import desk_action

_COUNTS = {
    "content": "SELECT (SELECT count(*) FROM case_content WHERE case_id = :c)"
    " + (SELECT count(*) FROM submissions WHERE case_id = :c AND length(ciphertext) > 0)",
    "notes": "SELECT count(*) FROM notes WHERE case_id = :c",
    "reporter": "SELECT (SELECT count(*) FROM answers WHERE case_id = :c)"
    " + (SELECT count(*) FROM reporter_items WHERE case_id = :c)",
}


@dataclass(frozen=True)
class Due:
    """Material of one kind of one closed case whose retention period has passed."""

    case_id: int
    label: str
    closed: str
    kind: str
    expired: str  # the first day it could be destroyed
    items: int  # rows still stored

    def as_dict(self) -> dict[str, Any]:
        """For JSON output."""
        return dict(self.__dict__)


def due_material(desk: Desk, today: date | None = None) -> list[Due]:
    """What is past its retention period on ``today`` (the desk's clock by default), by case;
    a case whose review window (the policy's ``review_request``) is still open is left out."""
    day = today or desk.today
    out = []
    for case_id, number, closed, policy in desk.db.execute(
        "SELECT id, number, closed_date, policy FROM cases WHERE state = 'closed'"
        " AND closed_date IS NOT NULL ORDER BY id"
    ).fetchall():
        retention = desk.policy(policy).retention
        found = []
        for kind in MATERIAL_KINDS:
            expiry = retention.expiry(kind, date.fromisoformat(closed))
            if expiry is None or day < expiry:
                continue
            (items,) = desk.db.execute(_COUNTS[kind], {"c": case_id}).fetchone()
            if items:
                label = number or f"#{case_id}"
                found.append(Due(case_id, label, closed, kind, expiry.isoformat(), int(items)))
        if found:  # never while the reporter may still ask for a review (复查) of the case
            window = review_window(desk, load_case(desk.db, case_id))
            if window is None or day.isoformat() > window[0]:
                out += found
    return out


@desk_action("retention")
def list_due(desk: Desk) -> list[Due]:
    """The material past its retention period, without changing anything."""
    return due_material(desk)


@desk_action("retention")
def destroy_due(desk: Desk) -> list[Due]:
    """Destroy what :func:`list_due` lists, one signed event and transaction per case."""
    due = due_material(desk)
    by_case: dict[int, list[Due]] = {}
    for item in due:
        by_case.setdefault(item.case_id, []).append(item)
    desk.db.execute("PRAGMA secure_delete = ON")  # freed pages zeroed (the store's default)
    for case_id, items in by_case.items():
        with desk.transaction():
            data = _destroy(desk, case_id, [i.kind for i in items])
            desk.event(case_id, "material-destroyed", data)
    if by_case:
        desk.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # no old page left in the WAL
    return due


def _ids(desk: Desk, sql: str, case_id: int) -> list[int]:
    return [int(r[0]) for r in desk.db.execute(sql, [case_id]).fetchall()]


def _destroy(desk: Desk, case_id: int, kinds: list[str]) -> dict[str, Any]:
    """Delete the case's material of ``kinds`` (inside the caller's transaction); returns the
    event's data: the kinds, and what was destroyed by row id (``destroyed``: content as
    ``[submission, receipt id]``, notes, answers, items; wraps: how many)."""
    db = desk.db
    data: dict[str, Any] = {}
    if "content" in kinds:
        rows = db.execute(
            "SELECT id, receipt_id FROM submissions WHERE case_id = ? ORDER BY id", [case_id]
        ).fetchall()
        db.execute("DELETE FROM case_content WHERE case_id = ?", [case_id])
        db.execute(
            "UPDATE submissions SET ciphertext = ? WHERE case_id = ? AND length(ciphertext) > 0",
            [REMOVED, case_id],
        )
        data["content"] = [[int(sid), bytes(receipt).hex()] for sid, receipt in rows]
    if "notes" in kinds:
        data["notes"] = _ids(desk, "SELECT id FROM notes WHERE case_id = ? ORDER BY id", case_id)
        db.execute("DELETE FROM notes WHERE case_id = ?", [case_id])
    if "reporter" in kinds:
        data["answers"] = _ids(
            desk, "SELECT id FROM answers WHERE case_id = ? ORDER BY id", case_id
        )
        data["items"] = _ids(
            desk, "SELECT id FROM reporter_items WHERE case_id = ? ORDER BY id", case_id
        )
        db.execute("DELETE FROM answers WHERE case_id = ?", [case_id])
        db.execute("DELETE FROM reporter_items WHERE case_id = ?", [case_id])
    left = db.execute(
        "SELECT (SELECT count(*) FROM case_content WHERE case_id = :c)"
        " + (SELECT count(*) FROM notes WHERE case_id = :c AND sealed_with = 'case')",
        {"c": case_id},
    ).fetchone()[0]
    if not left:  # nothing is sealed under the case key any more: its wraps go too
        data["wraps"] = db.execute("DELETE FROM case_keys WHERE case_id = ?", [case_id]).rowcount
    return {"kinds": kinds, "destroyed": data}
