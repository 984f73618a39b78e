"""How long a closed case's material is kept, per kind of material (a policy's ``retention``).

The default is to keep everything: Chinese archive rules (档案法, and the commissions' rules on
case files) ask that case material be archived, not destroyed, so every bundled policy keeps it.
An office whose rules set a period writes it in its own policy file, counted in calendar years
or months from the day the case was closed::

    retention:
      content: {years: 30}   # reports and follow-ups as received, with their attachments
      notes: {years: 30}     # notes and documents; the office's copies of answers and messages
      reporter: keep         # what is sealed to the reporter's tokens (answers, records, messages)

``lianxin desk retention`` lists, then (``--apply``) destroys, what has passed its period.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from .yamlnodes import Value

MATERIAL_KINDS = ("content", "notes", "reporter")
MATERIAL_LABELS = {
    "content": (
        "举报及补充材料原文（含附件）",
        "reports and follow-ups as received, with attachments",
    ),
    "notes": ("工作记录、文书及答复和消息的机关副本", "notes, documents, the office's copies"),
    "reporter": (
        "密封给举报人的答复、提交记录和消息",
        "answers, records and messages sealed to the reporter",
    ),
}
MAX_YEARS = 100


@dataclass(frozen=True)
class Retention:
    """Months to keep each kind of material after a case is closed (None: keep for good)."""

    months: dict[str, int | None] = field(default_factory=lambda: dict.fromkeys(MATERIAL_KINDS))

    def expiry(self, kind: str, closed: date) -> date | None:
        """The first day ``kind`` of a case closed on ``closed`` may be destroyed, or None."""
        months = self.months.get(kind)
        if months is None:
            return None
        total = closed.month - 1 + months
        year, month = closed.year + total // 12, total % 12 + 1
        for day in range(closed.day, 27, -1):  # the 31st of a shorter month: its last day
            try:
                return date(year, month, day)
            except ValueError:
                continue
        return date(year, month, min(closed.day, 28))

    def describe(self, kind: str) -> str:
        """``keep`` or ``30 years`` / ``18 months``."""
        months = self.months.get(kind)
        if months is None:
            return "keep"
        return f"{months // 12} years" if months % 12 == 0 else f"{months} months"


KEEP_ALL = Retention()


def parse_retention(v: Value, base: Retention = KEEP_ALL) -> Retention:
    """Read a policy's ``retention`` mapping; kinds it does not name keep ``base``'s period."""
    months = dict(base.months)
    for kind, entry in v.mapping((), MATERIAL_KINDS).items():
        if entry.node.tag.endswith(":str"):
            entry.choice({"keep"})
            months[kind] = None
            continue
        f = entry.mapping((), ("years", "months"))
        if len(f) != 1:
            entry.fail("give 'keep', {years: N} or {months: N}")
        if "years" in f:
            months[kind] = 12 * f["years"].integer(1, MAX_YEARS)
        else:
            months[kind] = f["months"].integer(1, 12 * MAX_YEARS)
    return Retention(months)
