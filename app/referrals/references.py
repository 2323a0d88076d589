"""Human-readable references (`NRM-W-2026-000001`): unique, numbered per series and year, and
taken without a lock that outlives the statement.

The two backends differ, and this module is where:

* **PostgreSQL**: one sequence per series and year (`nrm_ref_nrm_w_2026`). `nextval` takes no
  lock that is held to the end of the transaction, so concurrent filings never wait for each
  other. A sequence is not rolled back: a filing that fails burns its number, and the series
  may have gaps. It never has duplicates. The sequence is created by the first filing of its
  year (`CREATE SEQUENCE IF NOT EXISTS`, in a savepoint, so a first filing that races another
  one tries again), or ahead of time by `nrm db upgrade --grant-to`, for a service whose role
  may not create objects (`ensure_sequences`).
* **SQLite**: the series' counter row in `reference_counters`, incremented with
  `UPDATE … RETURNING`. SQLite lets one writer at a time in any case, so the row's lock costs
  nothing more, and a rolled-back filing gives its number back.

Must not: commit, or decide which series a record belongs to (the intake does).
"""

from __future__ import annotations

import re

from sqlalchemy import text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.backends import is_postgresql, upsert
from app.referrals.models import ReferenceCounter

REFERRAL_SERIES = "NRM-W"
DUTY_TO_NOTIFY_SERIES = "DTN-W"
SERIES = (REFERRAL_SERIES, DUTY_TO_NOTIFY_SERIES)
_NAME_PART = re.compile(r"[^a-z0-9]+")


def sequence_name(series: str, year: int) -> str:
    """The PostgreSQL sequence of a series' year: `nrm_ref_nrm_w_2026`."""
    return f"nrm_ref_{_NAME_PART.sub('_', series.lower()).strip('_')}_{year:04d}"


def formatted(series: str, year: int, number: int) -> str:
    return f"{series}-{year}-{number:06d}"


async def next_reference(session: AsyncSession, series: str, year: int) -> str:
    """The next reference of a series for a year."""
    if is_postgresql(session):
        number = await _next_from_sequence(session, series, year)
    else:
        number = await _next_from_counter(session, series, year)
    return formatted(series, year, number)


async def _next_from_sequence(session: AsyncSession, series: str, year: int) -> int:
    name = sequence_name(series, year)
    number = await _nextval(session, name)
    if number is None:  # the year's first filing: create its sequence, then take from it
        try:
            async with session.begin_nested():
                await session.execute(text(f'CREATE SEQUENCE IF NOT EXISTS "{name}"'))
        except DBAPIError:  # another first filing created it in the same instant, or no right
            pass
        number = await _nextval(session, name)
    if number is None:
        raise RuntimeError(
            f"sequence {name} is missing and this role may not create it: "
            "run `nrm db upgrade --grant-to <role>` as the database's owner"
        )
    return number


async def _nextval(session: AsyncSession, name: str) -> int | None:
    """`nextval` of the named sequence, or None when it does not exist (one round trip)."""
    result = await session.execute(text("SELECT nextval(to_regclass(:name))"), {"name": name})
    value = result.scalar_one()
    return None if value is None else int(value)


async def _next_from_counter(session: AsyncSession, series: str, year: int) -> int:
    number = await _increment(session, series, year)
    if number is None:
        await session.execute(
            upsert(session, ReferenceCounter)
            .values(series=series, year=year, last=0)
            .on_conflict_do_nothing(index_elements=["series", "year"])
        )
        number = await _increment(session, series, year)
    assert number is not None
    return number


async def _increment(session: AsyncSession, series: str, year: int) -> int | None:
    result = await session.execute(
        update(ReferenceCounter)
        .where(ReferenceCounter.series == series, ReferenceCounter.year == year)
        .values(last=ReferenceCounter.last + 1)
        .returning(ReferenceCounter.last)
    )
    return result.scalar_one_or_none()


async def ensure_sequences(session: AsyncSession, years: range) -> None:
    """Create every series' sequence for these years ahead of time (PostgreSQL only)."""
    for series in SERIES:
        for year in years:
            name = sequence_name(series, year)
            await session.execute(text(f'CREATE SEQUENCE IF NOT EXISTS "{name}"'))
