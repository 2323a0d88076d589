"""Welsh working days: the calendar arithmetic behind every deadline and `working_days` taken.

Owns the rule of API.md "Days": "N working days after" a moment counts from its calendar date in
Wales (Europe/London), not counting that date, skipping Saturdays, Sundays and the bank holidays
of England and Wales (Wales has no bank holidays of its own); the due date is the Nth such day.
Working days taken are the working days d with start < d <= end; a stage is met when its date is
on or before its due date.

Pure: no SQLAlchemy, no FastAPI, no clock. Callers pass the moment or date (read once per request
from `app.clock`); this module never asks what day it is. The bank holidays come from the
`holidays` package, cached per year because every deadline and every decision asks for them.
It lives in `app/`, beside no feature, because the workflow, the letters, the notifications, the
statistics and the pages all count days with it; a module that calls it is not thereby on a
command's path (`tests/referrals/test_command_path.py`).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

WALES = ZoneInfo("Europe/London")

# `holidays` gives England and Wales the same set under either subdivision (checked 1990 to 2040);
# WLS says which jurisdiction the rule is about.
_SUBDIVISION = "WLS"
_SATURDAY = 5
_ONE_DAY = timedelta(days=1)


@lru_cache(maxsize=128)
def _bank_holidays(year: int) -> frozenset[date]:
    """The England-and-Wales bank holidays of one year, substitute days included."""
    calendar = holidays.country_holidays("GB", subdiv=_SUBDIVISION, years=year)
    return frozenset(calendar.keys())


def wales_date(moment: datetime) -> date:
    """The calendar date in Wales of an aware moment; a naive one is refused (ValueError)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        # API.md "Days": a date counts in Wales, which a moment without an offset cannot say.
        raise ValueError("wales_date needs a timezone-aware datetime")
    return moment.astimezone(WALES).date()


def is_working_day(day: date) -> bool:
    """Not a Saturday or Sunday and not an England-and-Wales bank holiday."""
    return day.weekday() < _SATURDAY and day not in _bank_holidays(day.year)


def add_working_days(start: date, days: int) -> date:
    """The `days`-th working day after `start`, not counting `start`; 0 returns `start`."""
    if days < 0:
        raise ValueError("days must be zero or more")
    day = start
    remaining = days
    while remaining:
        day += _ONE_DAY
        if is_working_day(day):
            remaining -= 1
    return day


def working_days_between(start: date, end: date) -> int:
    """How many working days d there are with start < d <= end (0 when end <= start)."""
    if end <= start:
        return 0
    # Whole weeks hold five weekdays each; only the leftover days need looking at, so a span of
    # years (a conclusive-grounds wait) costs no more than a span of days.
    full_weeks, leftover = divmod((end - start).days, 7)
    weekdays = full_weeks * 5 + sum(
        1 for offset in range(1, leftover + 1) if (start + offset * _ONE_DAY).weekday() < _SATURDAY
    )
    return weekdays - _weekday_bank_holidays(start, end)


def _weekday_bank_holidays(start: date, end: date) -> int:
    """Bank holidays falling on a weekday with start < holiday <= end."""
    return sum(
        1
        for year in range(start.year, end.year + 1)
        for holiday in _bank_holidays(year)
        if start < holiday <= end and holiday.weekday() < _SATURDAY
    )


def met(on: date | None, due: date | None) -> bool | None:
    """Whether a stage done `on` met its `due` date; None when either is not known."""
    if on is None or due is None:
        return None
    return on <= due
