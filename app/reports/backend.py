"""Where the statistics' SQL differs between PostgreSQL and SQLite, and nowhere else.

Owns: the reporting transaction's settings (`prepare`, PostgreSQL only), a date's `YYYY-MM`
month, and the elements of a JSON list as a table. Every other statement of the statistics is
the same SQL on both backends. Must not: count, group or suppress (`app.reports.queries`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, ColumnElement, cast, func, text
from sqlalchemy.ext.asyncio import AsyncSession

REPORTING_WORK_MEM = "32MB"
"""PostgreSQL's `work_mem` for a statistics transaction (see `prepare`)."""


async def prepare(session: AsyncSession) -> str:
    """The dialect; on PostgreSQL, settings for the rest of this (reporting) transaction.

    Measured with 1,000,000 referrals (docs/statistics.md): JIT compilation cost 3 s of a
    4.4 s aggregation that runs in well under a second without it; the planner, which
    cannot tell how few groups an aggregation has, sorted to disk with the default `work_mem`
    where a hash aggregate of a few hundred groups fits in kilobytes; and, for exploitation
    types, it ran the join of the types and the recount of the totals side by side, one
    process each (a parallel append), so that the join had one core where it could have had
    every core (0.6 s instead of 0.3 s for a year's conclusive-grounds decisions).
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        await session.execute(text("SET LOCAL jit = off"))
        await session.execute(text(f"SET LOCAL work_mem = '{REPORTING_WORK_MEM}'"))
        await session.execute(text("SET LOCAL enable_parallel_append = off"))
    return dialect


def month(day: ColumnElement[Any] | Any, dialect: str) -> ColumnElement[str]:
    """A date's month as `YYYY-MM`."""
    if dialect == "postgresql":
        return func.to_char(day, "YYYY-MM")
    return func.strftime("%Y-%m", day)


def json_list_elements(json_text: ColumnElement[Any], dialect: str, *, name: str) -> Any:
    """The elements of a JSON list held as text, as a table with one `value` column (to join
    laterally to the row that holds the list)."""
    if dialect == "postgresql":
        elements = func.json_array_elements_text(cast(json_text, JSON))
        return elements.table_valued("value", name=name).lateral()
    return func.json_each(json_text).table_valued("value", name=name)
