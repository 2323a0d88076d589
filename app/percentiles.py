"""Percentiles of working days, computed in SQL from a histogram: shared by the statistics
(`app.reports.queries`) and the immigration compartment's one aggregate
(`app.immigration.queries.outcomes_by_status`), so that neither imports the other.

Interpolated exactly as PostgreSQL's `percentile_cont` (numpy's "linear"), with the same SQL on
PostgreSQL and SQLite: no backend branch. Pure SQL builders: they read nothing and change
nothing; the callers run the statements.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Float, FromClause, Integer, and_, case, cast, func, select


def rank_days(histogram: FromClause) -> FromClause:
    """Each histogram row with where its days fall in the group's sorted days: the values
    at 0-based positions `upto - at` … `upto - 1` equal `wd`; `total` counts the group.

    `histogram` has a row per group (`is_total`, `grp`) and working days `wd` (and any other
    keys, such as the outcome), with `n` decisions: a pure SQL builder, also used by the
    immigration compartment's aggregate (`app.immigration.queries.outcomes_by_status`)."""
    partition = (histogram.c.is_total, histogram.c.grp)
    counted = histogram.c.n
    return select(
        histogram,
        # The default frame counts every row up to and with this `wd`.
        cast(
            func.sum(counted).over(partition_by=partition, order_by=histogram.c.wd), Integer
        ).label("upto"),
        cast(func.sum(counted).over(partition_by=(*partition, histogram.c.wd)), Integer).label(
            "at"
        ),
        cast(func.sum(counted).over(partition_by=partition), Integer).label("total"),
    ).subquery("ranked")


def days_percentile(ranked: FromClause, numerator: int, denominator: int) -> ColumnElement[Any]:
    """PostgreSQL's `percentile_cont(numerator / denominator)`, numpy's "linear" method, of
    the working days of a group of `rank_days` rows (an aggregate: group by `is_total`, `grp`).

    With the n values sorted, the percentile sits at position h = (n - 1) * p counted from 0:
    the value at floor(h), plus (h - floor(h)) times the step to the next value. Integer
    arithmetic finds floor(h) exactly on both databases.
    """
    scaled = (ranked.c.total - 1) * numerator
    lower = scaled // denominator
    weight = cast(scaled % denominator, Float) / denominator
    first = ranked.c.upto - ranked.c.at

    def value_at(position: ColumnElement[Any]) -> ColumnElement[Any]:
        inside = and_(first <= position, position < ranked.c.upto)
        return func.max(case((inside, ranked.c.wd)))

    low, high = value_at(lower), value_at(lower + 1)
    return cast(low, Float) + func.max(weight) * (func.coalesce(high, low) - low)
