"""Counting the register: the raw monthly counts behind every published table.

Each query groups the whole register by month (and by the columns that decide a case's category)
in SQLite, so a million cases cost a few scans, not a million Python objects. Flows are counted
where their date falls; stocks at the end of a month are cumulative starts minus cumulative ends.
Nothing here is published: :mod:`publisher.statistics` suppresses these counts first.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import sqlite_utils

from lianxin.domain.taxonomy import Taxonomy

from .releases import Month, first_day, months_between, next_month
from .tables import NOT_STATED, UNREGISTERED

RawTables = dict[str, dict[str, int]]
"""table name -> category code -> count, for one month."""


@dataclass
class RawMonth:
    """Everything counted for one month before suppression."""

    tables: RawTables = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    days_to_conclusion: dict[int, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, table: str, code: str, count: int) -> None:
        """Count ``count`` cases in one category."""
        self.tables[table][code] += count

    def value(self, table: str, code: str) -> int:
        """A count (0 when nothing fell in the category)."""
        return self.tables.get(table, {}).get(code, 0)


class _Classifier:
    """Maps register codes to the published categories (unknown codes: "not stated")."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        channels = set(taxonomy.channels.codes())
        item_types = set(taxonomy.item_types.codes())
        problem = {p.code: p.parent or p.code for p in taxonomy.problem_types}  # subtype: parent
        bands = {r.code: f"band{r.band}" for r in taxonomy.ranks}
        regions = set(taxonomy.regions.codes())
        self.maps: dict[str, Callable[[str | None], str]] = {
            "channel": lambda c: c if c in channels else "other",
            "item_type": lambda c: c if c in item_types else NOT_STATED,
            "problem_type": lambda c: problem.get(c or "", NOT_STATED),
            "rank_band": lambda c: bands.get(c or "", NOT_STATED),
            "region": lambda c: c if c in regions else NOT_STATED,
            "decision": str,
            "repeat": str,
        }

    def category(self, table: str, registered: int, code: str | None) -> str:
        """The published category of a register value (classification needs registration)."""
        if not registered and table in ("item_type", "problem_type", "rank_band", "region"):
            return UNREGISTERED
        return self.maps[table](code)


# SQLite groups by sorting every row, which for a million cases costs seconds per GROUP BY; one
# plain scan counted with a Counter (in C) is several times faster than a GROUP BY per table.
_RECEIVED_COLUMNS = {
    "channel": "channel",
    "decision": """CASE WHEN state = 'not_accepted' THEN 'not_accepted'
        WHEN route = 'forward' OR state = 'forwarded' THEN 'forwarded'
        WHEN accepted_date IS NOT NULL THEN 'accepted' ELSE 'pending' END""",
    "repeat": "CASE WHEN repeat_of IS NOT NULL OR item_type = 'repeat' THEN 'repeat'"
    " ELSE 'first' END",
    "item_type": "item_type",
    "problem_type": "problem_type",
    "rank_band": "rank",
    "region": "region",
}
_RECEIVED = """
SELECT substr(received_date, 1, 7), registered_date IS NOT NULL, {columns}
FROM cases {hint} WHERE received_date >= :first AND received_date < :end
"""
# A few recent months (the usual build) read through the received_date index; a long span (the
# first build) is faster as one plain scan.
_INDEXED_MONTHS = 3

