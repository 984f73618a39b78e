"""The monthly analysis (月分析): every figure the seeds track, for one month of the register.

Three queries: the cases received in the month, grouped by every classification at once (an
index range on ``received_date``); one pass over the register aggregating what happened in the
month per handling unit (conclusions, on-time, open and overdue at month end, real-name
answers, satisfaction, reviews, verification); and the warnings issued. Rendering is in
:mod:`desk.analysis_render`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .context import Desk
from .lifecycle import REVIEW_KINDS
from .values import parse_month

RATINGS = ("satisfied", "basically", "not")
_RECEIVED = """
SELECT channel, item_type, problem_type, problem_subtype, rank, region, source, real_name,
       (repeat_of IS NOT NULL OR item_type = 'repeat'), COALESCE(escalated, 0),
       CASE WHEN route = 'forward' THEN 'forwarded'
            WHEN state = 'not_accepted' THEN 'not_accepted'
            WHEN accepted_date IS NOT NULL THEN 'accepted'
            ELSE 'pending' END,
       count(*)
FROM cases WHERE received_date BETWEEN :a AND :b
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11
"""
_RECEIVED_DIMS = (
    "channel",
    "item_type",
    "problem_type",
    "problem_subtype",
    "rank",
    "region",
    "source",
    "real_name",
    "repeat",
    "escalated",
    "decision",
)
_TAGS = """
SELECT t.tag, count(*) FROM cases c JOIN case_tags t ON t.case_id = c.id
WHERE c.received_date BETWEEN :a AND :b GROUP BY t.tag
"""
_WARNINGS = """
SELECT colour, COALESCE(unit, '-'), count(*) FROM warnings
WHERE issued_date BETWEEN :a AND :b GROUP BY 1, 2
"""
_SUPERVISION = """
SELECT kind, count(*) FROM supervision_actions WHERE acted_date BETWEEN :a AND :b GROUP BY kind
"""
_CONCLUDED = "concluded_date BETWEEN :a AND :b"
_OPEN_END = (
    "((accepted_date <= :b OR (route = 'forward' AND registered_date <= :b))"
    " AND state != 'not_accepted' AND (concluded_date IS NULL OR concluded_date > :b))"
)
_RN = f"real_name = 'verified' AND {_CONCLUDED}"
_ANSWERED = "answered_date BETWEEN :a AND :b"
_SECOND = "second_answer_date BETWEEN :a AND :b"
# Rows that can count for the month: a cheap test so the sums run on a few percent of a large
# register (old closed cases are skipped).
_RELEVANT = (
    "((concluded_date IS NULL AND (accepted_date IS NOT NULL OR route = 'forward'))"
    " OR concluded_date >= :a OR answered_date >= :a OR second_answer_date >= :a"
    " OR state = 'reviewing')"
)


def _flow_columns(
    substantiated: list[str], findings: list[str], reviews: list[str]
) -> dict[str, str]:
    def codes(items: list[str]) -> str:
        return ", ".join(f"'{c}'" for c in items) or "NULL"  # codes are validated [a-z0-9_.]

    cols = {
        "concluded": _CONCLUDED,
        "concluded_with_due": f"{_CONCLUDED} AND due_date IS NOT NULL",
        "on_time": f"{_CONCLUDED} AND concluded_date <= due_date",
        "open_at_end": _OPEN_END,
        "overdue_at_end": f"{_OPEN_END} AND due_date <= :b",
        "real_name_concluded": _RN,
        "real_name_answered_in_window": f"{_RN} AND answered_date <= answer_due",
        "real_name_answered_late": f"{_RN} AND answered_date > answer_due",
        "real_name_not_answered_due": (
            f"{_RN} AND (answered_date IS NULL OR answered_date > :b) AND answer_due <= :b"
        ),
        "real_name_not_yet_due": (
            f"{_RN} AND (answered_date IS NULL OR answered_date > :b) AND answer_due > :b"
        ),
        "answered": _ANSWERED,
        "substantiated": f"{_CONCLUDED} AND outcome IN ({codes(substantiated)})",
        "with_finding": f"{_CONCLUDED} AND outcome IN ({codes(findings)})",
        "reviews_open_now": "state = 'reviewing'",
        "second_answers": _SECOND,
    }
    for rating in RATINGS:
        cols[f"satisfaction_{rating}"] = f"{_ANSWERED} AND satisfaction = '{rating}'"
        cols[f"after_review_{rating}"] = f"{_SECOND} AND satisfaction = '{rating}'"
    cols["satisfaction_none"] = f"{_ANSWERED} AND satisfaction IS NULL"
    cols["after_review_none"] = f"{_SECOND} AND satisfaction IS NULL"
    for kind in REVIEW_KINDS:
        for outcome in reviews:
            cols[f"review:{kind}:{outcome}"] = (
                f"{_SECOND} AND review_kind = '{kind}' AND review_outcome = '{outcome}'"
            )
    return cols


@dataclass
class Analysis:
    """The month's figures. ``received`` holds a Counter per classification."""

    month: str
    first: date
    last: date
    received_total: int = 0
    received: dict[str, Counter[Any]] = field(default_factory=dict)
    tags: Counter[str] = field(default_factory=Counter)
    flows: Counter[str] = field(default_factory=Counter)
    by_unit: dict[str, Counter[str]] = field(default_factory=dict)
    warnings: Counter[tuple[str, str]] = field(default_factory=Counter)
    supervision: Counter[str] = field(default_factory=Counter)  # phone, visit, letter

    def rate(self, numerator: str, denominator: str) -> float | None:
        """A ratio of two flow figures; None when there is nothing to divide by."""
        bottom = self.flows[denominator]
        return self.flows[numerator] / bottom if bottom else None

    def received_rate(self, dimension: str, value: object) -> float | None:
        """The share of received cases with ``dimension == value``."""
        if not self.received_total:
            return None
        return self.received[dimension][value] / self.received_total


def monthly_analysis(desk: Desk, month: str) -> Analysis:
    """Compute the analysis for ``month`` (YYYY-MM)."""
    first, last = parse_month(month)
    params = {"a": first.isoformat(), "b": last.isoformat()}
    out = Analysis(month, first, last)
    out.received = {dim: Counter() for dim in _RECEIVED_DIMS}
    for row in desk.db.execute(_RECEIVED, params):
        count = row[-1]
        out.received_total += count
        for dim, value in zip(_RECEIVED_DIMS, row[:-1], strict=True):
            out.received[dim][value] += count
    out.tags = Counter({tag: n for tag, n in desk.db.execute(_TAGS, params)})
    outcomes = list(desk.outcomes)
    columns = _flow_columns(
        [o.code for o in outcomes if o.finding == "substantiated"],
        [o.code for o in outcomes if o.finding != "none"],
        [o.code for o in outcomes if o.stage == "review"],
    )
    names = list(columns)
    select = ", ".join(f"SUM({sql})" for sql in columns.values())
    sql = f"SELECT COALESCE(unit, forwarded_to, '-'), {select} FROM cases WHERE {_RELEVANT} GROUP BY 1"  # noqa: S608, E501
    for unit, *values in desk.db.execute(sql, params):
        counts = Counter({n: int(v or 0) for n, v in zip(names, values, strict=True)})
        out.flows.update(counts)
        if any(counts[k] for k in ("concluded", "open_at_end", "overdue_at_end")):
            out.by_unit[unit] = counts
    for colour, unit, count in desk.db.execute(_WARNINGS, params):
        out.warnings[(colour, unit)] += count
    out.supervision = Counter(dict(desk.db.execute(_SUPERVISION, params).fetchall()))
    return out
