"""Differential privacy: OpenDP takes no seed, so these tests check statistical properties.

Discrete Laplace with scale s: P(k) ∝ exp(-|k|/s). With p = exp(-1/s): mean 0, variance
2p/(1-p)², P(0) = (1-p)/(1+p). Tolerances are several standard errors wide (false alarm far
below one in a million).
"""

from __future__ import annotations

import math
import statistics
from datetime import date

import pytest

from publisher.dp import (
    DpRelease,
    check_budget,
    laplace_scale,
    noisy_counts,
    noisy_table,
    yearly_epsilon,
)
from publisher.errors import PrivacyBudgetExceededError, PrivacyParameterError

N = 4000


def moments(scale: float) -> tuple[float, float]:
    p = math.exp(-1 / scale)
    return 2 * p / (1 - p) ** 2, (1 - p) / (1 + p)


@pytest.mark.parametrize("epsilon", [1.0, 0.5])
def test_noise_has_the_discrete_laplace_distribution(epsilon: float) -> None:
    result = noisy_counts([1000] * N, epsilon)  # far from 0, so clamping never acts
    noise = [v - 1000 for v in result.values]
    variance, p_zero = moments(1 / epsilon)
    assert result.loss.scale == pytest.approx(1 / epsilon)
    assert abs(statistics.fmean(noise)) < 6 * math.sqrt(variance / N)
    assert statistics.pvariance(noise) == pytest.approx(variance, rel=0.2)
    assert sum(n == 0 for n in noise) / N == pytest.approx(p_zero, abs=0.05)
    assert all(isinstance(v, int) for v in result.values)


def test_more_contributions_per_person_means_more_noise() -> None:
    result = noisy_counts([1000] * N, 1.0, contributions=3)
    assert result.loss.scale == pytest.approx(3.0)
    assert result.loss.contributions == 3
    assert statistics.pvariance(result.values) == pytest.approx(moments(3.0)[0], rel=0.2)


def test_counts_stay_non_negative_and_totals_add_up() -> None:
    result = noisy_counts([0] * N, 0.1)
    assert min(result.values) == 0
    assert max(result.values) > 0  # noise was applied, then clamped
    assert result.total == sum(result.values)


def test_table_is_one_release_with_consistent_totals() -> None:
    cells = [[0, 3, 50], [12, 0, 7]]
    table = noisy_table(cells, 0.5)
    assert len(table.cells) == 2 and all(len(row) == 3 for row in table.cells)
    assert all(v >= 0 for row in table.cells for v in row)
    assert table.row_totals == tuple(sum(row) for row in table.cells)
    assert table.column_totals == tuple(sum(col) for col in zip(*table.cells, strict=True))
    assert table.grand_total == sum(table.row_totals) == sum(table.column_totals)
    assert table.loss.epsilon <= 0.5
    assert table.loss.library.startswith("opendp ")


def test_noise_differs_between_draws() -> None:
    draws = {noisy_counts([100] * 20, 1.0).values for _ in range(5)}
    assert len(draws) > 1


def test_certified_epsilon_never_exceeds_the_request() -> None:
    for epsilon in (0.1, 0.3, 0.7, 1.1, 2.0):
        scale = laplace_scale(epsilon)
        assert scale >= 1 / epsilon
        assert scale == pytest.approx(1 / epsilon)
        assert noisy_counts([5], epsilon).loss.epsilon <= epsilon


def test_yearly_epsilon_sums_the_years_releases() -> None:
    releases = [DpRelease(f"2025-{m:02d}", date(2025, m, 5), 0.1) for m in range(1, 11)]
    releases.append(DpRelease("2024-12", date(2024, 12, 5), 0.5))
    assert yearly_epsilon(releases, 2025) == 1.0  # fsum: exact, not 0.9999999999999999
    assert yearly_epsilon(releases, 2024) == 0.5
    assert yearly_epsilon(releases, 2023) == 0.0
    assert check_budget(releases, 2025, 1.0) == 1.0
    with pytest.raises(PrivacyBudgetExceededError, match="2025"):
        check_budget(releases, 2025, 0.95)


@pytest.mark.parametrize("epsilon", [0, -1.0, math.nan, math.inf, True, "1"])
def test_bad_epsilon_is_refused(epsilon: object) -> None:
    with pytest.raises(PrivacyParameterError):
        noisy_counts([1, 2], epsilon)  # type: ignore[arg-type]


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(PrivacyParameterError):
        noisy_counts([1, 2], 1.0, contributions=0)
    with pytest.raises(PrivacyParameterError):
        noisy_counts([1, -2], 1.0)
    with pytest.raises(PrivacyParameterError):
        noisy_table([[1, 2], [3]], 1.0)
    with pytest.raises(PrivacyParameterError):
        noisy_table([], 1.0)
