"""The auditor's report: one self-contained HTML page with its charts, and the CSV behind them.

Owns which tables the report holds (referrals per month, decisions per stage by deciding unit,
disparity tables per stage), how they are drawn (matplotlib's object API, no pyplot state, as
inline SVG) and the files `nrm report` writes. Every figure comes from `service` already
suppressed; this module counts nothing and must not bypass suppression (a suppressed cell is
drawn as missing, never as a number).
"""

from __future__ import annotations

import html
import io
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template

from matplotlib import rc_context
from matplotlib.figure import Figure
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Forbidden
from app.identity.principal import Principal
from app.identity.roles import Role
from app.referrals.workflow import Stage
from app.reports import service
from app.reports.breakdowns import MONTH
from app.reports.queries import Period
from app.reports.schemas import (
    Breakdown,
    DecisionRow,
    DecisionStatistics,
    DisparityRow,
    DisparityStatistics,
    ReferralRow,
)

TITLE = "Wales NRM: referrals, decisions and disparities"
DISPARITY_BREAKDOWNS = (
    Breakdown.NATIONALITY,
    Breakdown.IMMIGRATION_STATUS,
    Breakdown.SECTOR,
    Breakdown.DECISION_UNIT,
)
STAGE_NAMES = {
    Stage.REASONABLE_GROUNDS: "Reasonable grounds",
    Stage.CONCLUSIVE_GROUNDS: "Conclusive grounds",
}
POSITIVE, NEGATIVE, ACCENT = "#2a7f62", "#c0504d", "#0b4f6c"
SUPPRESSED = "\u2013"  # what a suppressed cell shows
_DRAWING = threading.Lock()


@dataclass(frozen=True)
class ReportData:
    """Every table of the report, already suppressed."""

    period: Period
    threshold: int
    months: list[ReferralRow]
    decisions: dict[Stage, DecisionStatistics]
    disparities: list[DisparityStatistics]


def check_reader(principal: Principal) -> None:
    """The report compares units and immigration status: auditors only (DESIGN §5, §7)."""
    if not principal.has(Role.AUDITOR):
        raise Forbidden("the statistics report is for auditors")


async def gather(session: AsyncSession, *, period: Period, threshold: int) -> ReportData:
    """The report's tables, each one SQL aggregation, as an auditor sees them."""
    view = service.AUDITOR_VIEW
    months = await service.referral_rows(
        session, view, by=MONTH, period=period, threshold=threshold
    )
    decisions = {
        stage: await service.decision_statistics(
            session,
            view,
            by=Breakdown.DECISION_UNIT,
            stage=stage,
            period=period,
            threshold=threshold,
        )
        for stage in Stage
    }
    disparities = [
        await service.disparity_statistics(
            session, view, by=by, stage=stage, period=period, threshold=threshold
        )
        for stage in Stage
        for by in DISPARITY_BREAKDOWNS
    ]
    return ReportData(period, threshold, months, decisions, disparities)


# --- Files ----------------------------------------------------------------------------------


def csv_files(data: ReportData) -> dict[str, str]:
    """The CSV behind each chart and table, by file name."""
    files = {
        "referrals_by_month.csv": service.to_csv(data.months, list(ReferralRow.model_fields)),
    }
    for stage, table in data.decisions.items():
        files[f"decisions_{stage.value}_by_decision_unit.csv"] = service.to_csv(
            table.rows, list(DecisionRow.model_fields)
        )
    for disparities in data.disparities:
        name = f"disparities_{disparities.stage.value}_by_{disparities.by.value}.csv"
        files[name] = service.to_csv(disparities.rows, list(DisparityRow.model_fields))
    return files


