"""Reading cases and changing them through the event log.

Every change to a case goes through :func:`change`: it updates the row and appends one event
whose data carries the columns it set (``"set"``), so ``verify`` can replay the log and notice
a row edited outside the desk.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import sqlite_utils

from .refusals import UnknownCase
from .values import case_ref

REGISTER_COLUMNS = (
    "number",
    "source",
    "item_type",
    "problem_type",
    "problem_subtype",
    "rank",
    "region",
    "real_name",
    "repeat_of",
    "escalated",
    "registered_date",
    "route",
    "unit",
    "forwarded_to",
    "accepted_date",
    "due_date",
    "due_uncertain",
    "extensions",
    "concluded_date",
    "outcome",
    "answer_due",
    "answered_date",
    "satisfaction",
    "review_kind",
    "review_due",
    "review_outcome",
    "second_answer_date",
    "closed_date",
    "policy",
)
"""The register columns of migration 0002, in its order."""

LOOP_COLUMNS = (
    "phase",
    "proposal",
    "sign_due",
    "signed_date",
    "report_date",
    "report_returns",
    "acknowledged_date",
    "inquiry_delivered",
    "inquiry_replied",
)
"""The office loop's columns of migration 0007: the step within a state (see
:mod:`desk.lifecycle`), the proposed routing, signing for, the completion report, the
acceptance notice to a real-name reporter and a 谈话函询 letter's delivery and reply."""

COLUMNS = ("id", "channel", "received_date", "state", *REGISTER_COLUMNS, *LOOP_COLUMNS)
"""Every column of ``cases`` that the desk reads."""

SELECT = "SELECT " + ", ".join(COLUMNS) + " FROM cases"  # noqa: S608 - fixed column names


@dataclass(frozen=True)
class Case:
    """One row of the register, with its special-ledger tags."""

    id: int
    channel: str
    received_date: str
    state: str
    number: str | None = None
    source: str | None = None
    item_type: str | None = None
    problem_type: str | None = None
    problem_subtype: str | None = None
    rank: str | None = None
    region: str | None = None
    real_name: str | None = None
    repeat_of: int | None = None
    escalated: int | None = None
    registered_date: str | None = None
    route: str | None = None
    unit: str | None = None
    forwarded_to: str | None = None
    accepted_date: str | None = None
    due_date: str | None = None
    due_uncertain: int | None = None
    extensions: int | None = None
    concluded_date: str | None = None
    outcome: str | None = None
    answer_due: str | None = None
    answered_date: str | None = None
    satisfaction: str | None = None
    review_kind: str | None = None
    review_due: str | None = None
    review_outcome: str | None = None
    second_answer_date: str | None = None
    closed_date: str | None = None
    policy: str | None = None
    phase: str | None = None
    proposal: str | None = None
    sign_due: str | None = None
    signed_date: str | None = None
    report_date: str | None = None
    report_returns: int | None = None
    acknowledged_date: str | None = None
    inquiry_delivered: str | None = None
    inquiry_replied: str | None = None
    tags: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """How messages name the case: its number once registered, else its id."""
        return self.number or f"#{self.id}"

    @property
    def registered(self) -> bool:
        """Whether the case has a registration number."""
        return self.number is not None

    def as_dict(self) -> dict[str, Any]:
        """Every field, for JSON output."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["tags"] = list(self.tags)
        return out


def case_from_row(row: tuple[Any, ...], tags: tuple[str, ...] = ()) -> Case:
    """Build a :class:`Case` from a row selected with :data:`SELECT`."""
    return Case(**dict(zip(COLUMNS, row, strict=True)), tags=tags)


def tags_of(db: sqlite_utils.Database, case_id: int) -> tuple[str, ...]:
    """The case's special-ledger tags, sorted."""
    rows = db.execute("SELECT tag FROM case_tags WHERE case_id = ? ORDER BY tag", [case_id])
    return tuple(r[0] for r in rows)


def find_case_id(db: sqlite_utils.Database, ref: int | str, argument: str = "CASE") -> int:
    """The id of the case named by ``ref`` (an id or a registration number)."""
    value = case_ref(ref, argument)
    if isinstance(value, int):
        row = db.execute("SELECT id FROM cases WHERE id = ?", [value]).fetchone()
    else:
        row = db.execute("SELECT id FROM cases WHERE number = ?", [value]).fetchone()
    if row is None:
        raise UnknownCase(f"no case {str(ref)!r} in the register", argument=argument, ref=str(ref))
    return int(row[0])


def load_case(db: sqlite_utils.Database, ref: int | str, argument: str = "CASE") -> Case:
    """The case named by ``ref``; refused with :class:`UnknownCase` if there is none."""
    case_id = find_case_id(db, ref, argument)
    row = db.execute(SELECT + " WHERE id = ?", [case_id]).fetchone()
    return case_from_row(row, tags_of(db, case_id))
