"""Monthly statistics releases: counted, protected, stored once, reused by every later build.

For each closed month not yet released, :func:`ensure_releases` counts the register
(:mod:`publisher.counts`), protects the counts and stores the result (:mod:`publisher.releases`).

Protection without differential privacy:

* Tables of one group share their total and are suppressed together
  (:func:`~publisher.suppression.suppress_stacked`); cells of tables without a total stand alone
  and only the threshold rule applies.
* Then one audit covers the whole month: every group's additivity plus the rows that count the very
  same cases in several tables ("not yet registered"). Whatever a reader could still work out
  exactly gets another suppression next to it, until :func:`~publisher.suppression.disclosed`
  finds nothing. Adding suppressions never makes a hidden value easier to work out, so the range
  protection of the small cells from the first step still holds.

With ``dp_epsilon`` every table's counts get discrete Laplace noise (OpenDP), the month's ε split
evenly over its tables. The threshold rule is then applied to the noisy counts, which costs no
privacy budget; medians are withheld because they are not noisy counts.

Rates come only from published figures, and only when their denominator reaches the threshold;
a median only when its number of cases is itself published and reaches the threshold.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from itertools import pairwise
from typing import Any

import sqlite_utils

from lianxin.domain.outcomes import Outcome
from lianxin.domain.taxonomy import Catalogue, Taxonomy

from .counts import RawMonth, count_months
from .errors import SuppressionInputError
from .measures import MEASURES_TABLE, measures
from .releases import (
    Month,
    StoredTable,
    closed_months,
    load_releases,
    previous_month,
    store_month,
)
from .suppression import SuppressionRules, disclosed, suppress_list, suppress_stacked
from .tables import LINKED_ROWS, TOTAL, TableSpec, table_specs

SCHEMA = 1
Var = tuple[str, str]
"""(table name, category code); a group's shared total is ``("#" + group, TOTAL)``."""
Equation = list[tuple[Var, int]]


def ensure_releases(
    db: sqlite_utils.Database,
    today: date,
    taxonomy: Taxonomy,
    outcomes: Catalogue[Outcome],
    *,
    threshold: int,
    dp_epsilon: float | None = None,
) -> dict[Month, dict[str, StoredTable]]:
    """Release every closed month not released yet; return all stored releases."""
    rules = SuppressionRules(threshold=threshold)
    specs = table_specs(taxonomy, outcomes)
    stored = load_releases(db)
    missing = [m for m in closed_months(db, today) if m not in stored]
    if missing:
        lists = {c.name: c.version for c in (*_catalogues(taxonomy), outcomes)}
        published = {m: {n: t.data for n, t in tables.items()} for m, tables in stored.items()}
        for month, raw in sorted(count_months(db, taxonomy, missing).items()):
            before = published.get(previous_month(month))
            tables = release_month(raw, specs, rules, dp_epsilon, before)
            published[month] = tables
            params = {"schema": SCHEMA, "threshold": threshold, "lists": lists}
            store_month(
                db,
                month,
                today,
                {
                    name: ({**params, "dp": doc.pop("dp", None)}, doc)
                    for name, doc in tables.items()
                },
            )
        stored = load_releases(db)
    return stored


def _catalogues(taxonomy: Taxonomy) -> tuple[Catalogue[Any], ...]:
    return (
        taxonomy.channels,
        taxonomy.item_types,
        taxonomy.problem_types,
        taxonomy.ranks,
        taxonomy.regions,
        taxonomy.tags,
    )


def release_month(
    raw: RawMonth,
    specs: Sequence[TableSpec],
    rules: SuppressionRules,
    dp_epsilon: float | None = None,
    previous: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, dict[str, Any]]:
    """The published form of one month: each table's rows (``None`` = suppressed) and total,
    plus the derived measures under :data:`MEASURES_TABLE`. ``previous`` is the published form
    of the month before, if released: its stocks must not give this month's flows away."""
    if dp_epsilon is None:
        values, hidden = _suppress(raw, specs, rules)
        _stock_differences(values, hidden, previous, specs, rules.threshold)
        totals = {s.name: ("#" + s.group.name, TOTAL) for s in specs if s.group}
        losses: dict[str, dict[str, Any]] = {}
    else:
        values, hidden, losses = _noisy(raw, specs, rules, dp_epsilon)
        totals = {s.name: (s.name, TOTAL) for s in specs if s.group}

    def shown(var: Var) -> int | None:
        return None if var in hidden else values[var]

    out: dict[str, dict[str, Any]] = {}
    for spec in specs:
        doc: dict[str, Any] = {"rows": [[c, shown((spec.name, c))] for c in spec.codes()]}
        if spec.name in totals:
            doc["total"] = shown(totals[spec.name])
        if spec.name in losses:
            doc["dp"] = losses[spec.name]
        out[spec.name] = doc
    out[MEASURES_TABLE] = {"values": measures(out, raw, rules.threshold, dp_epsilon is not None)}
    return out


def _suppress(
    raw: RawMonth, specs: Sequence[TableSpec], rules: SuppressionRules
) -> tuple[dict[Var, int], set[Var]]:
    values = {(s.name, c): raw.value(s.name, c) for s in specs for c in s.codes()}
    hidden: set[Var] = set()
    groups: dict[str, list[TableSpec]] = {}
    for spec in specs:
        if spec.group is None:
            hidden |= {
                (spec.name, c) for c in spec.codes() if rules.is_sensitive(raw.value(spec.name, c))
            }
        else:
            groups.setdefault(spec.group.name, []).append(spec)
    for group, members in groups.items():
        total: Var = ("#" + group, TOTAL)
        values[total] = sum(values[(members[0].name, c)] for c in members[0].codes())
        results = suppress_stacked(
            [[[values[(s.name, c)]] for c in s.codes()] for s in members], rules
        )
        for spec, result in zip(members, results, strict=True):
            for code, cells, row_total in zip(
                spec.codes(), result.cells, result.row_totals, strict=True
            ):
                if cells[0].suppressed or row_total.suppressed:  # duplicates of one value
                    hidden.add((spec.name, code))
            if result.column_totals[0].suppressed or result.grand_total.suppressed:
                hidden.add(total)
    _audit(reader_equations(specs), values, hidden)
    return values, hidden


