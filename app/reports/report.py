"""The auditor's report: one self-contained HTML page with its charts, and the CSV behind them.

Owns which tables the report holds (referrals per month, decisions per stage by deciding unit,
disparity tables per stage) and the files `nrm report` writes; `report_charts` draws them and
`report_words` holds every word. The page is in the language of the request that gathered it
(Welsh or English, as the pages; `nrm report --language cy`); its numbers read the same in both,
and its CSV files keep the API's columns and English labels. Every figure comes from `service`
already suppressed; this module counts nothing and must not bypass suppression (a suppressed cell is
drawn as missing, never as a number).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from string import Template

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Forbidden
from app.i18n import core
from app.i18n.core import gettext
from app.i18n.dates import format_date, format_month
from app.identity.principal import Principal
from app.identity.roles import Role
from app.referrals.workflow import Stage
from app.reports import names, service
from app.reports import report_charts as charts
from app.reports import report_words as words
from app.reports.breakdowns import MONTH
from app.reports.queries import Period
from app.reports.report_charts import Namer
from app.reports.schemas import (
    Breakdown,
    DecisionRow,
    DecisionStatistics,
    DisparityRow,
    DisparityStatistics,
    ReferralRow,
)

DISPARITY_BREAKDOWNS = (
    Breakdown.NATIONALITY,
    Breakdown.IMMIGRATION_STATUS,
    Breakdown.SECTOR,
    Breakdown.DECISION_UNIT,
)
SUPPRESSED = "\u2013"  # what a suppressed cell shows


@dataclass(frozen=True)
class ReportData:
    """Every table of the report, already suppressed."""

    period: Period
    threshold: int
    months: list[ReferralRow]
    decisions: dict[Stage, DecisionStatistics]
    disparities: list[DisparityStatistics]
    language: str
    """The language of the request that gathered the tables: the page is written in it."""
    names: dict[str, dict[str, str]]
    """Each breakdown's group names in that language, by group code."""


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
    named: dict[str, dict[str, str]] = {}
    tables: list[DecisionStatistics | DisparityStatistics] = [*decisions.values(), *disparities]
    for table in tables:
        found = await names.group_names(session, table.by, [row.group for row in table.rows])
        named.setdefault(table.by, {}).update(found)
    language = core.current_language.get()
    return ReportData(period, threshold, months, decisions, disparities, language, named)


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


LANGUAGE_NAMES = {core.ENGLISH: "English", core.WELSH: "Cymraeg"}
"""The language link's text: each language's name in itself, as on every page."""


def render(data: ReportData, other_language_url: str | None = None) -> str:
    """The whole page in the data's language: self-contained (inline SVG and CSS, no external
    resource). Numbers are written the same in both languages. Served as a page of the web
    service, it has the pages' link to the other language (`other_language_url`, the same
    report in it); the API's document and `nrm report`'s file have none (the API follows
    `Accept-Language`, not `?lang`)."""
    token = core.current_language.set(data.language)
    try:
        return _page(data, other_language_url)
    finally:
        core.current_language.reset(token)


def _language_link(data: ReportData, url: str | None) -> str:
    if url is None:
        return ""
    other = core.WELSH if data.language == core.ENGLISH else core.ENGLISH
    href = html.escape(url, quote=True)
    name = LANGUAGE_NAMES[other]
    return (
        f'<header><p class="language"><a href="{href}" hreflang="{other}" lang="{other}">'
        f"{name}</a></p></header>\n"
    )


def _say(message: str, **parts: object) -> str:
    """A message in the current language, HTML-escaped, its parts put in."""
    text = gettext(message)
    return html.escape(text % parts if parts else text, quote=False)


