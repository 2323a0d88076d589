"""Disparity monitoring statistics (DESIGN §7): per-group positive-decision rates, their Wilson
intervals and tests of independence with Holm-adjusted flags (time to decision's percentiles
are computed in SQL, `app.percentiles`).

Owns the arithmetic only, done with scipy and numpy. Pure: no SQLAlchemy, no FastAPI, no
settings. It does no disclosure control: callers pass its figures through
``app.suppression`` before publishing them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats
from scipy.stats.contingency import expected_freq

CHI_SQUARE = "chi-square"
FISHER_EXACT = "fisher-exact"
NO_TEST = "none"
MIN_EXPECTED = 5.0  # the usual validity condition of the chi-square approximation
# Fisher's exact test on more than two groups is estimated from random tables; a fixed seed
# makes the same table always give the same published p-value.
_MONTE_CARLO_SEED = 2024

Table = npt.NDArray[np.int64]


@dataclass(frozen=True)
class GroupOutcome:
    """Counts of positive and negative decisions of one group (``None``: not recorded)."""

    group: str | None
    positive: int
    negative: int

    def __post_init__(self) -> None:
        if self.positive < 0 or self.negative < 0:
            raise ValueError("decision counts cannot be negative")


@dataclass(frozen=True)
class GroupDisparity:
    group: str | None
    positive: int
    negative: int
    rate: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    p_adjusted: float | None
    flagged: bool


@dataclass(frozen=True)
class DisparityResult:
    groups: list[GroupDisparity]
    test: str
    overall_p_value: float | None
    overall_rate: float | None


def wilson_interval(
    positive: int, total: int, confidence: float = 0.95
) -> tuple[float, float] | None:
    """The Wilson score interval of ``positive / total``; None when there is nothing to rate."""
    if total == 0:
        return None
    if not 0 <= positive <= total:
        raise ValueError("positive must be between 0 and total")
    interval = stats.binomtest(positive, total).proportion_ci(
        confidence_level=confidence, method="wilson"
    )
    return float(interval.low), float(interval.high)


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm-Bonferroni adjusted p-values, in input order; ``None`` entries are not counted.

    The k-th smallest of m p-values is multiplied by (m - k + 1), capped at 1, and made
    non-decreasing in rank. scipy has no Holm (``false_discovery_control`` is Benjamini-
    Hochberg, which controls a different error rate), so this is the standard algorithm.
    """
    if any(p is not None and not 0.0 <= p <= 1.0 for p in p_values):
        raise ValueError("p-values must lie in [0, 1]")
    ranked = sorted((p, index) for index, p in enumerate(p_values) if p is not None)
    adjusted: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, (p, index) in enumerate(ranked):
        running = max(running, min(1.0, (len(ranked) - rank) * p))
        adjusted[index] = running
    return adjusted


def compare_groups(outcomes: Sequence[GroupOutcome], *, alpha: float = 0.05) -> DisparityResult:
    """Rates, intervals and tests of each group against all the others; flags the outliers.

    * Groups with no decisions get no rate, interval or p-value and are left out of the tests.
    * The test is chosen once for the table of tested groups x {positive, negative}: Pearson's
      chi-square (no continuity correction) when every expected count is at least 5, else
      Fisher's exact (``test`` says which; ``"none"`` with fewer than two groups or when every
      decision had the same outcome, since there is then nothing to test).
    * ``overall_p_value`` tests independence of group and outcome over the whole table; for
      Fisher's exact with more than two groups it is a Monte Carlo estimate with a fixed seed.
    * Each group's ``p_value`` comes from the same test on the 2x2 table of the group against
      all other tested groups. ``p_adjusted`` is Holm's over the tested groups, except with
      exactly two groups, where both 2x2 tables are the same single comparison and need no
      adjustment. ``flagged`` is ``p_adjusted < alpha``.
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError("alpha must lie in (0, 1)")
    positions = [i for i, outcome in enumerate(outcomes) if outcome.positive + outcome.negative]
    table: Table = np.array(
        [[outcomes[i].positive, outcomes[i].negative] for i in positions], dtype=np.int64
    ).reshape(-1, 2)
    test = _choose_test(table)
    p_values: list[float | None] = [None] * len(outcomes)
    for row, position in enumerate(positions):
        p_values[position] = _group_p_value(table, row, test)
    adjusted = p_values if len(positions) == 2 else holm(p_values)
    return DisparityResult(
        groups=[
            _describe(o, p, q, alpha) for o, p, q in zip(outcomes, p_values, adjusted, strict=True)
        ],
        test=test,
        overall_p_value=_overall_p_value(table, test),
        overall_rate=_rate(int(table[:, 0].sum()), int(table.sum())),
    )


def _rate(positive: int, total: int) -> float | None:
    return positive / total if total else None


def _choose_test(table: Table) -> str:
    if table.shape[0] < 2 or not table.sum(axis=0).all():
        return NO_TEST
    return CHI_SQUARE if expected_freq(table).min() >= MIN_EXPECTED else FISHER_EXACT


def _p_value(table: Table, test: str) -> float:
    if test == CHI_SQUARE:
        return _probability(stats.chi2_contingency(table, correction=False).pvalue)
    if table.shape == (2, 2):
        return _probability(stats.fisher_exact(table).pvalue)
    method = stats.MonteCarloMethod(rng=np.random.default_rng(_MONTE_CARLO_SEED))
    return _probability(stats.fisher_exact(table, method=method).pvalue)


def _probability(value: object) -> float:
    """A p-value as a float in [0, 1]: scipy gives a one-element array for some degenerate
    r x 2 tables under the Monte Carlo method, and NaN where nothing can differ (no evidence
    of a difference: 1)."""
    p = float(np.asarray(value, dtype=float).reshape(-1)[0])
    return 1.0 if math.isnan(p) else min(max(p, 0.0), 1.0)


def _overall_p_value(table: Table, test: str) -> float | None:
    return None if test == NO_TEST else _p_value(table, test)


def _group_p_value(table: Table, row: int, test: str) -> float | None:
    if test == NO_TEST:
        return None
    group_vs_rest: Table = np.array([table[row], table.sum(axis=0) - table[row]])
    return _p_value(group_vs_rest, test)


def _describe(
    outcome: GroupOutcome, p_value: float | None, p_adjusted: float | None, alpha: float
) -> GroupDisparity:
    total = outcome.positive + outcome.negative
    interval = wilson_interval(outcome.positive, total)
    return GroupDisparity(
        group=outcome.group,
        positive=outcome.positive,
        negative=outcome.negative,
        rate=_rate(outcome.positive, total),
        ci_low=interval[0] if interval else None,
        ci_high=interval[1] if interval else None,
        p_value=p_value,
        p_adjusted=p_adjusted,
        flagged=p_adjusted is not None and p_adjusted < alpha,
    )