def _stock_differences(
    values: Mapping[Var, int],
    hidden: set[Var],
    previous: Mapping[str, Mapping[str, Any]] | None,
    specs: Sequence[TableSpec],
    threshold: int,
) -> None:
    """Hide a stock whose change since last month, with this month's published flow, gives away
    a small flow: in progress now - in progress before + concluded = cases started this month;
    open in a ledger now - open before - new = (minus) items cleared this month."""
    if previous is None:
        return
    checks: list[tuple[Var, list[tuple[Var, int]]]] = [
        (("caseload", "in_progress"), [(("caseload", "concluded"), 1)])
    ]
    for spec in specs:
        if spec.name == "ledger_open":
            checks += [((spec.name, c), [(("ledger_new", c), -1)]) for c in spec.codes()]
    for stock, flows in checks:
        before = dict(previous.get(stock[0], {}).get("rows", [])).get(stock[1])
        if stock in hidden or before is None or any(f in hidden for f, _ in flows):
            continue
        derived = values[stock] - before + sum(values[f] * sign for f, sign in flows)
        if 0 < abs(derived) < threshold:
            hidden.add(stock)  # a stock is in no equation of its month: hiding it is enough


def reader_equations(specs: Sequence[TableSpec]) -> list[Equation]:
    """What a reader knows: each grouped table adds up to its group's total, and linked rows
    in different tables are equal."""
    equations: list[Equation] = []
    names = {s.name for s in specs}
    for spec in specs:
        if spec.group is not None:
            total: Var = ("#" + spec.group.name, TOTAL)
            equations.append([*(((spec.name, c), 1) for c in spec.codes()), (total, -1)])
    for code, tables in LINKED_ROWS.items():
        present = [t for t in tables if t in names]
        for a, b in pairwise(present):
            equations.append([((a, code), 1), ((b, code), -1)])
    return equations


def _audit(equations: list[Equation], values: Mapping[Var, int], hidden: set[Var]) -> None:
    """Suppress more until no hidden value can be worked out exactly (see the module doc)."""
    while found := disclosed(equations, sorted(hidden)):
        pool = _candidates(found[0], equations, hidden)
        if not pool:
            raise SuppressionInputError(f"cannot protect {found[0]}: nothing left to suppress")
        # Cheapest first: cells before totals, small non-zero counts before zeros.
        hidden.add(min(pool, key=lambda k: (k[1] == TOTAL, values[k] == 0, values[k], k)))


def _candidates(target: Var, equations: list[Equation], hidden: set[Var]) -> set[Var]:
    """Published entries whose suppression can stop ``target`` being worked out.

    First those in an equation where the target is the only hidden entry (it gives the target
    away directly), then those in any equation with the target, then in any equation linked to
    it through hidden entries (the target follows from several equations together)."""
    touching = [eq for eq in equations if any(k == target for k, _ in eq)]
    direct = [eq for eq in touching if all(k == target or k not in hidden for k, _ in eq)]
    for pool in (direct, touching):
        found = {k for eq in pool for k, _ in eq if k not in hidden}
        if found:
            return found
    linked, reached, frontier = [], {target}, [target]
    while frontier:
        var = frontier.pop()
        for eq in equations:
            if eq not in linked and any(k == var for k, _ in eq):
                linked.append(eq)
                fresh = {k for k, _ in eq if k in hidden} - reached
                reached |= fresh
                frontier += sorted(fresh)
    return {k for eq in linked for k, _ in eq if k not in hidden}


def _noisy(
    raw: RawMonth, specs: Sequence[TableSpec], rules: SuppressionRules, epsilon: float
) -> tuple[dict[Var, int], set[Var], dict[str, dict[str, Any]]]:
    from .dp import noisy_counts  # OpenDP only when asked for

    share = epsilon / len(specs)
    values: dict[Var, int] = {}
    hidden: set[Var] = set()
    losses: dict[str, dict[str, Any]] = {}
    for spec in specs:
        noisy = noisy_counts([raw.value(spec.name, c) for c in spec.codes()], share)
        loss = noisy.loss
        losses[spec.name] = {
            "epsilon": loss.epsilon,
            "scale": loss.scale,
            "mechanism": loss.mechanism,
            "library": loss.library,
        }
        values.update({(spec.name, c): v for c, v in zip(spec.codes(), noisy.values, strict=True)})
        if spec.group is None:
            hidden |= {
                (spec.name, c)
                for c, v in zip(spec.codes(), noisy.values, strict=True)
                if rules.is_sensitive(v)
            }
            continue
        # Post-processing of noisy output: each table alone, with its own noisy total.
        values[(spec.name, TOTAL)] = noisy.total
        result = suppress_list(noisy.values, rules)
        hidden |= {
            (spec.name, c)
            for c, cell in zip(spec.codes(), result.cells, strict=True)
            if cell.suppressed
        }
        if result.total.suppressed:
            hidden.add((spec.name, TOTAL))
    return values, hidden, losses
