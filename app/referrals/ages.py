"""Age and childhood (DESIGN §4): one rule for the intake and the age assessment alike."""

from __future__ import annotations

from datetime import date

ADULT_AGE = 18
MAX_AGE_YEARS = 120


def age_on(date_of_birth: date, day: date) -> int:
    """Whole years of age on a day."""
    before_birthday = (day.month, day.day) < (date_of_birth.month, date_of_birth.day)
    return day.year - date_of_birth.year - int(before_birthday)


def is_child(date_of_birth: date | None, estimated_age: int | None, today: date) -> bool:
    """The date of birth wins, else the estimate; an unknown age is presumed a child."""
    if date_of_birth is not None:
        return age_on(date_of_birth, today) < ADULT_AGE
    if estimated_age is not None:
        return estimated_age < ADULT_AGE
    return True
