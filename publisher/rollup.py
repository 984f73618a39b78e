"""Figures rolled up (汇总): each child office's published month beside the upper office's own,
and the sum across the children, with nothing suppressed in a child's release recoverable.

Inputs are what the children published (``data/releases/YYYY-MM.json``, verified by
:mod:`publisher.children`): every value of a child is either published or suppressed (``None``).
The roll-up publishes, for each table and category, the sum over the children, and for each
table with a total, the sum of the children's totals. A sum is suppressed as soon as one of its
terms is suppressed in a child's release.

Why that is enough (the property test checks it with an independent solver): a reader knows
each child's equations (its tables add up to their totals, tables of one group share the total,
linked rows are equal), which involve that child's values only, and one equation per published
or suppressed sum, ``sum = Σ child values``. A sum with every term published tells nothing new.
A suppressed sum is an unknown that appears in that one equation only, so no combination of
equations that eliminates it uses that equation at all: what can be worked out about the
children's suppressed values is exactly what each child's own release gives away, which is
nothing when the child protected its release (``audit_child`` checks that, and a child whose
release gives a suppressed value away is refused). The sums of totals are the same: each is
either a sum of published totals or an unknown in its own equation. So no secondary suppression
beyond the suppressed sums is needed; none is applied, because every extra hidden sum would only
hide a figure anyone can add up from the children's pages.

The region table is not summed: each office publishes its own area's regions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .measures import MEASURES_TABLE
from .statistics import Equation, Var, reader_equations
from .suppression import disclosed
from .tables import TOTAL, TableSpec

NOT_SUMMED = frozenset({"region"})  # each office's own area: categories differ between offices

Values = dict[str, dict[str, Any]]
"""One office's month: table -> category -> count (None = suppressed); ``_total`` when given;
the measures table's rates are floats."""


def month_values(records: Sequence[Mapping[str, Any]], month: str) -> Values:
    """A release file's records of ``month`` as table -> category -> value."""
    out: Values = {}
    for record in records:
        if record.get("month") != month:
            continue
        value = record.get("value")
        if value is not None and (not isinstance(value, int | float) or isinstance(value, bool)):
            raise ValueError(f"{record.get('table')}/{record.get('category')}: not a number")
        out.setdefault(str(record["table"]), {})[str(record["category"])] = value
    return out


def stored_values(tables: Mapping[str, Mapping[str, Any]]) -> Values:
    """The upper office's own stored release of a month (``StoredTable.data`` by table)."""
    out: Values = {}
    for name, data in tables.items():
        if name == MEASURES_TABLE:
            out[name] = dict(data.get("values", {}))
            continue
        rows: dict[str, int | None] = {str(c): v for c, v in data.get("rows", [])}
        if "total" in data:
            rows[TOTAL] = data["total"]
        out[name] = rows
    return out


def comparable(values: Values, spec: TableSpec) -> bool:
    """Whether a child's table has exactly the categories of the upper office's table."""
    table = values.get(spec.name)
    if table is None:
        return False
    codes = set(table) - {TOTAL}
    return codes == set(spec.codes())


def audit_child(values: Values, specs: Sequence[TableSpec]) -> list[Var]:
    """Suppressed values of a child's month that its own published figures give away (empty for
    a release the publisher protected). Tables whose categories differ are left out."""
    kept = [s for s in specs if comparable(values, s)]
    hidden: list[Var] = []
    for spec in kept:
        table = values[spec.name]
        hidden += [(spec.name, c) for c in spec.codes() if table.get(c) is None]
        if spec.group is not None and table.get(TOTAL, 0) is None:
            hidden.append(("#" + spec.group.name, TOTAL))
    return disclosed(reader_equations(kept), sorted(set(hidden)))


@dataclass
class RolledTable:
    """One table: the upper office's own column, each child's, and the sum across children."""

    spec: TableSpec
    own: dict[str, int | None]
    children: dict[str, dict[str, int | None]]  # office id -> category -> value
    left_out: list[str]  # children whose table has other categories
    sums: dict[str, int | None] = field(default_factory=dict)

    @property
    def has_total(self) -> bool:
        return self.spec.group is not None


def roll_table(spec: TableSpec, own: Values, children: Mapping[str, Values]) -> RolledTable:
    """Sum one table over the children whose table is comparable; a sum with a suppressed term
    is suppressed (see the module docstring)."""
    codes = [*spec.codes(), *([TOTAL] if spec.group is not None else [])]
    taken = {cid: v[spec.name] for cid, v in children.items() if comparable(v, spec)}
    left_out = sorted(set(children) - set(taken))
    table = RolledTable(spec, dict(own.get(spec.name, {})), taken, left_out)
    for code in codes:
        terms = [values.get(code) for values in taken.values()]
        if not taken or any(t is None for t in terms):
            table.sums[code] = None
        else:
            table.sums[code] = sum(int(t) for t in terms if t is not None)
    return table


def roll_up(
    specs: Sequence[TableSpec], own: Values, children: Mapping[str, Values]
) -> list[RolledTable]:
    """Every summed table of a month (all but :data:`NOT_SUMMED`)."""
    return [roll_table(s, own, children) for s in specs if s.name not in NOT_SUMMED]


def rollup_equations(tables: Sequence[RolledTable]) -> list[Equation]:
    """What the roll-up adds for a reader: ``sum - Σ child values = 0`` per published entry,
    over variables ``(office id, table, category)`` and ``("Σ", table, category)``. Exposed for
    the tests' independent check."""
    out: list[Equation] = []
    for table in tables:
        for code in table.sums:
            eq: Equation = [(("Σ", f"{table.spec.name}/{code}"), 1)]
            eq += [((cid, f"{table.spec.name}/{code}"), -1) for cid in table.children]
            out.append(eq)
    return out
