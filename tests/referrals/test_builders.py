"""The test helpers' own rule: moving the service to a Welsh date works at any time of day,
across a change of the clocks (tests that ran after 23:00 UTC once landed a day late)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from app.days import wales_date
from tests.referrals.builders import days_to


@pytest.mark.parametrize(
    ("now", "day"),
    [
        (datetime(2026, 12, 4, 23, 30, tzinfo=UTC), date(2026, 7, 1)),  # GMT now, BST then
        (datetime(2026, 7, 1, 23, 30, tzinfo=UTC), date(2026, 12, 4)),  # BST now, GMT then
        (datetime(2026, 12, 4, 12, 0, tzinfo=UTC), date(2026, 7, 1)),
        (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), date(2026, 10, 25)),  # both change days
        (datetime(2026, 12, 4, 23, 59, tzinfo=UTC), date(2026, 12, 4)),
    ],
)
def test_days_to_lands_on_the_welsh_date_asked_for(now: datetime, day: date) -> None:
    assert wales_date(now + timedelta(days=days_to(now, day))) == day
