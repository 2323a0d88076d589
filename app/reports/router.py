"""Routes of the reports feature: the statistics tables (JSON or CSV) and the auditor's report.

Parses the query, applies the order of checks of API.md (401 → 403 → 422), calls one service
function and presents its document. Holds no rule and no query: who sees what is
`service.viewer_of`, the figures come from `service`, the page from `report`. Every route reads
through `ReadOnlyDbSession`: statistics write nothing, so on SQLite they never wait for a writer.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, TypeVar

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, Response

from app.days import wales_date
from app.http import AppSettings, ReadOnlyDbSession, RequestNow
from app.identity.deps import Requires
from app.identity.permissions import Permission
from app.identity.principal import Principal
from app.referrals.workflow import Stage
from app.reports import report, service
from app.reports.queries import Period
from app.reports.schemas import (
    REFERRAL_BREAKDOWNS,
    Breakdown,
    DecisionRow,
    DecisionStatistics,
    DisparityRow,
    DisparityStatistics,
    OutputFormat,
    ReferralRow,
    ReferralStatistics,
)
from app.routing import api_router
from app.settings import Settings

router = api_router(tags=["reports"])

Statistician = Annotated[Principal, Requires(Permission.READ_STATISTICS)]
DateFrom = Annotated[date | None, Query(alias="from", description="inclusive; default 1 January")]
DateTo = Annotated[date | None, Query(alias="to", description="inclusive; default today")]
By = Annotated[Breakdown, Query(description="what the rows are")]
Format = Annotated[OutputFormat, Query(alias="format")]
StageParam = Annotated[Stage, Query(description="the decision stage of the table")]
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"


def _period(
    settings: Settings, date_from: date | None, date_to: date | None, now: datetime
) -> Period:
    """The period asked for (422 past `NRM_STATISTICS_MAX_SPAN_DAYS`), in Welsh dates."""
    longest = settings.statistics_max_span_days
    return service.period_of(date_from, date_to, wales_date(now), max_span_days=longest)


def _asked(
    settings: Settings,
    principal: Principal,
    by: Breakdown,
    allowed: frozenset[Breakdown],
    date_from: date | None,
    date_to: date | None,
    now: datetime,
) -> tuple[service.Viewer, Period]:
    """Who asks and for which period, checked in API.md's order: the breakdown (403 for a
    senior decision maker by immigration status, 422 for one the table lacks) before the
    period (422). The service checks the breakdown again for its other callers."""
    viewer = service.viewer_of(principal)
    service.check_breakdown(by, viewer, allowed=allowed)
    return viewer, _period(settings, date_from, date_to, now)


Document = TypeVar("Document", ReferralStatistics, DecisionStatistics, DisparityStatistics)


def _table(
    document: Document, row_type: type[BaseModel], output: OutputFormat, name: str
) -> Document | Response:
    if output == OutputFormat.JSON:
        return document  # serialised through the route's declared response model
    filename = f"{name}-by-{document.by.value}-{document.date_from}-{document.date_to}.csv"
    return Response(
        service.to_csv(document.rows, list(row_type.model_fields)),
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/statistics/referrals", response_model=ReferralStatistics)
async def referral_statistics(
    session: ReadOnlyDbSession,
    settings: AppSettings,
    principal: Statistician,
    now: RequestNow,
    by: By,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    output: Format = OutputFormat.JSON,
) -> ReferralStatistics | Response:
    """Referrals and duty-to-notify reports in a period, broken down `by` one dimension, with
    a totals row; small counts are suppressed (null, `suppressed: true`). For auditors, and
    for senior decision makers about their own unit; JSON or CSV."""
    viewer, period = _asked(settings, principal, by, REFERRAL_BREAKDOWNS, date_from, date_to, now)
    document = await service.referral_statistics(
        session, viewer, by=by, period=period, threshold=settings.suppression_threshold
    )
    return _table(document, ReferralRow, output, "referrals")


@router.get("/statistics/decisions", response_model=DecisionStatistics)
async def decision_statistics(
    session: ReadOnlyDbSession,
    settings: AppSettings,
    principal: Statistician,
    now: RequestNow,
    by: By,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    stage: StageParam = Stage.REASONABLE_GROUNDS,
    output: Format = OutputFormat.JSON,
) -> DecisionStatistics | Response:
    """Decisions of one stage in a period, broken down `by` one dimension: positives,
    negatives and the median and 90th percentile of working days taken, small counts
    suppressed. For auditors, and for senior decision makers about their own unit."""
    viewer, period = _asked(settings, principal, by, frozenset(Breakdown), date_from, date_to, now)
    document = await service.decision_statistics(
        session, viewer, by=by, stage=stage, period=period, threshold=settings.suppression_threshold
    )
    return _table(document, DecisionRow, output, f"decisions-{stage.value}")


@router.get("/statistics/disparities", response_model=DisparityStatistics)
async def disparity_statistics(
    session: ReadOnlyDbSession,
    settings: AppSettings,
    principal: Statistician,
    now: RequestNow,
    by: By,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    stage: StageParam = Stage.REASONABLE_GROUNDS,
    output: Format = OutputFormat.JSON,
) -> DisparityStatistics | Response:
    """Whether positive-decision rates differ between groups: each group's rate with its
    Wilson 95% interval, a test against the rest and an adjusted p-value that flags the
    differences worth a look. Small counts are suppressed."""
    viewer, period = _asked(settings, principal, by, frozenset(Breakdown), date_from, date_to, now)
    document = await service.disparity_statistics(
        session, viewer, by=by, stage=stage, period=period, threshold=settings.suppression_threshold
    )
    return _table(document, DisparityRow, output, f"disparities-{stage.value}")


@router.get("/statistics/report", response_class=HTMLResponse)
async def statistics_report(
    session: ReadOnlyDbSession,
    settings: AppSettings,
    principal: Statistician,
    now: RequestNow,
    date_from: DateFrom = None,
    date_to: DateTo = None,
) -> HTMLResponse:
    """The statistics of a period as one HTML page with tables and charts, for auditors: in
    Welsh under `Accept-Language: cy`, else English (the CSV behind it is the same in both)."""
    return HTMLResponse(await report_page(session, settings, principal, now, date_from, date_to))


async def report_page(
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    now: datetime,
    date_from: date | None,
    date_to: date | None,
    other_language_url: str | None = None,
) -> str:
    """The report's page, for the API and (with its language link) for the web service."""
    report.check_reader(principal)
    period = _period(settings, date_from, date_to, now)
    data = await report.gather(session, period=period, threshold=settings.suppression_threshold)
    # Drawing the charts is CPU work: keep it off the event loop.
    return await run_in_threadpool(report.render, data, other_language_url)
