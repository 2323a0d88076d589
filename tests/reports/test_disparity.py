"""Disparity monitoring statistics (DESIGN §7): Wilson intervals, Holm, tests and flags."""

from __future__ import annotations

import itertools
import math
from statistics import NormalDist

import numpy as np
import pytest
from scipy import stats

from app.reports.disparity import (
    CHI_SQUARE,
    FISHER_EXACT,
    NO_TEST,
    GroupOutcome,
    compare_groups,
    holm,
    wilson_interval,
)


def _outcomes(*spec: tuple[str, int, int]) -> list[GroupOutcome]:
    """Groups as (name, positive, decisions)."""
    return [GroupOutcome(name, positive, total - positive) for name, positive, total in spec]


def _flagged(*spec: tuple[str, int, int]) -> list[str | None]:
    return [g.group for g in compare_groups(_outcomes(*spec)).groups if g.flagged]


def _textbook_wilson(positive: int, total: int, confidence: float) -> tuple[float, float]:
    z = NormalDist().inv_cdf(1 - (1 - confidence) / 2)
    p = positive / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total))
    return centre - half, centre + half


class TestWilsonInterval:
    @pytest.mark.parametrize(
        ("positive", "total", "confidence"),
        [(0, 10, 0.95), (10, 10, 0.95), (7, 20, 0.95), (37, 120, 0.90)],
    )
    def test_matches_the_score_formula(self, positive: int, total: int, confidence: float) -> None:
        interval = wilson_interval(positive, total, confidence)
        assert interval == pytest.approx(_textbook_wilson(positive, total, confidence), abs=1e-12)

    def test_is_not_the_normal_approximation(self) -> None:
        # With no successes the Wald interval collapses to [0, 0]; Wilson's does not.
        interval = wilson_interval(0, 10)
        assert interval is not None
        assert interval[0] == pytest.approx(0.0, abs=1e-12)
        assert interval[1] == pytest.approx(0.2775, abs=1e-4)

    def test_nothing_to_rate_gives_none(self) -> None:
        assert wilson_interval(0, 0) is None

    def test_refuses_more_positives_than_decisions(self) -> None:
        with pytest.raises(ValueError, match="between 0 and total"):
            wilson_interval(11, 10)


class TestHolm:
    def test_matches_a_hand_worked_example(self) -> None:
        # Sorted: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 = 0.04 → raised to 0.06.
        adjusted = holm([0.01, 0.04, 0.03, 0.005])
        assert adjusted == pytest.approx([0.03, 0.06, 0.06, 0.02])

    def test_caps_at_one(self) -> None:
        assert holm([0.6, 0.7]) == pytest.approx([1.0, 1.0])

    def test_counts_only_the_tests_made(self) -> None:
        # Two tests, not four: 0.02*2 = 0.04, 0.04*1 = 0.04.
        assert holm([None, 0.02, None, 0.04]) == [None, pytest.approx(0.04), None, 0.04]

    def test_is_less_strict_than_bonferroni(self) -> None:
        adjusted = holm([0.01, 0.02, 0.03])
        assert adjusted == pytest.approx([0.03, 0.04, 0.04])
        bonferroni = [3 * p for p in (0.01, 0.02, 0.03)]
        assert adjusted[2] == pytest.approx(0.04)
        assert bonferroni[2] == pytest.approx(0.09)

    def test_empty_input_gives_empty_output(self) -> None:
        assert holm([]) == []

    def test_refuses_a_probability_outside_zero_to_one(self) -> None:
        with pytest.raises(ValueError, match=r"\[0, 1\]"):
            holm([0.5, 1.5])


