"""Rates and medians derived for a released month.

A rate uses only figures the month publishes, and only when its denominator reaches the threshold:
anyone could compute it from the tables, so it adds nothing, and a rate over a handful of cases
would say more about those cases than a percentage suggests. A median describes real cases, so it
is shown only when the number of cases behind it is itself published and reaches the threshold;
with differential privacy it is withheld, because it is not a noisy count.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .counts import RawMonth
from .tables import TOTAL

MEASURES_TABLE = "_measures"
"""The release record holding a month's measures."""


def measures(
    tables: Mapping[str, Mapping[str, Any]], raw: RawMonth, threshold: int, noisy: bool
) -> dict[str, float | None]:
    """Rates from published figures only; the median only when its count is published."""

    def cell(table: str, code: str) -> int | None:
        doc = tables[table]
        if code == TOTAL:
            return doc.get("total")
        return dict((c, v) for c, v in doc["rows"]).get(code)

    def rate(
        parts: Sequence[tuple[str, str]], numerator: int, denominator: Sequence[int]
    ) -> float | None:
        found = [cell(t, c) for t, c in parts]
        if any(v is None for v in found):
            return None
        numbers = [v for v in found if v is not None]
        den = sum(numbers[i] for i in denominator)
        if den < threshold or den == 0:
            return None
        return round(100 * sum(numbers[:numerator]) / den, 1)

    concluded = cell("caseload", "concluded")
    median: float | None = None
    if not noisy and concluded is not None and concluded >= threshold:
        median = _median(raw.days_to_conclusion)
    return {
        "repeat_rate": rate([("repeat", "repeat"), ("repeat", TOTAL)], 1, [1]),
        "on_time_rate": rate([("on_time", "on_time"), ("on_time", TOTAL)], 1, [1]),
        "real_name_answer_rate": rate(
            [("real_name_answers", "in_time"), ("real_name_answers", TOTAL)], 1, [1]
        ),
        "satisfaction_rate": rate(
            [("satisfaction", "satisfied"), ("satisfaction", "basically"), ("satisfaction", "not")],
            2,
            [0, 1, 2],
        ),
        "median_days": median,
    }


def _median(histogram: Mapping[int, int]) -> float | None:
    """The median of values given as {value: how many}, without expanding them."""
    n = sum(histogram.values())
    if n == 0:
        return None
    low_at, high_at = (n - 1) // 2, n // 2
    seen, low = 0, None
    for value, count in sorted(histogram.items()):
        if low is None and seen + count > low_at:
            low = value
        if seen + count > high_at:
            return round((low + value) / 2, 1) if low is not None else float(value)
        seen += count
    return None  # unreachable: the loop passes the middle
