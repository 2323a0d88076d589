"""Human-readable references (`NRM-W-2026-000001`), unique and gap-free under concurrency.

The counter row of a series and year is incremented with `UPDATE … RETURNING`, which holds its
row lock to the end of the transaction: concurrent intakes queue for an instant, and a rolled
back intake gives its number back.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.backends import upsert
from app.referrals.models import ReferenceCounter

REFERRAL_SERIES = "NRM-W"
DUTY_TO_NOTIFY_SERIES = "DTN-W"


async def next_reference(session: AsyncSession, series: str, year: int) -> str:
    """The next reference of a series for a year."""
    number = await _increment(session, series, year)
    if number is None:
        await session.execute(
            upsert(session, ReferenceCounter)
            .values(series=series, year=year, last=0)
            .on_conflict_do_nothing(index_elements=["series", "year"])
        )
        number = await _increment(session, series, year)
    assert number is not None
    return f"{series}-{year}-{number:06d}"


async def _increment(session: AsyncSession, series: str, year: int) -> int | None:
    result = await session.execute(
        update(ReferenceCounter)
        .where(ReferenceCounter.series == series, ReferenceCounter.year == year)
        .values(last=ReferenceCounter.last + 1)
        .returning(ReferenceCounter.last)
    )
    return result.scalar_one_or_none()