_FLOWS = {
    "caseload": """
SELECT substr(concluded_date, 1, 7), 'concluded', count(*) FROM cases
WHERE concluded_date >= :first AND concluded_date < :end GROUP BY 1""",
    "on_time": """
SELECT substr(due_date, 1, 7),
       CASE WHEN concluded_date IS NOT NULL AND concluded_date <= due_date
            THEN 'on_time' ELSE 'late' END, count(*)
FROM cases WHERE due_date >= :first AND due_date < :end AND state != 'not_accepted'
GROUP BY 1, 2""",
    "real_name_answers": """
SELECT substr(answer_due, 1, 7),
       CASE WHEN answered_date IS NOT NULL AND answered_date <= answer_due
            THEN 'in_time' ELSE 'late' END, count(*)
FROM cases WHERE real_name = 'verified' AND answer_due >= :first AND answer_due < :end
GROUP BY 1, 2""",
    "satisfaction": """
SELECT substr(answered_date, 1, 7),
       CASE WHEN satisfaction IN ('satisfied', 'basically', 'not') THEN satisfaction
            ELSE 'unrated' END, count(*)
FROM cases WHERE answered_date >= :first AND answered_date < :end GROUP BY 1, 2""",
    "review_kind": """
SELECT substr(second_answer_date, 1, 7),
       CASE WHEN review_kind IN ('second_answer', 'review', 're_review') THEN review_kind
            ELSE '_not_stated' END, count(*)
FROM cases WHERE second_answer_date >= :first AND second_answer_date < :end GROUP BY 1, 2""",
    "review_outcome": """
SELECT substr(second_answer_date, 1, 7), coalesce(review_outcome, '_not_stated'), count(*)
FROM cases WHERE second_answer_date >= :first AND second_answer_date < :end GROUP BY 1, 2""",
    "ledger_new": """
SELECT substr(c.received_date, 1, 7), t.tag, count(*)
FROM case_tags t JOIN cases c ON c.id = t.case_id
WHERE c.received_date >= :first AND c.received_date < :end GROUP BY 1, 2""",
}
# Stocks: (category, start month, end month or NULL while still open). An end before the start
# (a data error) counts as ending at the start, so a case is never open for negative time.
_STOCKS = {
    "caseload": """
SELECT 'in_progress', substr(st, 1, 7), substr(max(concluded_date, st), 1, 7), count(*)
FROM (SELECT coalesce(accepted_date, CASE WHEN route = 'forward'
                      THEN coalesce(registered_date, received_date) END) AS st, concluded_date
      FROM cases WHERE state != 'not_accepted')
WHERE st IS NOT NULL GROUP BY 1, 2, 3""",
    "ledger_open": """
SELECT t.tag, substr(c.received_date, 1, 7), substr(max(t.cleared_date, c.received_date), 1, 7),
       count(*)
FROM case_tags t JOIN cases c ON c.id = t.case_id GROUP BY 1, 2, 3""",
}
_DAYS = """
SELECT substr(concluded_date, 1, 7),
       max(0, CAST(julianday(concluded_date) - julianday(received_date) AS INTEGER)), count(*)
FROM cases WHERE concluded_date >= :first AND concluded_date < :end GROUP BY 1, 2
"""


def count_months(
    db: sqlite_utils.Database, taxonomy: Taxonomy, months: Iterable[Month]
) -> dict[Month, RawMonth]:
    """The raw counts of every table for each of ``months``."""
    wanted = sorted(set(months))
    result = {m: RawMonth() for m in wanted}
    if not wanted:
        return result
    span = {
        "first": first_day(wanted[0]).isoformat(),
        "end": first_day(next_month(wanted[-1])).isoformat(),
    }
    classify = _Classifier(taxonomy)
    hint = "" if len(months_between(wanted[0], wanted[-1])) <= _INDEXED_MONTHS else "NOT INDEXED"
    sql = _RECEIVED.format(columns=", ".join(_RECEIVED_COLUMNS.values()), hint=hint)
    by_column: dict[tuple[str, int, int, str | None], int] = defaultdict(int)
    for (month, registered, *codes), n in Counter(db.execute(sql, span)).items():
        for column, code in enumerate(codes):
            by_column[month, registered, column, code] += n
    tables = list(_RECEIVED_COLUMNS)  # categories are mapped once per distinct code, not per case
    for (month, registered, column, code), n in by_column.items():
        if month in result:
            table = tables[column]
            result[month].add(table, classify.category(table, registered, code), n)
    for table, sql in _FLOWS.items():
        for month, code, n in db.execute(sql, span):
            if month in result:
                result[month].add(table, code, n)
    for table, sql in _STOCKS.items():
        _stock(db.execute(sql).fetchall(), table, result)
    for month, days, n in db.execute(_DAYS, span):
        if month in result:
            result[month].days_to_conclusion[int(days)] += n
    return result


def _stock(
    rows: list[tuple[str, str, str | None, int]], table: str, out: dict[Month, RawMonth]
) -> None:
    """Open at the end of each month = started by then minus ended by then."""
    for month, raw in out.items():
        open_by_code: dict[str, int] = defaultdict(int)
        for code, start, end, n in rows:
            if start <= month and (end is None or end > month):
                open_by_code[code] += n
        for code, n in open_by_code.items():
            raw.add(table, code, n)
