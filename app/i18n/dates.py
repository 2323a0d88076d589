"""Dates in either language, as people write them: "4 December 2026", "4 Rhagfyr 2026".

The pages' templates, the statistics report and whoever else writes a date for a person read
the current language from `app.i18n.core` (Babel's CLDR month names). Framework-free.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime

from app.i18n import core

WALES = ZoneInfo("Europe/London")


def format_date(value: date | None) -> str:
    """A date as people write it, in the current language: "4 December 2026", "4 Rhagfyr 2026"."""
    if value is None:
        return ""
    return babel_format_date(value, "d MMMM y", locale=core.current_language.get())


def format_month(value: date) -> str:
    """The month of a date, in the current language: "December 2026", "Rhagfyr 2026"."""
    return babel_format_date(value, "LLLL y", locale=core.current_language.get())


def format_datetime(value: datetime | None) -> str:
    """A moment in Wales's time, in the current language: "4 Rhagfyr 2026, 14:03"."""
    if value is None:
        return ""
    language = core.current_language.get()
    return babel_format_datetime(value, "d MMMM y, HH:mm", tzinfo=WALES, locale=language)
