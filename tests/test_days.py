"""Welsh working days: known answers worked out by hand from the calendar, and a property.

Bank holidays used below (England and Wales):
  2026: Fri 25 Dec Christmas Day; Sat 26 Dec Boxing Day, so Mon 28 Dec is the substitute.
  2027: Fri 1 Jan New Year; Fri 26 Mar Good Friday; Mon 29 Mar Easter Monday; Mon 3 May early
        May; Mon 31 May spring; Mon 30 Aug summer; Sat 25 and Sun 26 Dec, so Mon 27 and Tue 28
        Dec are the substitutes.
  2028: Sat 1 Jan New Year, so Mon 3 Jan is the substitute.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.days import (
    WALES,
    add_working_days,
    is_working_day,
    met,
    wales_date,
    working_days_between,
)


class TestWalesDate:
    def test_late_evening_utc_in_summer_time_is_already_the_next_day_in_wales(self) -> None:
        # 23:30 UTC on Tue 31 March 2026 is 00:30 BST on Wed 1 April (BST began 29 March).
        assert wales_date(datetime(2026, 3, 31, 23, 30, tzinfo=UTC)) == date(2026, 4, 1)

    def test_late_evening_utc_in_winter_is_the_same_day_in_wales(self) -> None:
        # In GMT, Wales is on UTC: 23:30 UTC on 15 January 2026 is still 15 January.
        assert wales_date(datetime(2026, 1, 15, 23, 30, tzinfo=UTC)) == date(2026, 1, 15)

    def test_converts_from_any_offset(self) -> None:
        # 01:00 on 1 July 2026 at UTC+05:00 is 20:00 UTC on 30 June, 21:00 BST on 30 June.
        moment = datetime(2026, 7, 1, 1, 0, tzinfo=timezone(timedelta(hours=5)))
        assert wales_date(moment) == date(2026, 6, 30)

    def test_refuses_a_naive_datetime(self) -> None:
        with pytest.raises(ValueError):
            wales_date(datetime(2026, 3, 31, 23, 30))

    def test_wales_is_the_europe_london_zone(self) -> None:
        assert str(WALES) == "Europe/London"


class TestIsWorkingDay:
    @pytest.mark.parametrize(
        "day",
        [
            date(2027, 1, 16),  # Saturday
            date(2027, 1, 17),  # Sunday
            date(2026, 12, 25),  # Christmas Day, a Friday
            date(2026, 12, 28),  # Monday, substitute for Boxing Day on Saturday
            date(2027, 3, 26),  # Good Friday
            date(2027, 3, 29),  # Easter Monday
            date(2027, 5, 3),  # early May bank holiday
            date(2027, 5, 31),  # spring bank holiday
            date(2028, 1, 3),  # Monday, substitute for New Year's Day on Saturday
            date(2023, 5, 8),  # one-off: coronation of Charles III
        ],
    )
    def test_refuses_weekends_and_bank_holidays(self, day: date) -> None:
        assert is_working_day(day) is False

    @pytest.mark.parametrize(
        "day",
        [
            date(2027, 1, 19),  # an ordinary Tuesday
            date(2026, 12, 24),  # Christmas Eve is not a bank holiday
            date(2027, 3, 25),  # the Thursday before Good Friday
            date(2027, 3, 17),  # St Patrick's Day: a bank holiday in Northern Ireland only
            date(2027, 3, 1),  # St David's Day, a Monday: not a bank holiday in Wales
        ],
    )
    def test_accepts_ordinary_weekdays(self, day: date) -> None:
        assert is_working_day(day) is True


class TestAddWorkingDays:
    def test_a_referral_filed_on_friday_27_november_2026_is_due_on_friday_4_december(
        self,
    ) -> None:
        # Mon 30 Nov (1), Tue 1 Dec (2), Wed 2 (3), Thu 3 (4), Fri 4 (5): API.md's own example.
        assert add_working_days(date(2026, 11, 27), 5) == date(2026, 12, 4)

    def test_skips_christmas_and_the_boxing_day_substitute(self) -> None:
        # From Tue 22 Dec 2026: Wed 23 (1), Thu 24 (2), [Fri 25, Sat 26, Sun 27, Mon 28],
        # Tue 29 (3), Wed 30 (4), Thu 31 (5).
        assert add_working_days(date(2026, 12, 22), 5) == date(2026, 12, 31)

    def test_skips_new_years_day_2027(self) -> None:
        # From Thu 31 Dec 2026: [Fri 1 Jan, Sat 2, Sun 3], Mon 4 (1) ... Fri 8 (5).
        assert add_working_days(date(2026, 12, 31), 5) == date(2027, 1, 8)

    def test_skips_both_christmas_substitutes_and_the_new_year_substitute(self) -> None:
        # From Fri 24 Dec 2027: [Sat 25, Sun 26, Mon 27, Tue 28], Wed 29 (1), Thu 30 (2),
        # Fri 31 (3), [Sat 1 Jan, Sun 2, Mon 3], Tue 4 (4), Wed 5 (5).
        assert add_working_days(date(2027, 12, 24), 5) == date(2028, 1, 5)

    def test_skips_good_friday_and_easter_monday(self) -> None:
        # From Wed 24 Mar 2027: Thu 25 (1), [Fri 26, Sat, Sun, Mon 29], Tue 30 (2), Wed 31 (3),
        # Thu 1 Apr (4), Fri 2 Apr (5).
        assert add_working_days(date(2027, 3, 24), 5) == date(2027, 4, 2)

    def test_skips_the_early_may_bank_holiday(self) -> None:
        # From Thu 29 Apr 2027: Fri 30 (1), [Sat, Sun, Mon 3 May], Tue 4 (2) ... Fri 7 (5).
        assert add_working_days(date(2027, 4, 29), 5) == date(2027, 5, 7)

    def test_skips_the_spring_bank_holiday(self) -> None:
        # From Wed 26 May 2027: Thu 27 (1), Fri 28 (2), [Sat, Sun, Mon 31], Tue 1 Jun (3),
        # Wed 2 (4), Thu 3 (5).
        assert add_working_days(date(2027, 5, 26), 5) == date(2027, 6, 3)

    def test_skips_a_weekend(self) -> None:
        # From Wed 13 Jan 2027: Thu 14 (1), Fri 15 (2), [Sat, Sun], Mon 18 (3), Tue 19 (4),
        # Wed 20 (5).
        assert add_working_days(date(2027, 1, 13), 5) == date(2027, 1, 20)

    def test_counts_from_a_weekend_start_without_counting_it(self) -> None:
        # From Sat 16 Jan 2027: [Sun 17], Mon 18 (1) ... Fri 22 (5).
        assert add_working_days(date(2027, 1, 16), 5) == date(2027, 1, 22)

    def test_one_working_day_after_a_friday_is_the_monday(self) -> None:
        assert add_working_days(date(2027, 1, 15), 1) == date(2027, 1, 18)

    def test_zero_days_returns_the_start(self) -> None:
        assert add_working_days(date(2027, 1, 16), 0) == date(2027, 1, 16)

    def test_refuses_a_negative_number_of_days(self) -> None:
        with pytest.raises(ValueError):
            add_working_days(date(2027, 1, 13), -1)


class TestWorkingDaysBetween:
    def test_the_same_day_is_zero(self) -> None:
        assert working_days_between(date(2027, 1, 13), date(2027, 1, 13)) == 0

    def test_an_end_before_the_start_is_zero(self) -> None:
        assert working_days_between(date(2027, 1, 20), date(2027, 1, 13)) == 0

    def test_counts_the_end_but_not_the_start(self) -> None:
        # Wed 13 -> Thu 14 Jan 2027: only Thu 14 counts.
        assert working_days_between(date(2027, 1, 13), date(2027, 1, 14)) == 1

    def test_friday_to_monday_is_one(self) -> None:
        # Fri 15 -> Mon 18 Jan 2027: Sat and Sun skipped, Mon counts.
        assert working_days_between(date(2027, 1, 15), date(2027, 1, 18)) == 1

    def test_a_weekend_alone_is_zero(self) -> None:
        assert working_days_between(date(2027, 1, 15), date(2027, 1, 17)) == 0

    def test_across_christmas_2026(self) -> None:
        # Tue 22 -> Thu 31 Dec 2026: Wed 23, Thu 24, Tue 29, Wed 30, Thu 31.
        assert working_days_between(date(2026, 12, 22), date(2026, 12, 31)) == 5

    def test_counts_the_working_days_of_a_whole_year(self) -> None:
        # 2027 starts on a Friday and has 365 days: 52 weeks + 1 Friday = 261 weekdays, less the
        # 8 bank holidays on weekdays (1 Jan, 26 Mar, 29 Mar, 3 May, 31 May, 30 Aug, 27 and 28
        # Dec; 25 and 26 Dec fall at the weekend) = 253.
        assert working_days_between(date(2026, 12, 31), date(2027, 12, 31)) == 253

    def test_ignores_a_bank_holiday_on_the_start_date(self) -> None:
        # From Good Friday 26 Mar 2027 to Tue 30 Mar: only Tue 30 counts.
        assert working_days_between(date(2027, 3, 26), date(2027, 3, 30)) == 1


def due_after(moment: datetime, days: int) -> date:
    """How every deadline is set: `days` working days after the moment's date in Wales."""
    return add_working_days(wales_date(moment), days)


