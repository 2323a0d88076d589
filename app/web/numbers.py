"""Numbers as people read them, in the page's language (Babel's CLDR data): counts with
their separators, rates as percentages, p-values with a few significant figures."""

from __future__ import annotations

from typing import Any

from babel.numbers import format_decimal, format_percent

from app.i18n import core


def format_number(value: float | None) -> str:
    """A count or a measure: "1,234", "2.5"; empty for None."""
    if value is None:
        return ""
    return format_decimal(value, format="#,##0.##", locale=core.current_language.get())


def format_rate(value: float | None) -> str:
    """A proportion as a percentage: "42.9%"; empty for None."""
    if value is None:
        return ""
    return format_percent(value, format="#,##0.0%", locale=core.current_language.get())


def format_p(value: float | None) -> str:
    """A p-value: three decimals, or "< 0.001"."""
    if value is None:
        return ""
    if value < 0.001:
        return "< " + format_decimal(0.001, format="0.###", locale=core.current_language.get())
    return format_decimal(value, format="0.000", locale=core.current_language.get())


GLOBALS: dict[str, Any] = {
    "format_number": format_number,
    "format_rate": format_rate,
    "format_p": format_p,
}
"""What a page's context adds so that its template shows numbers in its language."""
