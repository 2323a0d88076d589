"""Disclosure control of statistics tables (DESIGN §7; rules in app/reports/suppression.py)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.suppression import suppress_rows

DECISIONS = ("count", "positive", "negative")
LINKED = (("count", ("positive", "negative")),)


def _counts(*values: int) -> list[dict[str, Any]]:
    return [{"group": chr(ord("A") + i), "count": v} for i, v in enumerate(values)]


def _total(rows: list[dict[str, Any]], field: str = "count") -> dict[str, Any]:
    return {"group": None, field: sum(row[field] for row in rows)}


def _column(rows: list[dict[str, Any]], field: str = "count") -> list[int | None]:
    return [row[field] for row in rows]


def _decision(group: str, positive: int, negative: int, **extra: Any) -> dict[str, Any]:
    row = {"group": group, "count": positive + negative, "positive": positive}
    return {**row, "negative": negative, **extra}


class TestPrimary:
    def test_a_small_cell_is_published_as_null_and_marked(self) -> None:
        rows, total = suppress_rows(
            _counts(40, 3, 12), count_fields=["count"], threshold=5, total_row=None
        )
        assert _column(rows) == [40, None, 12]
        assert [row["suppressed"] for row in rows] == [False, True, False]
        assert total is None

    def test_the_threshold_itself_is_published(self) -> None:
        rows, _ = suppress_rows(_counts(5, 4), count_fields=["count"], threshold=5, total_row=None)
        assert _column(rows) == [5, None]

    def test_a_true_zero_is_published(self) -> None:
        # Module rule 1: an empty cell identifies no one, so it is not hidden.
        rows, _ = suppress_rows(_counts(0, 9), count_fields=["count"], threshold=5, total_row=None)
        assert _column(rows) == [0, 9]
        assert rows[0]["suppressed"] is False

    def test_the_threshold_is_a_parameter(self) -> None:
        at_five, _ = suppress_rows(
            _counts(7, 30), count_fields=["count"], threshold=5, total_row=None
        )
        at_ten, _ = suppress_rows(
            _counts(7, 30), count_fields=["count"], threshold=10, total_row=None
        )
        assert _column(at_five) == [7, 30]
        assert _column(at_ten) == [None, 30]

    def test_only_count_fields_are_checked(self) -> None:
        rows, _ = suppress_rows(
            [{"group": "A", "count": 20, "median_working_days": 2}],
            count_fields=["count"],
            threshold=5,
            total_row=None,
        )
        assert rows[0] == {"group": "A", "count": 20, "median_working_days": 2, "suppressed": False}

    def test_rows_keep_their_order_and_the_input_is_not_changed(self) -> None:
        given_rows = _counts(3, 50, 1, 20)
        rows, _ = suppress_rows(given_rows, count_fields=["count"], threshold=5, total_row=None)
        assert [row["group"] for row in rows] == ["A", "B", "C", "D"]
        assert _column(given_rows) == [3, 50, 1, 20]
        assert "suppressed" not in given_rows[0]


class TestSecondary:
    def test_a_lone_suppressed_cell_takes_the_next_smallest_with_it(self) -> None:
        given_rows = _counts(40, 3, 12, 25)
        rows, total = suppress_rows(
            given_rows, count_fields=["count"], threshold=5, total_row=_total(given_rows)
        )
        assert _column(rows) == [40, None, None, 25]
        assert [row["suppressed"] for row in rows] == [False, True, True, False]
        assert total == {"group": None, "count": 80, "suppressed": False}
        # What subtraction now gives is B + C, not B.
        assert total["count"] - sum(v for v in _column(rows) if v is not None) == 3 + 12

    def test_without_it_subtraction_would_recover_the_cell(self) -> None:
        given_rows = _counts(40, 3, 12, 25)
        primary_only, _ = suppress_rows(
            given_rows, count_fields=["count"], threshold=5, total_row=None
        )
        published = sum(v for v in _column(primary_only) if v is not None)
        assert _total(given_rows)["count"] - published == 3

    def test_two_suppressed_cells_need_no_more(self) -> None:
        given_rows = _counts(40, 3, 2, 35)
        rows, total = suppress_rows(
            given_rows, count_fields=["count"], threshold=5, total_row=_total(given_rows)
        )
        assert _column(rows) == [40, None, None, 35]
        assert total is not None
        assert total["count"] == 80

    def test_a_zero_is_not_chosen_as_the_second_cell(self) -> None:
        given_rows = _counts(40, 3, 0, 12, 25)
        rows, _ = suppress_rows(
            given_rows, count_fields=["count"], threshold=5, total_row=_total(given_rows)
        )
        assert _column(rows) == [40, None, 0, None, 25]

    def test_ties_take_the_first_row(self) -> None:
        given_rows = _counts(9, 3, 9)
        rows, _ = suppress_rows(
            given_rows, count_fields=["count"], threshold=5, total_row=_total(given_rows)
        )
        assert _column(rows) == [None, None, 9]

    def test_without_a_second_cell_the_total_is_suppressed(self) -> None:
        # The rows need not cover the total (e.g. a category not listed): 9 - 0 would give 3 + 6.
        rows, total = suppress_rows(
            _counts(3, 0),
            count_fields=["count"],
            threshold=5,
            total_row={"group": None, "count": 9},
        )
        assert _column(rows) == [None, 0]
        assert total == {"group": None, "count": None, "suppressed": True}

    def test_no_total_means_no_secondary(self) -> None:
        rows, _ = suppress_rows(
            _counts(40, 3, 12), count_fields=["count"], threshold=5, total_row=None
        )
        assert _column(rows) == [40, None, 12]

    def test_each_field_is_protected_against_its_own_total(self) -> None:
        given_rows = [
            {"group": "A", "count": 30, "duty_to_notify": 2},
            {"group": "B", "count": 40, "duty_to_notify": 8},
            {"group": "C", "count": 50, "duty_to_notify": 6},
        ]
        total = {"group": None, "count": 120, "duty_to_notify": 16}
        rows, _ = suppress_rows(
            given_rows, count_fields=["count", "duty_to_notify"], threshold=5, total_row=total
        )
        assert _column(rows, "duty_to_notify") == [None, 8, None]
        assert _column(rows) == [30, 40, 50]


class TestTotals:
    def test_a_total_below_the_threshold_is_suppressed(self) -> None:
        given_rows = _counts(2, 1, 0)
        rows, total = suppress_rows(
            given_rows, count_fields=["count"], threshold=5, total_row=_total(given_rows)
        )
        assert _column(rows) == [None, None, 0]
        assert total == {"group": None, "count": None, "suppressed": True}

    def test_a_total_at_the_threshold_is_published(self) -> None:
        given_rows = _counts(2, 3)
        _, total = suppress_rows(
            given_rows, count_fields=["count"], threshold=5, total_row=_total(given_rows)
        )
        assert total == {"group": None, "count": 5, "suppressed": False}

    def test_the_total_rows_parts_are_linked_too(self) -> None:
        rows, total = suppress_rows(
            [_decision("A", 50, 1), _decision("B", 47, 2)],
            count_fields=DECISIONS,
            threshold=5,
            total_row=_decision("", 97, 3) | {"group": None},
            linked=LINKED,
        )
        assert total is not None
        assert (total["count"], total["positive"], total["negative"]) == (100, None, None)
        assert all(row["positive"] is None and row["negative"] is None for row in rows)


class TestLinked:
    def test_a_suppressed_part_takes_the_other_parts_with_it(self) -> None:
        rows, _ = suppress_rows(
            [_decision("A", 27, 3)],
            count_fields=DECISIONS,
            threshold=5,
            total_row=None,
            linked=LINKED,
        )
        assert rows[0] == {
            "group": "A",
            "count": 30,
            "positive": None,
            "negative": None,
            "suppressed": True,
        }

    def test_without_linking_the_part_would_be_count_minus_the_other(self) -> None:
        rows, _ = suppress_rows(
            [_decision("A", 27, 3)], count_fields=DECISIONS, threshold=5, total_row=None
        )
        assert rows[0]["count"] - rows[0]["positive"] == 3

    def test_a_small_total_hides_every_part_even_a_zero(self) -> None:
        rows, _ = suppress_rows(
            [_decision("A", 0, 3)],
            count_fields=DECISIONS,
            threshold=5,
            total_row=None,
            linked=LINKED,
        )
        assert (rows[0]["count"], rows[0]["positive"], rows[0]["negative"]) == (None, None, None)

    def test_a_zero_part_stays_published_when_nothing_is_small(self) -> None:
        rows, _ = suppress_rows(
            [_decision("A", 0, 9)],
            count_fields=DECISIONS,
            threshold=5,
            total_row=None,
            linked=LINKED,
        )
        assert (rows[0]["count"], rows[0]["positive"], rows[0]["negative"]) == (9, 0, 9)

    def test_secondary_and_linked_suppression_follow_each_other(self) -> None:
        # A's small "negative" hides A's "positive"; the lone negative takes C's (20 < 30),
        # and linking then hides C's positive, so no column has a lone suppressed cell.
        given_rows = [_decision("A", 47, 3), _decision("B", 30, 30), _decision("C", 20, 20)]
        total = {"group": None, "count": 150, "positive": 97, "negative": 53}
        rows, published_total = suppress_rows(
            given_rows, count_fields=DECISIONS, threshold=5, total_row=total, linked=LINKED
        )
        assert _column(rows, "negative") == [None, 30, None]
        assert _column(rows, "positive") == [None, 30, None]
        assert _column(rows, "count") == [50, 60, 40]
        assert published_total == total | {"suppressed": False}

    def test_a_total_hidden_by_secondary_suppression_hides_its_parts(self) -> None:
        # A's small count is alone in its column, so B's (30) goes too; the part columns take
        # C's and D's instead, so B's parts would stay published and give 30 back as 15 + 15.
        given_rows = [
            _decision("A", 3, 0),
            _decision("B", 15, 15),
            _decision("C", 10, 40),
            _decision("D", 40, 10),
        ]
        total = {"group": None, "count": 133, "positive": 68, "negative": 65}
        rows, _ = suppress_rows(
            given_rows, count_fields=DECISIONS, threshold=5, total_row=total, linked=LINKED
        )
        assert _column(rows, "count") == [None, None, 50, 50]
        assert rows[1] == {
            "group": "B",
            "count": None,
            "positive": None,
            "negative": None,
            "suppressed": True,
        }

    def test_refuses_linked_fields_that_are_not_counts(self) -> None:
        with pytest.raises(ValueError, match="count fields"):
            suppress_rows(
                [_decision("A", 9, 9)],
                count_fields=["count"],
                threshold=5,
                total_row=None,
                linked=LINKED,
            )


class TestDerivedFigures:
    def test_a_suppressed_row_loses_its_derived_figures(self) -> None:
        derived = {
            "rate": 0.9,
            "ci_low": 0.74,
            "ci_high": 0.97,
            "median_working_days": 20.0,
            "p90_working_days": 41.5,
            "p_value": 0.2,
            "p_adjusted": 0.4,
            "flagged": False,
        }
        rows, _ = suppress_rows(
            [_decision("A", 27, 3, label="Albania", **derived)],
            count_fields=DECISIONS,
            threshold=5,
            total_row=None,
            linked=LINKED,
        )
        assert rows[0]["label"] == "Albania"
        assert rows[0]["count"] == 30
        assert all(rows[0][key] is None for key in derived)

    def test_a_rate_beside_a_published_count_would_give_the_cell_back(self) -> None:
        # Why the rule is "any suppressed count", not "a small denominator": 30 is published.
        rate, count = 0.9, 30
        assert count - round(rate * count) == 3

    def test_an_unsuppressed_row_keeps_its_derived_figures(self) -> None:
        rows, _ = suppress_rows(
            [_decision("A", 20, 10, rate=2 / 3, p_value=0.01, flagged=True)],
            count_fields=DECISIONS,
            threshold=5,
            total_row=None,
            linked=LINKED,
        )
        assert (rows[0]["rate"], rows[0]["p_value"], rows[0]["flagged"]) == (2 / 3, 0.01, True)

    def test_a_suppressed_total_loses_its_derived_figures(self) -> None:
        _, total = suppress_rows(
            [_decision("A", 2, 1)],
            count_fields=DECISIONS,
            threshold=5,
            total_row={"group": None, "count": 3, "positive": 2, "negative": 1, "rate": 2 / 3},
            linked=LINKED,
        )
        assert total is not None
        assert total["rate"] is None


class TestArguments:
    def test_refuses_a_threshold_below_one(self) -> None:
        with pytest.raises(ValueError, match="threshold"):
            suppress_rows(_counts(1), count_fields=["count"], threshold=0, total_row=None)

    def test_a_threshold_of_one_suppresses_nothing(self) -> None:
        given_rows = _counts(1, 0, 2)
        rows, _ = suppress_rows(
            given_rows, count_fields=["count"], threshold=1, total_row=_total(given_rows)
        )
        assert _column(rows) == [1, 0, 2]


decision_rows = st.lists(
    st.tuples(st.integers(0, 12), st.integers(0, 12)), min_size=1, max_size=6
).map(lambda pairs: [_decision(f"G{i}", p, n) for i, (p, n) in enumerate(pairs)])


class TestProperties:
    @settings(max_examples=50, deadline=None)
    @given(given_rows=decision_rows, threshold=st.integers(1, 8))
    def test_no_small_count_is_published_or_recoverable(
        self, given_rows: list[dict[str, Any]], threshold: int
    ) -> None:
        total = {"group": None} | {f: sum(row[f] for row in given_rows) for f in DECISIONS}
        rows, published_total = suppress_rows(
            given_rows, count_fields=DECISIONS, threshold=threshold, total_row=total, linked=LINKED
        )
        assert published_total is not None
        for record in [*rows, published_total]:
            published = [record[f] for f in DECISIONS if record[f] is not None]
            assert all(v == 0 or v >= threshold for v in published)
            parts_hidden = [record[f] is None for f in ("positive", "negative")]
            assert parts_hidden[0] == parts_hidden[1]
            if record["count"] is None:
                assert all(parts_hidden)
            assert record["suppressed"] == (None in (record[f] for f in DECISIONS))
        for field in DECISIONS:
            if published_total[field] is not None:
                assert _column(rows, field).count(None) != 1