def write(data: ReportData, out: Path) -> list[Path]:
    """Write `report.html` and its CSV files into `out`; returns the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in {"report.html": render(data), **csv_files(data)}.items():
        path = out / name
        path.write_text(text, encoding="utf-8", newline="")
        written.append(path)
    return written


# --- The page -------------------------------------------------------------------------------


def render(data: ReportData) -> str:
    """The whole page: self-contained (inline SVG and CSS, no external resource)."""
    template = Template(resources.files("app.reports").joinpath("report.html").read_text("utf-8"))
    return template.substitute(
        title=html.escape(TITLE),
        period_from=data.period.start.isoformat(),
        period_to=data.period.end.isoformat(),
        below=data.threshold - 1,
        alpha=service.ALPHA,
        referrals_chart=_referrals_chart(data),
        referrals_table=_table(data.months, ("count", "duty_to_notify"), "referrals_by_month"),
        outcomes_chart=_outcomes_chart(data),
        decision_tables="\n".join(_decision_section(t) for t in data.decisions.values()),
        time_chart=_time_chart(data),
        disparity_sections="\n".join(_disparity_section(t) for t in data.disparities),
    )


def _cell(value: object, *, suppressed: bool) -> str:
    if value is None:  # suppressed, or a figure the row does not have (a total's p-value)
        return f'<td class="suppressed">{SUPPRESSED}</td>' if suppressed else "<td></td>"
    if isinstance(value, bool):
        return f"<td>{'yes' if value else 'no'}</td>"
    if isinstance(value, float):
        return f"<td>{value:.3g}</td>" if value < 1 else f"<td>{value:.1f}</td>"
    return f"<td>{html.escape(str(value))}</td>"


def _table(rows: Sequence[BaseModel], columns: Sequence[str], csv_name: str) -> str:
    head = "".join(f"<th>{html.escape(c.replace('_', ' '))}</th>" for c in columns)
    body = []
    for row in rows:
        values = row.model_dump()
        classes = " ".join(
            name
            for name, on in (("total", values["group"] is None), ("flagged", values.get("flagged")))
            if on
        )
        cells = "".join(_cell(values[c], suppressed=values["suppressed"]) for c in columns)
        label = html.escape(values["label"] or "")
        body.append(f'<tr class="{classes}"><td class="group">{label}</td>{cells}</tr>')
    return (
        f'<table><thead><tr><th class="group">group</th>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
        f'<p class="csv">Data: <code>{csv_name}.csv</code></p>'
    )


def _decision_section(table: DecisionStatistics) -> str:
    columns: tuple[str, ...] = (
        "count",
        "positive",
        "negative",
        "median_working_days",
        "p90_working_days",
    )
    if table.stage == Stage.REASONABLE_GROUNDS:
        columns += ("met", "missed")
    name = f"decisions_{table.stage.value}_by_decision_unit"
    return f"<h3>{STAGE_NAMES[table.stage]}, by deciding unit</h3>" + _table(
        table.rows, columns, name
    )


def _disparity_section(table: DisparityStatistics) -> str:
    columns: tuple[str, ...] = ("count", "positive", "rate", "ci_low", "ci_high", "p_value")
    columns += ("p_adjusted",)
    columns += ("flagged", "median_working_days", "p90_working_days")
    title = f"{STAGE_NAMES[table.stage]}, by {table.by.value.replace('_', ' ')}"
    overall = "no test" if table.p_value is None else f"p = {table.p_value:.3g}"
    name = f"disparities_{table.stage.value}_by_{table.by.value}"
    return (
        f"<h3>{html.escape(title)}</h3>"
        f'<p class="note">Test of independence: {html.escape(table.test)} ({overall}).</p>'
        f"<figure>{_forest_chart(table)}</figure>" + _table(table.rows, columns, name)
    )


# --- Charts ---------------------------------------------------------------------------------


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


def _referrals_chart(data: ReportData) -> str:
    months = chart_months(data.months)
    by_month = {row.group: row for row in data.months if row.group is not None}
    figure = Figure(figsize=(10, 3.6))
    axes = figure.subplots()
    positions = range(len(months))
    for offset, field, colour, name in (
        (-0.2, "count", ACCENT, "referrals"),
        (0.2, "duty_to_notify", "#8fb8c9", "duty-to-notify reports"),
    ):
        values = [getattr(by_month[m], field) if m in by_month else 0 for m in months]
        axes.bar(
            [p + offset for p in positions], [v or 0 for v in values], 0.4, color=colour, label=name
        )
        hidden = [p + offset for p, v in zip(positions, values, strict=True) if v is None]
        axes.plot(hidden, [0] * len(hidden), "x", color="#555", markersize=6)
    axes.set_xticks(list(positions), months, rotation=45, ha="right")
    axes.set_ylabel("per month")
    axes.legend(
        title=f"x: suppressed (1 to {data.threshold - 1})",
        frameon=False,
        loc="lower left",
        bbox_to_anchor=(0, 1.02),
        ncol=2,
    )
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure)


def _totals(table: DecisionStatistics) -> DecisionRow:
    return table.rows[-1]


def _outcomes_chart(data: ReportData) -> str:
    figure = Figure(figsize=(8, 2.4))
    axes = figure.subplots()
    names = [STAGE_NAMES[stage] for stage in data.decisions]
    totals = [_totals(table) for table in data.decisions.values()]
    positive = [row.positive or 0 for row in totals]
    negative = [row.negative or 0 for row in totals]
    axes.barh(names, positive, color=POSITIVE, label="positive")
    axes.barh(names, negative, left=positive, color=NEGATIVE, label="negative")
    for index, row in enumerate(totals):
        text = (
            "suppressed" if row.suppressed else f"{row.positive} positive, {row.negative} negative"
        )
        axes.text(positive[index] + negative[index], index, f"  {text}", va="center")
    widest = max(p + n for p, n in zip(positive, negative, strict=True))
    axes.set_xlim(0, max(widest, 1) * 1.6)  # room for the words beside the longest bar
    axes.invert_yaxis()
    axes.set_xlabel("decisions in effect")
    axes.legend(frameon=False, loc="lower left", bbox_to_anchor=(0, 1.02), ncol=2)
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure)


def _time_chart(data: ReportData) -> str:
    figure = Figure(figsize=(10, 3.4))
    panels = figure.subplots(1, len(data.decisions), squeeze=False)[0]
    for axes, (stage, table) in zip(panels, data.decisions.items(), strict=True):
        labels = [row.label or "" for row in table.rows]
        positions = range(len(labels))
        medians = [row.median_working_days or 0 for row in table.rows]
        p90s = [row.p90_working_days or 0 for row in table.rows]
        axes.bar([p - 0.2 for p in positions], medians, 0.4, color=ACCENT, label="median")
        axes.bar([p + 0.2 for p in positions], p90s, 0.4, color="#e0a030", label="90th percentile")
        axes.set_xticks(list(positions), labels, rotation=20, ha="right")
        axes.set_title(STAGE_NAMES[stage])
        axes.set_ylabel("working days")
        axes.spines[["top", "right"]].set_visible(False)
    panels[0].legend(frameon=False)
    return _svg(figure)


def _forest_chart(table: DisparityStatistics) -> str:
    rows = [row for row in table.rows if row.group is not None and row.rate is not None]
    if not rows:
        return '<p class="note">No group has a published rate.</p>'
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
    axes.set_yticks(range(len(rows)), [row.label or "" for row in rows])
    axes.invert_yaxis()
    axes.set_xlim(0, 1)
    axes.set_xlabel("positive-decision rate (95% Wilson interval); dashed: all groups")
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure)
