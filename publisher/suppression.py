"""Small-count suppression for count tables published with their totals.

A table is published with every row total, every column total and the grand total. Cells and
totals with ``1 <= value < threshold`` are *primary* suppressions. *Secondary* suppressions are then
added so that nothing suppressed can be worked out from what is published:

* **Exact protection (always).** For every suppressed value, the published cells and totals leave it
  undetermined: its unit vector is not in the row space of the additivity equations restricted to
  the suppressed entries. :func:`disclosed` checks this with exact rational arithmetic, and the
  suppression loop does not stop until it finds nothing.
* **Range protection (``protection="range"``, the default).** Non-negativity also bounds suppressed
  values, so a pattern can be "exact-safe" and still pin a count of 3 to ``{2, 3}``. In range mode
  every primary value ``x`` lies on a suppressed cycle along which it can move, with everything
  published unchanged and every entry non-negative, up to at least ``threshold`` and down to ``0``
  (a cell) or to ``x - 1`` (a total). So a reader can prove neither "nobody" nor "somebody" about a
  suppressed cell, nor that it is small. For a single table this always holds. For stacked tables
  it can fail when a shared total's other tables have no single row big enough. Those values are
  listed in ``weak_ranges`` and keep only exact protection.

What this does not cover: tables published elsewhere that share cells or totals with these and were
suppressed on their own (suppress them together with :func:`suppress_stacked`, or publish each
margin once); differencing between releases (store each release and reuse it); inference from the
suppression pattern itself; and publishing the ``primary``/``secondary`` status, which says which
cells are small. Show every suppressed entry the same way.

Zeros are published by default. A zero describes no person, and the threshold rule is about small
groups of people (CMS: "a value of zero does not violate the minimum cell size policy"). A zero
can still tell a reader that everyone in a row falls in one column. Set ``suppress_zeros=True``
where that matters.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal, TypeVar

from publisher.errors import SuppressionInputError

Status = Literal["published", "primary", "secondary"]
Protection = Literal["range", "exact"]
Position = tuple[int, int]
"""(row, column) in a table extended by its totals: ``row == n_rows`` is the column-totals row,
``column == n_columns`` is the row-totals column; ``(n_rows, n_columns)`` is the grand total."""

# Internal variable key: (block, row, column). The totals row is shared by every stacked table and
# is keyed (_TOT, _TOT, column); ``column == n_columns`` is the row-total column.
_Key = tuple[int, int, int]
_TOT = -1
_K = TypeVar("_K", bound=Hashable)


@dataclass(frozen=True, slots=True)
class Cell:
    """One published entry: its value, or ``None`` when suppressed, and why."""

    value: int | None
    status: Status

    @property
    def suppressed(self) -> bool:
        """True for primary and secondary suppressions."""
        return self.value is None


@dataclass(frozen=True, slots=True)
class SuppressionRules:
    """Settings of the threshold rule.

    ``threshold``: values ``1 <= v < threshold`` are primary suppressions.
    ``suppress_zeros``: also treat 0 as sensitive.
    ``protection``: ``"range"`` (exact plus range protection) or ``"exact"`` (exact only).
    """

    threshold: int = 10
    suppress_zeros: bool = False
    protection: Protection = "range"

    def __post_init__(self) -> None:
        if isinstance(self.threshold, bool) or not isinstance(self.threshold, int):
            raise SuppressionInputError("threshold must be an integer")
        if self.threshold < 1:
            raise SuppressionInputError("threshold must be at least 1")
        if self.protection not in ("range", "exact"):
            raise SuppressionInputError("protection must be 'range' or 'exact'")

    def is_sensitive(self, value: int) -> bool:
        """Whether a value must be suppressed by the threshold rule itself."""
        return value < self.threshold and (value > 0 or self.suppress_zeros)


@dataclass(frozen=True, slots=True)
class SuppressedTable:
    """A 2-D table after suppression. ``weak_ranges`` lists primary positions that have only exact
    protection (see the module docstring). It is audit information, not for publication."""

    cells: tuple[tuple[Cell, ...], ...]
    row_totals: tuple[Cell, ...]
    column_totals: tuple[Cell, ...]
    grand_total: Cell
    weak_ranges: tuple[Position, ...] = ()


@dataclass(frozen=True, slots=True)
class SuppressedList:
    """A 1-D table (counts by one category) with its total, after suppression."""

    cells: tuple[Cell, ...]
    total: Cell
    weak_ranges: tuple[int, ...] = ()


DEFAULT_RULES = SuppressionRules()


def suppress_table(
    cells: Sequence[Sequence[int]], rules: SuppressionRules = DEFAULT_RULES
) -> SuppressedTable:
    """Suppress a rows × columns count table published with row, column and grand totals.

    Totals are computed from ``cells`` so they always add up; a published total that is not the sum
    of the published categories (a hidden "other") would break the protection model, so add such
    cases as their own row or column instead.
    """
    return suppress_stacked([cells], rules)[0]


def suppress_list(counts: Sequence[int], rules: SuppressionRules = DEFAULT_RULES) -> SuppressedList:
    """Suppress a 1-D table (a list of counts) published with its total.

    ``weak_ranges`` holds category indexes, and ``len(counts)`` for the total.
    """
    # An n×1 table: its row totals repeat the cells and its column total is the list total. Every
    # cycle in it uses both columns, so each duplicate gets the same status as its original.
    table = suppress_table([[count] for count in _as_counts(counts, "counts")], rules)
    return SuppressedList(
        cells=tuple(row[0] for row in table.cells),
        total=table.column_totals[0],
        weak_ranges=tuple(sorted({row for row, _ in table.weak_ranges})),
    )


def suppress_stacked(
    tables: Sequence[Sequence[Sequence[int]]], rules: SuppressionRules = DEFAULT_RULES
) -> tuple[SuppressedTable, ...]:
    """Suppress several tables that share their columns, column totals and grand total.

    Example: problem type × month and channel × month, both published with the monthly totals.
    Suppressing each alone is unsafe: a month total hidden in one table and published in the other
    gives the hidden cells away. Here the shared totals get one status and the check covers every
    table at once.
    """
    grid = _Grid([_as_table(t, f"tables[{b}]") for b, t in enumerate(tables)])
    status: dict[_Key, Status] = {}
    primaries = [key for key in grid.variables() if rules.is_sensitive(grid.value(key))]
    for key in primaries:
        status[key] = "primary"
    weak: set[_Key] = set()
    for key in primaries:
        need_up, need_down = _needs(grid, key, rules)
        shortfall, corners = grid.best_cycle(key, status, need_up, need_down)
        _mark(status, corners)
        if shortfall:
            weak.add(key)
    # The cycles above already make every suppressed entry undetermined; this loop is the
    # independent exact check, and adds a cheapest cycle for anything it still finds.
    while found := disclosed(grid.equations(), status.keys()):
        for key in found:
            _mark(status, grid.best_cycle(key, status, 0, 0)[1])
    return tuple(grid.result(b, status, weak) for b in range(len(grid.blocks)))


def disclosed(equations: Iterable[Sequence[tuple[_K, int]]], suppressed: Iterable[_K]) -> list[_K]:
    """Suppressed variables that the equations determine exactly, given all the other values.

    Each equation is ``sum(coefficient * variable) == 0`` over published and suppressed variables.
    Only the suppressed columns matter: a variable is determined iff its unit vector lies in the
    row space of the system restricted to them. After reduction to reduced row echelon form, that
    means some row has a single non-zero entry. The result follows the order of ``suppressed``.
    """
    columns = list(dict.fromkeys(suppressed))
    index = {key: n for n, key in enumerate(columns)}
    rows: list[list[Fraction]] = []
    for equation in equations:
        row = [Fraction(0)] * len(columns)
        for key, coefficient in equation:
            if key in index:
                row[index[key]] += coefficient
        if any(row):
            rows.append(row)
    rank = 0
    for col in range(len(columns)):
        pivot = next((r for r in range(rank, len(rows)) if rows[r][col]), None)
        if pivot is None:
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        lead = rows[rank][col]
        rows[rank] = [v / lead for v in rows[rank]]
        for r, row in enumerate(rows):
            if r != rank and row[col]:
                factor = row[col]
                rows[r] = [a - factor * b for a, b in zip(row, rows[rank], strict=True)]
        rank += 1
    found = {
        nonzero[0]
        for row in rows[:rank]
        if len(nonzero := [n for n, v in enumerate(row) if v]) == 1
    }
    return [columns[n] for n in sorted(found)]


def _mark(status: dict[_Key, Status], corners: Iterable[_Key]) -> None:
    for key in corners:
        status.setdefault(key, "secondary")


def _needs(grid: _Grid, key: _Key, rules: SuppressionRules) -> tuple[int, int]:
    """How far a primary value must be able to move up and down (range mode)."""
    if rules.protection == "exact":
        return 0, 0
    value = grid.value(key)
    is_cell = key[1] != _TOT and key[2] != grid.ncols
    return max(0, rules.threshold - value), value if is_cell else min(value, 1)


def _as_counts(values: Sequence[int], name: str) -> list[int]:
    counts = list(values)
    for n, value in enumerate(counts):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise SuppressionInputError(f"{name}[{n}] must be a non-negative integer")
    return counts


def _as_table(rows: Sequence[Sequence[int]], name: str) -> list[list[int]]:
    table = [_as_counts(row, f"{name}[{i}]") for i, row in enumerate(rows)]
    if not table or not table[0]:
        raise SuppressionInputError(f"{name} must have at least one row and one column")
    if any(len(row) != len(table[0]) for row in table):
        raise SuppressionInputError(f"{name} is ragged: every row needs the same number of columns")
    return table


_Score = tuple[int, int, int]
"""(range shortfall, cost = sum of newly suppressed values, number of new suppressions)."""


class _Grid:
    """Stacked tables extended by their totals, the additivity equations, and cycle search.

    With every total's sign flipped (``_sign``), each row and column of the extended grid sums to
    zero, so a rectangle with alternating signs is a direction in which the suppressed entries can
    move while every published figure stays the same. Through the shared totals row such a
    rectangle must continue through one row of every stacked table, so a cycle uses two columns.
    """

    def __init__(self, blocks: list[list[list[int]]]) -> None:
        self.blocks = blocks
        self.ncols = len(blocks[0][0])
        column_sums = [sum(col) for col in zip(*blocks[0], strict=True)]
        for b, block in enumerate(blocks):
            if len(block[0]) != self.ncols:
                raise SuppressionInputError(f"tables[{b}] must have {self.ncols} columns")
            if [sum(col) for col in zip(*block, strict=True)] != column_sums:
                raise SuppressionInputError(
                    f"tables[{b}] column sums differ from tables[0]: stacked tables share their "
                    "column totals, so they must count the same cases"
                )
        self._values: dict[_Key, int] = {}
        for b, block in enumerate(blocks):
            for i, row in enumerate(block):
                for j, value in enumerate(row):
                    self._values[b, i, j] = value
                self._values[b, i, self.ncols] = sum(row)
        for j, value in enumerate(column_sums):
            self._values[_TOT, _TOT, j] = value
        self._values[_TOT, _TOT, self.ncols] = sum(column_sums)

    def variables(self) -> list[_Key]:
        """Every variable: block cells and row totals row by row, then the shared totals row."""
        return list(self._values)

    def value(self, key: _Key) -> int:
        return self._values[key]

    def _sign(self, key: _Key) -> int:
        return -1 if (key[1] == _TOT) != (key[2] == self.ncols) else 1

    def equations(self) -> list[list[tuple[_Key, int]]]:
        """Each row adds up to its row total, each column to its column total, in every block."""
        nc = self.ncols
        result = [
            [*(((_TOT, _TOT, j), 1) for j in range(nc)), ((_TOT, _TOT, nc), -1)],
        ]
        for b, block in enumerate(self.blocks):
            for i in range(len(block)):
                result.append([*(((b, i, j), 1) for j in range(nc)), ((b, i, nc), -1)])
            for j in range(nc + 1):
                result.append([*(((b, i, j), 1) for i in range(len(block))), ((_TOT, _TOT, j), -1)])
        return result

    def best_cycle(
        self, target: _Key, status: dict[_Key, Status], need_up: int, need_down: int
    ) -> tuple[int, list[_Key]]:
        """The cheapest cycle through ``target``, preferring ones that meet the range needs.

        Returns the cycle's range shortfall (0 when the needs are met) and its entries. Ties go to
        the first cycle found, so the choice is deterministic.
        """
        b0, i0, j0 = target
        candidates: list[tuple[_Score, list[_Key]]] = []
        if i0 != _TOT:  # rectangles inside the target's own table (row totals included)
            for k in range(len(self.blocks[b0])):
                for col in range(self.ncols + 1):
                    if k != i0 and col != j0:
                        corners = {target: 1, (b0, i0, col): -1, (b0, k, j0): -1, (b0, k, col): 1}
                        candidates.append(self._score(target, corners, status, need_up, need_down))
        # Through the shared totals row: columns j0 and col, and one row in every table (the
        # target's own row if it is a cell), chosen per table because the scores add up.
        a = 1 if i0 == _TOT else -1  # so that the target's sign is +1
        for col in range(self.ncols + 1):
            if col == j0:
                continue
            corners = {(_TOT, _TOT, j0): a, (_TOT, _TOT, col): -a}
            for b, block in enumerate(self.blocks):
                rows = [i0] if b == b0 and i0 != _TOT else range(len(block))
                pairs: list[dict[_Key, int]] = [{(b, r, j0): -a, (b, r, col): a} for r in rows]
                scored = [
                    (self._score(target, p, status, need_up, need_down)[0], n)
                    for n, p in enumerate(pairs)
                ]
                corners |= pairs[min(scored)[1]]
            candidates.append(self._score(target, corners, status, need_up, need_down))
        (shortfall, _, _), best = min(candidates, key=lambda c: c[0])
        return shortfall, best

    def _score(
        self,
        target: _Key,
        corners: dict[_Key, int],
        status: dict[_Key, Status],
        need_up: int,
        need_down: int,
    ) -> tuple[_Score, list[_Key]]:
        """Score (part of) a cycle given as {entry: sign, with every total's sign flipped}.

        Cycles are built so that the target's sign is +1. Moving the target up by t then moves each
        entry by t * sign * _sign(entry) * _sign(target): entries that go down must have at least
        ``need_up`` to give, the others at least ``need_down``.
        """
        norm = self._sign(target)
        short = cost = new = 0
        for key, y_sign in corners.items():
            value = self._values[key]
            need = need_up if y_sign * self._sign(key) * norm < 0 else need_down
            short += max(0, need - value)
            if key not in status:
                cost, new = cost + value, new + 1
        return (short, cost, new), list(corners)

    def result(self, b: int, status: dict[_Key, Status], weak: set[_Key]) -> SuppressedTable:
        """The published form of table ``b``."""
        nc, nr = self.ncols, len(self.blocks[b])

        def cell(key: _Key) -> Cell:
            state = status.get(key, "published")
            return Cell(None if state != "published" else self._values[key], state)

        return SuppressedTable(
            cells=tuple(tuple(cell((b, i, j)) for j in range(nc)) for i in range(nr)),
            row_totals=tuple(cell((b, i, nc)) for i in range(nr)),
            column_totals=tuple(cell((_TOT, _TOT, j)) for j in range(nc)),
            grand_total=cell((_TOT, _TOT, nc)),
            weak_ranges=tuple(
                sorted((nr if i == _TOT else i, j) for kb, i, j in weak if kb in (b, _TOT))
            ),
        )