class TestDueAfter:
    def test_counts_from_the_date_in_wales(self) -> None:
        # 23:30 UTC on Tue 31 Mar 2026 is Wed 1 Apr in Wales. From 1 Apr: Thu 2 (1), [Good
        # Friday 3, Sat, Sun, Easter Monday 6], Tue 7 (2), Wed 8 (3), Thu 9 (4), Fri 10 (5).
        # Counting from the UTC date (31 Mar) would give Thu 9 April instead.
        assert due_after(datetime(2026, 3, 31, 23, 30, tzinfo=UTC), 5) == date(2026, 4, 10)

    def test_api_example_filed_friday_27_november_2026(self) -> None:
        assert due_after(datetime(2026, 11, 27, 14, 3, tzinfo=UTC), 5) == date(2026, 12, 4)

    def test_refuses_a_naive_moment(self) -> None:
        with pytest.raises(ValueError):
            due_after(datetime(2026, 11, 27, 14, 3), 5)


class TestMet:
    def test_met_before_the_due_date(self) -> None:
        assert met(date(2026, 12, 3), date(2026, 12, 4)) is True

    def test_met_on_the_due_date(self) -> None:
        assert met(date(2026, 12, 4), date(2026, 12, 4)) is True

    def test_missed_after_the_due_date(self) -> None:
        assert met(date(2026, 12, 7), date(2026, 12, 4)) is False

    @pytest.mark.parametrize(
        ("on", "due"), [(None, date(2026, 12, 4)), (date(2026, 12, 4), None), (None, None)]
    )
    def test_unknown_when_either_date_is_missing(self, on: date | None, due: date | None) -> None:
        assert met(on, due) is None


class TestProperties:
    @settings(max_examples=100, deadline=None)
    @given(
        start=st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)),
        n=st.integers(min_value=0, max_value=60),
    )
    def test_counting_back_the_working_days_added_gives_n(self, start: date, n: int) -> None:
        due = add_working_days(start, n)
        assert working_days_between(start, due) == n
        if n > 0:
            assert is_working_day(due)
            # The Nth working day, not a later one: the day before holds only n - 1.
            assert working_days_between(start, due - timedelta(days=1)) == n - 1