class TestCompareGroups:
    def test_flags_the_group_planted_with_a_low_rate(self) -> None:
        flagged = _flagged(
            ("A", 80, 100), ("B", 82, 100), ("C", 40, 100), ("D", 79, 100), ("E", 81, 100)
        )
        assert flagged == ["C"]

    def test_compares_each_group_with_all_others_combined(self) -> None:
        # With three groups the planted 40% pulls "the others" of A down to 64%, so A and B
        # differ from them too: a flag means "differs from the rest", not "is the outlier".
        result = compare_groups(_outcomes(("A", 90, 100), ("B", 88, 100), ("C", 40, 100)))
        a_vs_rest = np.array([[90, 10], [128, 72]])
        assert result.groups[0].p_value == pytest.approx(
            stats.chi2_contingency(a_vs_rest, correction=False).pvalue
        )
        assert [g.flagged for g in result.groups] == [True, True, True]

    def test_balanced_groups_flag_none(self) -> None:
        result = compare_groups(_outcomes(*[(name, 50, 100) for name in "ABCD"]))
        assert not any(g.flagged for g in result.groups)
        assert result.test == CHI_SQUARE
        assert result.overall_p_value == pytest.approx(1.0)
        assert result.overall_rate == 0.5

    def test_reports_rates_and_wilson_intervals(self) -> None:
        group = compare_groups(_outcomes(("A", 7, 20), ("B", 10, 20))).groups[0]
        assert group.rate == 0.35
        assert (group.ci_low, group.ci_high) == pytest.approx(_textbook_wilson(7, 20, 0.95))

    def test_large_counts_use_chi_square_without_continuity_correction(self) -> None:
        result = compare_groups(_outcomes(("A", 60, 100), ("B", 45, 100), ("C", 55, 100)))
        table = np.array([[60, 40], [45, 55], [55, 45]])
        b_vs_rest = np.array([[45, 55], [115, 85]])
        assert result.test == CHI_SQUARE
        assert result.overall_p_value == pytest.approx(stats.chi2_contingency(table).pvalue)
        assert result.groups[1].p_value == pytest.approx(
            stats.chi2_contingency(b_vs_rest, correction=False).pvalue
        )

    def test_small_counts_switch_to_fishers_exact_and_say_so(self) -> None:
        result = compare_groups(_outcomes(("A", 3, 4), ("B", 1, 5), ("C", 0, 3)))
        a_vs_rest = np.array([[3, 1], [1, 7]])
        assert result.test == FISHER_EXACT
        assert result.groups[0].p_value == pytest.approx(stats.fisher_exact(a_vs_rest).pvalue)
        assert result.groups[0].p_value != pytest.approx(
            stats.chi2_contingency(a_vs_rest, correction=False).pvalue
        )

    def test_an_expected_count_of_five_still_uses_chi_square(self) -> None:
        assert compare_groups(_outcomes(("A", 4, 10), ("B", 6, 10))).test == CHI_SQUARE
        assert compare_groups(_outcomes(("A", 5, 9), ("B", 4, 9))).test == FISHER_EXACT

    def test_the_overall_fisher_p_value_is_reproducible(self) -> None:
        outcomes = _outcomes(("A", 3, 4), ("B", 1, 5), ("C", 0, 3))
        first = compare_groups(outcomes).overall_p_value
        assert first is not None
        assert 0.0 < first < 1.0
        assert compare_groups(outcomes).overall_p_value == first

    def test_two_groups_are_one_comparison_and_are_not_adjusted(self) -> None:
        # p = 0.047: Holm over two identical tests would double it past alpha.
        result = compare_groups(_outcomes(("A", 60, 100), ("B", 46, 100)))
        p_values = [g.p_value for g in result.groups]
        assert p_values == pytest.approx([0.0473, 0.0473], abs=1e-4)
        assert [g.p_adjusted for g in result.groups] == p_values
        assert [g.flagged for g in result.groups] == [True, True]

    def test_holm_adjusts_across_the_groups_tested(self) -> None:
        result = compare_groups(_outcomes(("A", 60, 100), ("B", 45, 100), ("C", 55, 100)))
        p_values = [g.p_value for g in result.groups]
        assert [g.p_adjusted for g in result.groups] == holm(p_values)
        assert result.groups[1].p_adjusted != result.groups[1].p_value

    def test_alpha_decides_the_flag(self) -> None:
        outcomes = _outcomes(("A", 60, 100), ("B", 46, 100))
        assert not any(g.flagged for g in compare_groups(outcomes, alpha=0.01).groups)

    def test_a_group_without_decisions_is_left_out(self) -> None:
        with_empty = compare_groups(
            _outcomes(("A", 60, 100), ("B", 45, 100), ("X", 0, 0), ("C", 55, 100))
        )
        without = compare_groups(_outcomes(("A", 60, 100), ("B", 45, 100), ("C", 55, 100)))
        empty = with_empty.groups[2]
        assert (empty.rate, empty.ci_low, empty.ci_high, empty.p_value) == (None,) * 4
        assert (empty.p_adjusted, empty.flagged) == (None, False)
        kept = [g for g in with_empty.groups if g.group != "X"]
        assert [g.p_adjusted for g in kept] == [g.p_adjusted for g in without.groups]

    def test_a_single_group_has_nothing_to_compare(self) -> None:
        result = compare_groups(_outcomes(("A", 60, 100), ("X", 0, 0)))
        assert result.test == NO_TEST
        assert result.overall_p_value is None
        assert result.groups[0].rate == 0.6
        assert result.groups[0].p_value is None

    def test_a_single_outcome_has_nothing_to_compare(self) -> None:
        result = compare_groups(_outcomes(("A", 30, 30), ("B", 12, 12)))
        assert result.test == NO_TEST
        assert not any(g.flagged for g in result.groups)
        assert result.overall_rate == 1.0

    def test_no_decisions_at_all(self) -> None:
        result = compare_groups([])
        assert (result.groups, result.test, result.overall_p_value) == ([], NO_TEST, None)
        assert result.overall_rate is None

    def test_keeps_the_input_order_and_an_unrecorded_group(self) -> None:
        result = compare_groups(
            [GroupOutcome("B", 10, 10), GroupOutcome(None, 5, 15), GroupOutcome("A", 9, 11)]
        )
        assert [g.group for g in result.groups] == ["B", None, "A"]
        assert [(g.positive, g.negative) for g in result.groups] == [(10, 10), (5, 15), (9, 11)]

    def test_refuses_negative_counts(self) -> None:
        with pytest.raises(ValueError, match="negative"):
            GroupOutcome("A", -1, 3)

    def test_refuses_an_alpha_outside_zero_to_one(self) -> None:
        with pytest.raises(ValueError, match="alpha"):
            compare_groups([], alpha=1.0)


class TestSmallTables:
    def test_every_table_with_one_decision_of_an_outcome_gives_p_values_in_0_1(self) -> None:
        # Fisher's exact test under Monte Carlo returns a one-element array for degenerate
        # tables (one positive decision in all, say); the statistics must still answer.
        counts = range(3)
        for a, b, c, d, e, f in itertools.product(counts, repeat=6):
            if min(a + c + e, b + d + f) != 1:
                continue  # the degenerate family: one decision of one outcome in all
            groups = [GroupOutcome("x", a, b), GroupOutcome("y", c, d), GroupOutcome("z", e, f)]
            result = compare_groups(groups)
            for group in result.groups:
                for p in (group.p_value, group.p_adjusted):
                    assert p is None or 0.0 <= p <= 1.0, ((a, b, c, d, e, f), p)

    def test_the_table_that_broke_the_disparities_endpoint(self) -> None:
        # (positive, negative) per group: one positive decision in all.
        groups = [GroupOutcome("x", 0, 1), GroupOutcome("y", 0, 1), GroupOutcome("z", 1, 0)]
        result = compare_groups(groups)
        assert [g.flagged for g in result.groups] == [False, False, False]
        assert all(g.p_value is not None for g in result.groups)
