"""Special ledgers (专项台账): the cases tagged for a campaign theme, open versus cleared.

A case is cleared from its ledgers (对账销号) when it is concluded or not accepted; a ledger is
cleared to zero (台账清零) when none of its cases is open.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .context import Desk
from .refusals import BadValue


@dataclass(frozen=True)
class LedgerCase:
    """One case of a ledger."""

    case_id: int
    number: str | None
    state: str
    unit: str | None
    due_date: str | None
    cleared_date: str | None

    def as_dict(self) -> dict[str, Any]:
        """For JSON and CSV output."""
        return dict(self.__dict__)


@dataclass
class Ledger:
    """A ledger's cases and counts."""

    tag: str
    zh: str
    en: str
    cases: list[LedgerCase] = field(default_factory=list)
    open: int = 0
    cleared: int = 0

    @property
    def cleared_to_zero(self) -> bool:
        """台账清零: no open case left (an empty ledger is trivially clear)."""
        return self.open == 0

    def summary(self) -> dict[str, Any]:
        """The ledger's counts."""
        return {
            "tag": self.tag,
            "zh": self.zh,
            "en": self.en,
            "total": self.open + self.cleared,
            "open": self.open,
            "cleared": self.cleared,
            "cleared_to_zero": self.cleared_to_zero,
        }


def ledger(desk: Desk, tag: str, *, with_cases: bool = True) -> Ledger:
    """The ledger for ``tag``."""
    entry = desk.taxonomy.tags.get(tag)
    if entry is None:
        codes = ", ".join(desk.taxonomy.tags.codes())
        raise BadValue(f"unknown tag {tag!r} ({codes})", argument="TAG")
    out = Ledger(tag, entry.zh, entry.en)
    row = desk.db.execute(
        "SELECT count(*) - count(cleared_date), count(cleared_date) FROM case_tags WHERE tag = ?",
        [tag],
    ).fetchone()
    out.open, out.cleared = int(row[0]), int(row[1])
    if with_cases:
        rows = desk.db.execute(
            "SELECT c.id, c.number, c.state, COALESCE(c.unit, c.forwarded_to), c.due_date,"
            " t.cleared_date FROM case_tags t JOIN cases c ON c.id = t.case_id WHERE t.tag = ?"
            " ORDER BY t.cleared_date IS NOT NULL, c.due_date, c.id",
            [tag],
        )
        out.cases = [LedgerCase(*r) for r in rows]
    return out


def all_ledgers(desk: Desk) -> list[Ledger]:
    """Every tag's ledger counts (without the cases)."""
    return [ledger(desk, t.code, with_cases=False) for t in desk.taxonomy.tags]
