"""Working-day percentiles in SQL (`app.percentiles`), on SQLite and PostgreSQL alike: each is
PostgreSQL's `percentile_cont` (numpy's "linear" method) of the group's days, interpolating at
position p * (n - 1) of the sorted values. These cases pinned the Python function the
statistics once carried beside the SQL; they now pin the SQL the statistics and the
compartment's aggregate run.
"""

from __future__ import annotations

import math
import random
from collections import Counter

import numpy as np
import pytest
from sqlalchemy import FromClause, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from app.percentiles import days_percentile, rank_days

MEDIAN, P90 = (1, 2), (9, 10)
_DRAWS = random.Random(20261205)
SAMPLES = [
    ([_DRAWS.randint(0, 400) for _ in range(_DRAWS.randint(1, 30))], fraction)
    for fraction in ((0, 1), MEDIAN, (1, 4), P90, (1, 1))
    for _ in range(6)
]


def _percentile_cont(values: list[int], q: float) -> float:
    """PostgreSQL's definition: interpolate at position q * (n - 1) of the sorted values."""
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _histogram(values: list[int], **others: list[int]) -> FromClause:
    """Groups' days as the statistics' histogram: a row per group and working-days value,
    counted (`values` are the group "group"'s; `others` name more groups)."""
    groups = {"group": values, **others}
    rows = [
        select(
            literal(False).label("is_total"),
            literal(group).label("grp"),
            literal(days).label("wd"),
            literal(count).label("n"),
        )
        for group, days_of in groups.items()
        for days, count in sorted(Counter(days_of).items())
    ]
    return union_all(*rows).subquery("histogram")


async def percentile(db: AsyncSession, values: list[int], fraction: tuple[int, int]) -> float:
    """The SQL's percentile of one group's days (at least one value)."""
    ranked = rank_days(_histogram(values))
    statement = select(days_percentile(ranked, *fraction)).group_by(ranked.c.is_total, ranked.c.grp)
    [value] = (await db.scalars(statement)).all()
    return float(value)


class TestPercentile:
    async def test_median_of_an_even_count_interpolates(self, db: AsyncSession) -> None:
        assert await percentile(db, [1, 2, 3, 4], MEDIAN) == 2.5

    async def test_ninetieth_percentile_of_one_to_ten(self, db: AsyncSession) -> None:
        assert await percentile(db, list(range(1, 11)), P90) == pytest.approx(9.1)

    async def test_order_of_the_input_does_not_matter(self, db: AsyncSession) -> None:
        assert await percentile(db, [4, 1, 3, 2], MEDIAN) == 2.5

    async def test_repeated_values_count_each_time(self, db: AsyncSession) -> None:
        assert await percentile(db, [5, 5, 5, 1], MEDIAN) == 5.0
        assert await percentile(db, [1, 1, 1, 9], P90) == pytest.approx(6.6)

    async def test_a_single_value_is_every_percentile(self, db: AsyncSession) -> None:
        assert await percentile(db, [7], P90) == 7.0

    async def test_each_group_has_its_own(self, db: AsyncSession) -> None:
        ranked = rank_days(_histogram([1, 2, 3], other=[10, 30]))
        statement = (
            select(ranked.c.grp, days_percentile(ranked, *MEDIAN))
            .group_by(ranked.c.is_total, ranked.c.grp)
            .order_by(ranked.c.grp)
        )
        assert [tuple(row) for row in await db.execute(statement)] == [
            ("group", 2.0),
            ("other", 20.0),
        ]

    @pytest.mark.parametrize(("values", "fraction"), SAMPLES)
    async def test_matches_postgresqls_percentile_cont(
        self, db: AsyncSession, values: list[int], fraction: tuple[int, int]
    ) -> None:
        q = fraction[0] / fraction[1]
        found = await percentile(db, values, fraction)
        assert found == pytest.approx(_percentile_cont(values, q))
        assert found == pytest.approx(np.quantile(values, q, method="linear"))
