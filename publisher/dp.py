"""Optional differential privacy for published counts, through OpenDP.

Noise: OpenDP's ``make_laplace`` on a vector of integer counts samples the *discrete* Laplace
distribution exactly. A floating-point Laplace sampler can be attacked through its low bits
(Mironov 2012), so the noise is never drawn here by hand. OpenDP draws from the operating
system's CSPRNG and takes no seed, so runs cannot be repeated and the tests check statistical
properties instead.

Privacy unit: one case adds 1 to exactly one cell of a table, so a table of counts has L1
sensitivity 1 per case, and ``contributions`` per person when one person may file up to that many
cases. One ε then covers the whole table, not each cell.

Everything after the noise is post-processing and costs no budget: clamping at 0, and totals
computed from the clamped noisy cells so that the published table adds up. Clamping biases small
cells and their totals upward, by at most the clamped amounts. Re-drawing noise for a period that
has already been published lets readers average the noise away. Store every release and reuse it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from importlib.metadata import version
from typing import Any

import opendp.prelude as dp

from publisher.errors import PrivacyBudgetExceededError, PrivacyParameterError

MECHANISM = "discrete Laplace (OpenDP make_laplace, integer counts, pure ε-DP)"


@dataclass(frozen=True, slots=True)
class PrivacyLoss:
    """The privacy cost of one noisy release, as certified by OpenDP (publish it with the data)."""

    epsilon: float
    scale: float
    contributions: int
    mechanism: str
    library: str


@dataclass(frozen=True, slots=True)
class NoisyCounts:
    """A 1-D table with noise: non-negative counts and their total (the sum of the counts)."""

    values: tuple[int, ...]
    total: int
    loss: PrivacyLoss


@dataclass(frozen=True, slots=True)
class NoisyTable:
    """A 2-D table with noise on its cells; every total is the sum of the published cells."""

    cells: tuple[tuple[int, ...], ...]
    row_totals: tuple[int, ...]
    column_totals: tuple[int, ...]
    grand_total: int
    loss: PrivacyLoss


@dataclass(frozen=True, slots=True)
class DpRelease:
    """One stored release, for the yearly ε account."""

    name: str
    released_on: date
    epsilon: float


def noisy_counts(counts: Sequence[int], epsilon: float, *, contributions: int = 1) -> NoisyCounts:
    """Add discrete Laplace noise calibrated to ``epsilon`` to every count; clamp at 0."""
    values, loss = _release(_as_counts(counts), epsilon, contributions)
    return NoisyCounts(tuple(values), sum(values), loss)


def noisy_table(
    cells: Sequence[Sequence[int]], epsilon: float, *, contributions: int = 1
) -> NoisyTable:
    """Add noise to a rows × columns table in one ε-DP release and derive its totals."""
    rows = [_as_counts(row) for row in cells]
    width = len(rows[0]) if rows else 0
    if width == 0 or any(len(row) != width for row in rows):
        raise PrivacyParameterError("the table must be rectangular with at least one cell")
    flat, loss = _release([v for row in rows for v in row], epsilon, contributions)
    noisy = tuple(tuple(flat[i * width : (i + 1) * width]) for i in range(len(rows)))
    return NoisyTable(
        cells=noisy,
        row_totals=tuple(sum(row) for row in noisy),
        column_totals=tuple(sum(col) for col in zip(*noisy, strict=True)),
        grand_total=sum(flat),
        loss=loss,
    )


def laplace_scale(epsilon: float, contributions: int = 1) -> float:
    """The smallest noise scale found for which OpenDP certifies at most ``epsilon``."""
    return _measurement(epsilon, contributions)[1]


def yearly_epsilon(releases: Iterable[DpRelease], year: int) -> float:
    """Total ε spent by the releases of a calendar year (basic sequential composition).

    This is an upper bound. Releases over disjoint cases (say, each month's new cases) compose in
    parallel and cost less, but the portal publishes this simpler, conservative figure.
    """
    return math.fsum(r.epsilon for r in releases if r.released_on.year == year)


def check_budget(releases: Iterable[DpRelease], year: int, budget: float) -> float:
    """Return the year's ε, or raise if it exceeds the published yearly ``budget``."""
    spent = yearly_epsilon(releases, year)
    if spent > budget:
        raise PrivacyBudgetExceededError(
            f"releases of {year} spend ε = {spent:g}, more than the yearly budget of {budget:g}"
        )
    return spent


def _release(
    counts: list[int], epsilon: float, contributions: int
) -> tuple[list[int], PrivacyLoss]:
    meas, scale, certified = _measurement(epsilon, contributions)
    noisy = [max(0, int(v)) for v in meas(counts)] if counts else []
    loss = PrivacyLoss(certified, scale, contributions, MECHANISM, f"opendp {version('opendp')}")
    return noisy, loss


def _measurement(epsilon: float, contributions: int) -> tuple[Any, float, float]:
    if isinstance(epsilon, bool) or not isinstance(epsilon, int | float):
        raise PrivacyParameterError("epsilon must be a number")
    if not math.isfinite(epsilon) or epsilon <= 0:
        raise PrivacyParameterError("epsilon must be finite and greater than 0")
    if isinstance(contributions, bool) or not isinstance(contributions, int) or contributions < 1:
        raise PrivacyParameterError("contributions must be an integer of at least 1")
    dp.enable_features("contrib")  # make_laplace is in OpenDP's "contrib" (proofs under review)
    space = dp.vector_domain(dp.atom_domain(T="i64")), dp.l1_distance(T="i64")
    scale = contributions / float(epsilon)
    # OpenDP rounds the privacy map up, so k/ε can certify a hair more than ε (0.7 → 0.70…01).
    # Nudge the scale up until the certified loss is within the budget.
    for _ in range(64):
        meas = space >> dp.m.then_laplace(scale=scale)
        certified = float(meas.map(contributions))
        if certified <= epsilon:
            return meas, scale, certified
        scale = math.nextafter(scale, math.inf)
    raise PrivacyParameterError(f"no noise scale certifies epsilon = {epsilon!r}")


def _as_counts(values: Sequence[int]) -> list[int]:
    counts = list(values)
    for value in counts:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**62:
            raise PrivacyParameterError("counts must be non-negative integers")
    return counts
