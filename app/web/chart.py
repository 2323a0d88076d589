"""A horizontal bar chart, laid out here and drawn by `_chart.html` as inline SVG.

The page's table is the chart's text alternative; the SVG has `role="img"` with a title and a
description, and every word on it (group names, "suppressed") comes from the catalogues through
the caller. Colours and sizes are SVG attributes, never `style` (the pages' Content Security
Policy allows no inline style). A suppressed cell is drawn as no bar and marked, never as a
number (docs/statistics.md "Disclosure control"). Pure: no FastAPI, no SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

LABEL_WIDTH = 300
BAR_WIDTH = 360
VALUE_WIDTH = 120
ROW_HEIGHT = 28
BAR_HEIGHT = 18
TOP = 8


@dataclass(frozen=True, slots=True)
class Bar:
    """One group's bar: where to draw it and what to write beside it."""

    label: str
    value: int | None  # None when suppressed
    y: int
    width: int
    text: str  # the number, or the word for a suppressed cell

    @property
    def text_y(self) -> int:
        return self.y + BAR_HEIGHT - 4


@dataclass(frozen=True, slots=True)
class Chart:
    bars: list[Bar]
    height: int
    label_width: int = LABEL_WIDTH
    bar_width: int = BAR_WIDTH

    @property
    def width(self) -> int:
        return LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH

    @property
    def bar_x(self) -> int:
        return LABEL_WIDTH

    @property
    def axis_x(self) -> int:
        return LABEL_WIDTH - 1


def bar_chart(
    rows: Sequence[tuple[str, int | None]], *, show: Callable[[int], str], suppressed: str
) -> Chart:
    """Bars for (label, value) rows, scaled to the largest value; `show` writes a value in
    the page's language, `suppressed` is the word for a suppressed cell."""
    largest = max((v for _, v in rows if v), default=0)
    bars = []
    for index, (label, value) in enumerate(rows):
        width = round(BAR_WIDTH * value / largest) if value and largest else 0
        text = suppressed if value is None else show(value)
        bars.append(Bar(_short(label), value, TOP + index * ROW_HEIGHT, width, text))
    return Chart(bars=bars, height=TOP * 2 + len(rows) * ROW_HEIGHT)


def _short(label: str, longest: int = 40) -> str:
    """A label that fits beside its bar (the table below gives it in full)."""
    return label if len(label) <= longest else label[: longest - 1] + "\u2026"
