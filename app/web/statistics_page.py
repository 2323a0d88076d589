"""`/statistics`: the statistics tables, a chart, the disparity table, CSV and the report
(WEB.md "Pages"), for auditors and, about their own unit, senior decision makers.

Every figure comes from the API's own route functions of `app.reports.router`
(`referral_statistics`, `decision_statistics`, `disparity_statistics`, `statistics_report`),
so the order of checks (403 for another role or, for a senior, by immigration status; then
422 for a breakdown a table lacks or a period too long), the suppression and the CSV are the
API's. Like the API they read in a read-only session of their own. The page names each group
in its language (organisations, councils, countries, codes); the CSV is the API's, byte for
byte. The report is the API's document, served here to a signed-in auditor in the page's
language.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import HTMLResponse, Response

from app import labels
from app.db import read_only_session
from app.errors import FieldError, ValidationFailed
from app.http import RequestNow, get_app_sessions
from app.i18n import core
from app.i18n.core_noop import N_
from app.identity.permissions import Permission
from app.identity.roles import Role
from app.referrals.workflow import Stage
from app.reports import names, service
from app.reports import router as reports_api
from app.reports.schemas import Breakdown, OutputFormat
from app.web import chart, numbers, oversight_words
from app.web.forms import FormErrors, FormValues
from app.web.language_links import switch_language_url
from app.web.pages import Page, PageRoute, signed_in
from app.web.referral_fields import date_of

router = APIRouter(route_class=PageRoute)
Statistician = Annotated[Page, Depends(signed_in(Permission.READ_STATISTICS))]
TABLES = ("referrals", "decisions", "disparities")
PARAMETERS = (
    "table",
    "by",
    "stage",
    *(f"{d}.{p}" for d in ("from", "to") for p in ("day", "month", "year")),
)
CHOOSE_TABLE = N_("Choose a table from the list")
CHOOSE_BY = N_("Choose a breakdown from the list")
CHOOSE_STAGE = N_("Choose a stage from the list")
SUPPRESSED = N_("suppressed")
REPORT_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'none'"
)
"""The report is the API's self-contained page, with its CSS inline: it may have inline styles,
and no script at all."""


@dataclass(frozen=True)
class Asked:
    """What the form asks for, in the API's terms."""

    table: str
    by: Breakdown
    stage: Stage
    date_from: date | None
    date_to: date | None


def asked_of(values: FormValues, errors: FormErrors) -> Asked | None:
    """The table, breakdown, stage and period the form asks for; None with `errors` added."""
    table = values.get("table") or "referrals"
    if table not in TABLES:
        errors.add("table", core.gettext(CHOOSE_TABLE))
    by = _breakdown(values.get("by") or Breakdown.SECTOR.value)
    if by is None:
        errors.add("by", core.gettext(CHOOSE_BY))
    stage = _stage(values.get("stage") or Stage.REASONABLE_GROUNDS.value)
    if stage is None:
        errors.add("stage", core.gettext(CHOOSE_STAGE))
    dates = {name: date_of(values, name, errors) for name in ("from", "to")}
    if errors or by is None or stage is None:
        return None
    return Asked(table, by, stage, dates["from"], dates["to"])


def _breakdown(value: str) -> Breakdown | None:
    return Breakdown(value) if value in set(Breakdown) else None


def _stage(value: str) -> Stage | None:
    return Stage(value) if value in set(Stage) else None


def read_only(page: Page) -> AbstractAsyncContextManager[AsyncSession]:
    """A session of its own that writes nothing, as the API's `ReadOnlyDbSession`."""
    return read_only_session(get_app_sessions(page.request))


async def _document(
    session: AsyncSession, page: Page, now: datetime, asked: Asked, table: str, output: OutputFormat
) -> Any:
    """The API's answer for one table: its document, or with `output` CSV its response."""
    args = (session, page.settings, page.actor, now, asked.by, asked.date_from, asked.date_to)
    if table == "referrals":
        return await reports_api.referral_statistics(*args, output=output)
    if table == "decisions":
        return await reports_api.decision_statistics(*args, stage=asked.stage, output=output)
    return await reports_api.disparity_statistics(*args, stage=asked.stage, output=output)


@router.get("/statistics")
async def statistics(page: Statistician, now: RequestNow) -> Response:
    """The chosen table with its chart, the disparity table, the CSV and the report links."""
    values = FormValues.of(page.request.query_params)
    errors = FormErrors(anchors={"from": "from.day", "to": "to.day"})
    asked = asked_of(values, errors)
    viewer = service.viewer_of(page.actor)  # 403 for a role that may not, as the API
    if asked is None or asked.table == "disparities":
        if asked is not None:
            errors.add("table", core.gettext(CHOOSE_TABLE))
        return _rendered(page, values, errors, viewer, status_code=422)
    try:
        async with read_only(page) as session:
            main = await _document(session, page, now, asked, asked.table, OutputFormat.JSON)
            gaps = await _document(session, page, now, asked, "disparities", OutputFormat.JSON)
            named = await names.group_names(session, asked.by, [r.group for r in main.rows])
    except ValidationFailed as exc:
        errors.add_problem(exc)
        return _rendered(page, values, errors, viewer, status_code=422)
    return _rendered(page, values, errors, viewer, asked=asked, main=main, gaps=gaps, named=named)


