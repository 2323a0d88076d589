"""The statistics report's charts: matplotlib's object API (no pyplot state), drawn as inline
SVG, every word from the catalogues in the current language. A suppressed cell is drawn as
missing, never as a number.
"""

from __future__ import annotations

import html
import io
import threading
from collections.abc import Callable, Mapping, Sequence

from matplotlib import rc_context
from matplotlib.figure import Figure

from app.i18n.core import gettext
from app.referrals.workflow import Stage
from app.reports import report_words as words
from app.reports.schemas import DecisionRow, DecisionStatistics, DisparityStatistics, ReferralRow

POSITIVE, NEGATIVE, ACCENT = "#2a7f62", "#c0504d", "#0b4f6c"
_DRAWING = threading.Lock()
Namer = Callable[[str, str | None, str | None], str]
"""A row's name in the page's language, from its breakdown, group and label."""


def _svg(figure: Figure) -> str:
    """A figure as inline SVG (text kept as text, no timestamp, so the page is small)."""
    buffer = io.StringIO()
    # rc_context changes matplotlib's global settings for a moment: one drawing at a time.
    with _DRAWING, rc_context({"svg.fonttype": "none", "svg.hashsalt": "nrm-report"}):
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def chart_months(rows: Sequence[ReferralRow]) -> list[str]:
    """The months the chart of referrals shows, `YYYY-MM`: from the first to the last month of
    the period that holds a referral or a report, with the empty months between them. The
    rows are the months that hold something, so the chart costs what the data holds, never
    what the period spans (a period from the year 1 once drew 120,000 empty months)."""
    held = sorted(row.group for row in rows if row.group is not None)
    if not held:
        return []
    first, last = (int(m[:4]) * 12 + int(m[5:7]) - 1 for m in (held[0], held[-1]))
    return [f"{index // 12:04d}-{index % 12 + 1:02d}" for index in range(first, last + 1)]


def referrals_chart(rows: Sequence[ReferralRow], threshold: int) -> str:
    months = chart_months(rows)
    by_month = {row.group: row for row in rows if row.group is not None}
    figure = Figure(figsize=(10, 3.6))
    axes = figure.subplots()
    positions = range(len(months))
    for offset, field, colour, name in (
        (-0.2, "count", ACCENT, gettext(words.REFERRALS)),
        (0.2, "duty_to_notify", "#8fb8c9", gettext(words.COLUMNS["duty_to_notify"])),
    ):
        values = [getattr(by_month[m], field) if m in by_month else 0 for m in months]
        axes.bar(
            [p + offset for p in positions], [v or 0 for v in values], 0.4, color=colour, label=name
        )
        hidden = [p + offset for p, v in zip(positions, values, strict=True) if v is None]
        axes.plot(hidden, [0] * len(hidden), "x", color="#555", markersize=6)
    axes.set_xticks(list(positions), months, rotation=45, ha="right")
    axes.set_ylabel(gettext(words.PER_MONTH))
    axes.legend(
        title=gettext(words.SUPPRESSED_MARK) % {"below": threshold - 1},
        frameon=False,
        loc="lower left",
        bbox_to_anchor=(0, 1.02),
        ncol=2,
    )
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure)


def _totals(table: DecisionStatistics) -> DecisionRow:
    return table.rows[-1]


def outcomes_chart(decisions: Mapping[Stage, DecisionStatistics]) -> str:
    figure = Figure(figsize=(8, 2.4))
    axes = figure.subplots()
    stages = [words.stage_name(stage) for stage in decisions]
    totals = [_totals(table) for table in decisions.values()]
    positive = [row.positive or 0 for row in totals]
    negative = [row.negative or 0 for row in totals]
    axes.barh(stages, positive, color=POSITIVE, label=gettext(words.COLUMNS["positive"]))
    axes.barh(
        stages, negative, left=positive, color=NEGATIVE, label=gettext(words.COLUMNS["negative"])
    )
    for index, row in enumerate(totals):
        counts = {"positive": row.positive, "negative": row.negative}
        text = gettext(words.SUPPRESSED if row.suppressed else words.POSITIVE_AND_NEGATIVE)
        text = text if row.suppressed else text % counts
        axes.text(positive[index] + negative[index], index, f"  {text}", va="center")
    widest = max(p + n for p, n in zip(positive, negative, strict=True))
    axes.set_xlim(0, max(widest, 1) * 1.6)  # room for the words beside the longest bar
    axes.invert_yaxis()
    axes.set_xlabel(gettext(words.IN_EFFECT))
    axes.legend(frameon=False, loc="lower left", bbox_to_anchor=(0, 1.02), ncol=2)
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure)


def time_chart(decisions: Mapping[Stage, DecisionStatistics], name: Namer) -> str:
    figure = Figure(figsize=(10, 3.4))
    panels = figure.subplots(1, len(decisions), squeeze=False)[0]
    for axes, (stage, table) in zip(panels, decisions.items(), strict=True):
        groups = [name(table.by, row.group, row.label) for row in table.rows]
        positions = range(len(groups))
        medians = [row.median_working_days or 0 for row in table.rows]
        p90s = [row.p90_working_days or 0 for row in table.rows]
        axes.bar(
            [p - 0.2 for p in positions], medians, 0.4, color=ACCENT, label=gettext(words.MEDIAN)
        )
        axes.bar(
            [p + 0.2 for p in positions],
            p90s,
            0.4,
            color="#e0a030",
            label=gettext(words.PERCENTILE_90),
        )
        axes.set_xticks(list(positions), groups, rotation=20, ha="right")
        axes.set_title(words.stage_name(stage))
        axes.set_ylabel(gettext(words.WORKING_DAYS))
        axes.spines[["top", "right"]].set_visible(False)
    panels[0].legend(frameon=False)
    return _svg(figure)


def forest_chart(table: DisparityStatistics, name: Namer) -> str:
    rows = [row for row in table.rows if row.group is not None and row.rate is not None]
    if not rows:
        return f'<p class="note">{html.escape(gettext(words.NO_RATE))}</p>'
    figure = Figure(figsize=(8, 0.5 + 0.35 * len(rows)))
    axes = figure.subplots()
    for index, row in enumerate(rows):
        colour = NEGATIVE if row.flagged else ACCENT
        low, high = row.ci_low or 0.0, row.ci_high or 0.0
        axes.plot([low, high], [index, index], color=colour, linewidth=2)
        axes.plot([row.rate or 0.0], [index], "o", color=colour)
    overall = table.rows[-1].rate
    if overall is not None:
        axes.axvline(overall, color="#777", linestyle="--", linewidth=1)
    axes.set_yticks(range(len(rows)), [name(table.by, row.group, row.label) for row in rows])
    axes.invert_yaxis()
    axes.set_xlim(0, 1)
    axes.set_xlabel(gettext(words.RATE_AXIS))
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure)
