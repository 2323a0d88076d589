"""The one clock: every rule that reads time reads it from here.

`real_now()` is the system clock (token expiry always uses it). `service_now()` is what the
workflow sees: the system clock plus the test clock's offset when `NRM_TEST_CLOCK=1`. The
offset lives in the database so that every worker process shares it. A request reads the
service clock once (`RequestNow` in `app.http`), so a change and its audit event carry the
same instant. `datetime.now` and `date.today` are banned everywhere else.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import CheckConstraint, Integer, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.errors import FieldError, ValidationFailed
from app.settings import Settings

TEST_CLOCK_ROW = 1
MAX_OFFSET_DAYS = 36_500
"""How far the test clock may move from the real clock, either way: a hundred years."""


class ClockOffset(Base):
    """The test clock's offset in days: one row, only read when the test clock is on."""

    __tablename__ = "test_clock"
    __table_args__ = (CheckConstraint(f"id = {TEST_CLOCK_ROW}", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    offset_days: Mapped[int] = mapped_column(Integer, default=0)


def real_now() -> datetime:
    """The system clock, in UTC."""
    return datetime.now(UTC)


async def offset_days(session: AsyncSession) -> int:
    """The test clock's current offset (0 when never moved)."""
    value = await session.scalar(
        select(ClockOffset.offset_days).where(ClockOffset.id == TEST_CLOCK_ROW)
    )
    return value or 0


async def service_now(session: AsyncSession, settings: Settings) -> datetime:
    """The instant the workflow sees: real time, moved by the test clock when it is on."""
    now = real_now()
    if not settings.test_clock:
        return now
    return now + timedelta(days=await offset_days(session))


async def advance(session: AsyncSession, days: int) -> int:
    """Move the test clock on by `days` (may be negative); returns the new offset.

    422 when the clock would end up more than `MAX_OFFSET_DAYS` from the real clock: far
    enough for any test, and the service's dates stay far from the year 9999, past which
    no date can be written (and every deadline computed from them would fail).
    """
    row = await session.get(ClockOffset, TEST_CLOCK_ROW, with_for_update=True)
    if row is None:
        row = ClockOffset(id=TEST_CLOCK_ROW, offset_days=0)
        session.add(row)
    if abs(row.offset_days + days) > MAX_OFFSET_DAYS:
        raise ValidationFailed(
            "the test clock would move too far",
            errors=[
                FieldError(
                    "advance_days",
                    f"must keep the test clock within {MAX_OFFSET_DAYS} days of the real date "
                    f"(it is {row.offset_days} days away now)",
                )
            ],
        )
    row.offset_days += days
    await session.flush()
    return row.offset_days