@router.get("/statistics.csv")
async def statistics_csv(page: Statistician, now: RequestNow) -> Response:
    """The API's CSV of a table (`table` referrals, decisions or disparities): the same
    columns, figures, suppression and file name as `?format=csv` on the API."""
    values = FormValues.of(page.request.query_params)
    errors = FormErrors()
    asked = asked_of(values, errors)
    if asked is None:
        raise ValidationFailed("the statistics asked for are not valid", errors=_fields(errors))
    async with read_only(page) as session:
        answer: Response = await _document(session, page, now, asked, asked.table, OutputFormat.CSV)
    page.finish(answer)
    return answer


@router.get("/statistics/report")
async def statistics_report(page: Statistician, now: RequestNow) -> Response:
    """The API's report of a period (auditors only, as the API), as a page of its own, with
    the link to the other language that every page has."""
    params = page.request.query_params
    period = {name: _iso_date(params.get(name), name) for name in ("from", "to")}
    other = core.WELSH if page.language == core.ENGLISH else core.ENGLISH
    async with read_only(page) as session:
        document = await reports_api.report_page(
            session,
            page.settings,
            page.actor,
            now,
            period["from"],
            period["to"],
            other_language_url=switch_language_url(page.request, other),
        )
    answer = HTMLResponse(document)
    page.finish(answer)
    answer.headers["Content-Security-Policy"] = REPORT_POLICY
    return answer


def _iso_date(text: str | None, name: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(
            "the period is not valid",
            errors=[FieldError(name, "must be a date such as 2026-12-04")],
        ) from None


def _fields(errors: FormErrors) -> list[FieldError]:
    return [FieldError(name or "query", message) for name, message in errors.items]


def _rendered(
    page: Page,
    values: FormValues,
    errors: FormErrors,
    viewer: service.Viewer,
    *,
    asked: Asked | None = None,
    main: Any = None,
    gaps: Any = None,
    named: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    name = _namer(named or {})
    kept = [(k, v) for k, v in page.request.query_params.multi_items() if k in PARAMETERS and v]
    if asked is not None and not values.get("table"):
        kept.insert(0, ("table", asked.table))
    auditor = page.actor.has(Role.AUDITOR)
    return page.render(
        "statistics.html",
        status_code=status_code,
        values=values,
        errors=errors,
        asked=asked,
        main=main,
        gaps=gaps,
        name=name,
        chart=_chart(main, name) if main is not None else None,
        breakdowns=_breakdowns(viewer),
        tables=[(code, core.gettext(text)) for code, text in oversight_words.TABLES.items()],
        stages=labels.choices("stage"),
        by_name=core.gettext(names.BREAKDOWNS[asked.by]) if asked else "",
        csv_url=lambda table: (
            "/statistics.csv?"
            + urlencode([("table", table), *[(k, v) for k, v in kept if k != "table"]])
        ),
        report_url=_report_url(main) if main is not None and auditor else None,
        threshold=page.settings.suppression_threshold,
        senior_view=not auditor,
        **numbers.GLOBALS,
    )


def _namer(found: dict[str, str]) -> Callable[[Any], str]:
    """A row's name in the page's language; the totals row is "Total"."""

    def name(row: Any) -> str:
        if row.group is None:
            return core.gettext(names.TOTAL)
        return found.get(row.group) or row.label or row.group

    return name


def _chart(main: Any, name: Callable[[Any], str]) -> chart.Chart:
    """The table's groups as bars (the totals row left out), suppressed counts marked."""
    return chart.bar_chart(
        [(name(r), r.count) for r in main.rows if r.group is not None],
        show=numbers.format_number,
        suppressed=core.gettext(SUPPRESSED),
    )


def _breakdowns(viewer: service.Viewer) -> list[tuple[str, str]]:
    """The breakdowns this person may choose (never immigration status for a senior)."""
    return [
        (b.value, core.gettext(names.BREAKDOWNS[b]))
        for b in Breakdown
        if b != Breakdown.IMMIGRATION_STATUS or viewer.may_compare_immigration
    ]


def _report_url(main: Any) -> str:
    period = {"from": main.date_from.isoformat(), "to": main.date_to.isoformat()}
    return "/statistics/report?" + urlencode(period)