def _page(data: ReportData, other_language_url: str | None = None) -> str:
    template = Template(resources.files("app.reports").joinpath("report.html").read_text("utf-8"))
    period = {"start": format_date(data.period.start), "end": format_date(data.period.end)}
    document = "\x00"  # a mark for the code element, put in after escaping
    suppression = _say(words.SUPPRESSION, below=data.threshold - 1, document=document)
    months = _table(data.months, ("count", "duty_to_notify"), "referrals_by_month", _namer(data))
    return template.substitute(
        lang=data.language,
        language_link=_language_link(data, other_language_url),
        title=_say(words.TITLE),
        lede=_say(words.PERIOD, **period),
        suppression=suppression.replace(document, "<code>docs/statistics.md</code>"),
        h_referrals=_say(words.REFERRALS_OVER_TIME),
        h_outcomes=_say(words.OUTCOMES),
        h_time=_say(words.TIME_TO_DECISION),
        time_note=_say(words.TIME_NOTE),
        h_disparities=_say(words.DISPARITIES),
        disparity_note=_say(words.DISPARITY_NOTE, alpha=service.ALPHA),
        referrals_chart=charts.referrals_chart(data.months, data.threshold),
        referrals_table=months,
        outcomes_chart=charts.outcomes_chart(data.decisions),
        decision_tables="\n".join(_decision_section(data, t) for t in data.decisions.values()),
        time_chart=charts.time_chart(data.decisions, _namer(data)),
        disparity_sections="\n".join(_disparity_section(data, t) for t in data.disparities),
    )


def _namer(data: ReportData) -> Namer:
    """A row's name in the page's language: "Total", a month, a group's name."""

    def name(by: str, group: str | None, label: str | None) -> str:
        if group is None:
            return gettext(names.TOTAL)
        if by == MONTH:
            return format_month(date.fromisoformat(f"{group}-01"))
        return data.names.get(by, {}).get(group) or label or group

    return name


def _cell(value: object, *, suppressed: bool) -> str:
    if value is None:  # suppressed, or a figure the row does not have (a total's p-value)
        return f'<td class="suppressed">{SUPPRESSED}</td>' if suppressed else "<td></td>"
    if isinstance(value, bool):
        return f"<td>{_say(words.YES if value else words.NO)}</td>"
    if isinstance(value, float):
        return f"<td>{value:.3g}</td>" if value < 1 else f"<td>{value:.1f}</td>"
    return f"<td>{html.escape(str(value))}</td>"


def _table(
    rows: Sequence[BaseModel],
    columns: Sequence[str],
    csv_name: str,
    name: Namer,
    by: str = MONTH,
) -> str:
    heads = {"count": words.REFERRALS if by == MONTH else words.DECISIONS, **words.COLUMNS}
    head = "".join(f"<th>{_say(heads[c])}</th>" for c in columns)
    group = _say(words.MONTH) if by == MONTH else html.escape(names.breakdown_name(Breakdown(by)))
    body = []
    for row in rows:
        values = row.model_dump()
        classes = " ".join(
            name
            for name, on in (("total", values["group"] is None), ("flagged", values.get("flagged")))
            if on
        )
        cells = "".join(_cell(values[c], suppressed=values["suppressed"]) for c in columns)
        label = html.escape(name(by, values["group"], values["label"]))
        body.append(f'<tr class="{classes}"><td class="group">{label}</td>{cells}</tr>')
    return (
        f'<table><thead><tr><th class="group">{group}</th>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
        f'<p class="csv">{_say(words.DATA, file=chr(0))}</p>'.replace(
            chr(0), f"<code>{csv_name}.csv</code>"
        )
    )


def _decision_section(data: ReportData, table: DecisionStatistics) -> str:
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
    title = _say(words.BY_DECISION_UNIT, stage=words.stage_name(table.stage))
    return f"<h3>{title}</h3>" + _table(table.rows, columns, name, _namer(data), table.by)


def _disparity_section(data: ReportData, table: DisparityStatistics) -> str:
    columns: tuple[str, ...] = ("count", "positive", "rate", "ci_low", "ci_high", "p_value")
    columns += ("p_adjusted",)
    columns += ("flagged", "median_working_days", "p90_working_days")
    by = names.breakdown_name(table.by).lower()
    title = _say(words.BY, stage=words.stage_name(table.stage), by=by)
    if table.p_value is None:
        overall = _say(words.UNTESTED)
    else:
        overall = _say(words.TESTED, test=table.test, p=f"{table.p_value:.3g}")
    name = f"disparities_{table.stage.value}_by_{table.by.value}"
    return (
        f'<h3>{title}</h3><p class="note">{overall}</p>'
        f"<figure>{charts.forest_chart(table, _namer(data))}</figure>"
        + _table(table.rows, columns, name, _namer(data), table.by)
    )
