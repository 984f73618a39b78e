"""Suppression rules, checked with methods written here and independent of the module.

* Exact recomputation: rank test over the rationals. A suppressed value can be recomputed iff adding
  its unit vector to the equations (restricted to the unknowns) does not raise the rank.
* Range protection: a small backtracking search for a whole non-negative integer table that agrees
  with every published figure and gives the cell a chosen value.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction
from itertools import pairwise

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from publisher.errors import SuppressionInputError
from publisher.suppression import (
    Cell,
    SuppressedTable,
    SuppressionRules,
    disclosed,
    suppress_list,
    suppress_stacked,
    suppress_table,
)

Var = tuple[object, ...]
Equation = dict[Var, int]

SMALL = st.sampled_from([0, 0, 1, 1, 2, 3, 4, 5, 7, 9, 10, 11, 12, 15, 20, 40])
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def tables(max_rows: int = 4, max_cols: int = 5) -> st.SearchStrategy[list[list[int]]]:
    return st.integers(1, max_rows).flatmap(
        lambda r: st.integers(1, max_cols).flatmap(
            lambda c: st.lists(st.lists(SMALL, min_size=c, max_size=c), min_size=r, max_size=r)
        )
    )


@st.composite
def stacked_pairs(draw: st.DrawFn) -> list[list[list[int]]]:
    """Two tables with the same column sums: each column of the first is split over new rows."""
    first = draw(tables(3, 4))
    rows = draw(st.integers(1, 3))
    second = [[0] * len(first[0]) for _ in range(rows)]
    for j, total in enumerate(sum(col) for col in zip(*first, strict=True)):
        cuts = sorted(draw(st.lists(st.integers(0, total), min_size=rows - 1, max_size=rows - 1)))
        for i, (lo, hi) in enumerate(pairwise([0, *cuts, total])):
            second[i][j] = hi - lo
    return [first, second]


# --- the independent model ------------------------------------------------------------------------


def table_system(
    tables_: Sequence[Sequence[Sequence[int]]],
) -> tuple[dict[Var, int], list[Equation]]:
    """True values and additivity equations (sum == 0) for stacked tables sharing column totals."""
    values: dict[Var, int] = {}
    equations: list[Equation] = []
    ncols = len(tables_[0][0])
    for b, table in enumerate(tables_):
        for i, row in enumerate(table):
            for j, v in enumerate(row):
                values["cell", b, i, j] = v
            values["row", b, i] = sum(row)
            equations.append({**{("cell", b, i, j): 1 for j in range(ncols)}, ("row", b, i): -1})
        for j in range(ncols):
            equations.append({**{("cell", b, i, j): 1 for i in range(len(table))}, ("col", j): -1})
        equations.append({**{("row", b, i): 1 for i in range(len(table))}, ("grand",): -1})
    for j, col in enumerate(zip(*tables_[0], strict=True)):
        values["col", j] = sum(col)
    values["grand",] = sum(values["col", j] for j in range(ncols))
    equations.append({**{("col", j): 1 for j in range(ncols)}, ("grand",): -1})
    return values, equations


def published(results: Sequence[SuppressedTable]) -> dict[Var, Cell]:
    out: dict[Var, Cell] = {}
    for b, res in enumerate(results):
        for i, row in enumerate(res.cells):
            for j, cell in enumerate(row):
                out["cell", b, i, j] = cell
            out["row", b, i] = res.row_totals[i]
        for j, cell in enumerate(res.column_totals):
            out["col", j] = cell
        out["grand",] = res.grand_total
    return out


def rank(rows: list[list[Fraction]]) -> int:
    rows = [list(r) for r in rows]
    r = 0
    for c in range(len(rows[0]) if rows else 0):
        p = next((k for k in range(r, len(rows)) if rows[k][c] != 0), None)
        if p is None:
            continue
        rows[r], rows[p] = rows[p], rows[r]
        for k in range(r + 1, len(rows)):
            f = rows[k][c] / rows[r][c]
            rows[k] = [a - f * b for a, b in zip(rows[k], rows[r], strict=True)]
        r += 1
    return r


def recoverable(equations: list[Equation], unknown: list[Var]) -> list[Var]:
    """Unknowns fixed by the equations: e_v in the row space iff appending it keeps the rank."""
    matrix = [[Fraction(eq.get(v, 0)) for v in unknown] for eq in equations]
    base = rank(matrix)
    found = []
    for n, v in enumerate(unknown):
        unit = [Fraction(int(k == n)) for k in range(len(unknown))]
        if rank([*matrix, unit]) == base:
            found.append(v)
    return found


def feasible(
    equations: list[Equation], known: dict[Var, int], unknown: list[Var], truth: dict[Var, int]
) -> Callable[[Var, int], bool]:
    """Is there a non-negative integer completion with ``var == value``?

    Depth-first search over bounds: every variable has an interval, each equation (coefficients
    ±1, sum zero) narrows each of its variables to what the others' intervals allow, and the search
    branches on the narrowest undecided variable only when nothing narrows any more.
    """
    cap = max(truth.values()) * 2 + 20
    budget = [200_000]

    def narrow(bounds: dict[Var, tuple[int, int]]) -> bool:
        changed = True
        while changed:
            changed = False
            for eq in equations:
                low = sum(c * bounds[v][0 if c > 0 else 1] for v, c in eq.items())
                high = sum(c * bounds[v][1 if c > 0 else 0] for v, c in eq.items())
                if not low <= 0 <= high:
                    return False
                for v, c in eq.items():
                    lo, hi = bounds[v]
                    # c·x_v = -(rest); rest lies in [low - c·lo_or_hi, high - ...]
                    own_low = c * (lo if c > 0 else hi)
                    own_high = c * (hi if c > 0 else lo)
                    rest_low, rest_high = low - own_low, high - own_high
                    new_lo, new_hi = (-rest_high, -rest_low) if c > 0 else (rest_low, rest_high)
                    new_lo, new_hi = max(lo, new_lo), min(hi, new_hi)
                    if new_lo > new_hi:
                        return False
                    if (new_lo, new_hi) != (lo, hi):
                        bounds[v] = (new_lo, new_hi)
                        changed = True
                        low = sum(c2 * bounds[u][0 if c2 > 0 else 1] for u, c2 in eq.items())
                        high = sum(c2 * bounds[u][1 if c2 > 0 else 0] for u, c2 in eq.items())
        return True

    def search(bounds: dict[Var, tuple[int, int]]) -> bool:
        budget[0] -= 1
        assert budget[0] > 0, "search budget exceeded"
        bounds = dict(bounds)
        if not narrow(bounds):
            return False
        open_ = [v for v, (lo, hi) in bounds.items() if lo < hi]
        if not open_:
            return True
        v = min(open_, key=lambda u: (bounds[u][1] - bounds[u][0], repr(u)))
        lo, hi = bounds[v]
        order = sorted(range(lo, hi + 1), key=lambda x: (abs(x - truth[v]), x))
        return any(search({**bounds, v: (x, x)}) for x in order)

    def can_be(var: Var, value: int) -> bool:
        bounds = {v: (0, cap) for v in unknown}
        bounds.update({v: (x, x) for v, x in known.items()})
        bounds[var] = (value, value)
        return search(bounds)

    return can_be


def check(
    tables_: list[list[list[int]]], results: Sequence[SuppressedTable], rules: SuppressionRules
) -> None:
    values, equations = table_system(tables_)
    cells = published(results)
    assert cells.keys() == values.keys()
    for var, cell in cells.items():
        small = values[var] < rules.threshold and (values[var] > 0 or rules.suppress_zeros)
        if cell.value is None:
            assert cell.status == ("primary" if small else "secondary"), var
        else:
            assert cell.status == "published" and cell.value == values[var], var
            assert not small, f"{var} = {cell.value} published below the threshold"
    unknown = [v for v, c in cells.items() if c.value is None]
    assert recoverable(equations, unknown) == [], "a suppressed value can be recomputed"


# --- properties ---------------------------------------------------------------------------------


@FAST
@given(tables(), st.sampled_from(["range", "exact"]), st.booleans(), st.sampled_from([3, 5, 10]))
def test_single_table_is_safe(
    table: list[list[int]], protection: str, zeros: bool, threshold: int
) -> None:
    rules = SuppressionRules(threshold, zeros, protection)  # type: ignore[arg-type]
    result = suppress_table(table, rules)
    check([table], [result], rules)
    assert suppress_table(table, rules) == result  # deterministic


@FAST
@given(stacked_pairs(), st.sampled_from(["range", "exact"]))
def test_stacked_tables_are_safe_together(pair: list[list[list[int]]], protection: str) -> None:
    rules = SuppressionRules(protection=protection)  # type: ignore[arg-type]
    results = suppress_stacked(pair, rules)
    check(pair, results, rules)
    assert results[0].column_totals == results[1].column_totals
    assert results[0].grand_total == results[1].grand_total


@FAST
@given(st.lists(SMALL, min_size=1, max_size=8), st.booleans())
def test_list_is_safe(counts: list[int], zeros: bool) -> None:
    rules = SuppressionRules(suppress_zeros=zeros)
    result = suppress_list(counts, rules)
    for value, cell in zip([*counts, sum(counts)], [*result.cells, result.total], strict=True):
        small = value < 10 and (value > 0 or zeros)
        assert (cell.value is None) == (cell.status != "published")
        assert cell.value in (None, value) and not (small and cell.value is not None)
    unknown = [n for n, c in enumerate([*result.cells, result.total]) if c.value is None]
    equation: Equation = {**{(n,): 1 for n in range(len(counts))}, (len(counts),): -1}
    assert recoverable([equation], [(n,) for n in unknown]) == []
    assert result.weak_ranges == ()


def position_var(tables_: list[list[list[int]]], b: int, i: int, j: int) -> Var:
    rows, cols = len(tables_[b]), len(tables_[0][0])
    if i == rows:
        return ("grand",) if j == cols else ("col", j)
    return ("row", b, i) if j == cols else ("cell", b, i, j)


def check_ranges(tables_: list[list[list[int]]], results: Sequence[SuppressedTable]) -> None:
    """Every primary value could be the threshold, and 0 (a cell) or one less (a total)."""
    values, equations = table_system(tables_)
    cells = published(results)
    known = {v: c.value for v, c in cells.items() if c.value is not None}
    unknown = [v for v, c in cells.items() if c.value is None]
    can_be = feasible(equations, known, unknown, values)
    weak = {
        position_var(tables_, b, i, j) for b, res in enumerate(results) for i, j in res.weak_ranges
    }
    for var, cell in cells.items():
        if cell.status != "primary" or var in weak:
            continue
        low = 0 if var[0] == "cell" else values[var] - 1
        assert can_be(var, low), f"{var} = {values[var]} cannot be shown to be {low}"
        assert can_be(var, 10), f"{var} = {values[var]} cannot be shown to reach the threshold"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables(3, 3))
def test_range_protection_single_table(table: list[list[int]]) -> None:
    result = suppress_table(table)
    assert result.weak_ranges == ()
    check_ranges([table], [result])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stacked_pairs())
def test_range_protection_stacked_unless_reported_weak(pair: list[list[list[int]]]) -> None:
    check_ranges(pair, suppress_stacked(pair))


@FAST
@given(tables(3, 4), st.data())
def test_module_audit_agrees_with_rank_test(table: list[list[int]], data: st.DataObject) -> None:
    values, equations = table_system([table])
    chosen = data.draw(st.lists(st.sampled_from(sorted(values, key=repr)), unique=True))
    module_eqs = [list(eq.items()) for eq in equations]
    assert sorted(disclosed(module_eqs, chosen), key=repr) == sorted(
        recoverable(equations, chosen), key=repr
    )


# --- examples -----------------------------------------------------------------------------------


def values_of(result: SuppressedTable) -> list[list[int | None]]:
    rows = [
        [c.value for c in row] + [t.value]
        for row, t in zip(result.cells, result.row_totals, strict=True)
    ]
    return [*rows, [c.value for c in result.column_totals] + [result.grand_total.value]]


def test_lone_small_cell_gets_a_rectangle() -> None:
    table = [[12, 3, 15], [20, 25, 40], [30, 11, 18]]
    result = suppress_table(table, SuppressionRules(protection="exact"))
    # The cheapest rectangle: 15 + 11 + 18 = 44 hidden, not 15 + 25 + 40.
    assert values_of(result) == [
        [12, None, None, 30],
        [20, 25, 40, 85],
        [30, None, None, 59],
        [62, 39, 73, 174],
    ]
    assert result.cells[0][1] == Cell(None, "primary")
    assert result.cells[0][2] == Cell(None, "secondary")


def test_zero_is_published_unless_asked() -> None:
    assert suppress_list([0, 25, 30]).cells[0] == Cell(0, "published")
    hidden = suppress_list([0, 25, 30], SuppressionRules(suppress_zeros=True))
    assert hidden.cells[0].status == "primary"


def test_small_total_is_suppressed() -> None:
    result = suppress_table([[2, 3], [20, 30]])
    assert result.row_totals[0].status == "primary"
    assert result.column_totals[0].value == 22


def test_single_small_count_hides_the_total() -> None:
    result = suppress_list([4])
    assert result.cells[0].status == "primary" and result.total.status == "primary"


@pytest.mark.parametrize(
    ("tables_", "message"),
    [
        ([[]], "at least one row and one column"),
        ([[[1, 2], [3]]], "ragged"),
        ([[[1, -2]]], "non-negative"),
        ([[[1, True]]], "non-negative"),
        ([[[1, 2]], [[1, 1]]], "column sums differ"),
        ([[[1, 2]], [[3]]], "must have 2 columns"),
    ],
)
def test_bad_tables_are_refused(tables_: list[list[list[int]]], message: str) -> None:
    with pytest.raises(SuppressionInputError, match=message):
        suppress_stacked(tables_)


def test_bad_rules_are_refused() -> None:
    with pytest.raises(SuppressionInputError):
        SuppressionRules(threshold=0)
    with pytest.raises(SuppressionInputError):
        SuppressionRules(protection="loose")  # type: ignore[arg-type]
