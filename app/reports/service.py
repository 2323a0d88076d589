"""Statistics as published: counted rows from `queries`, labelled, tested and suppressed.

Owns who sees which figures (auditors everything; a senior decision maker their own unit's,
never by immigration status), the default period, the disparity figures (through the pure
`disparity` module) and disclosure control (through the pure `suppression` module: nothing
leaves here unsuppressed), and the CSV form of a table. Must not count rows in Python (every
count comes from one SQL aggregation in `queries`, or for immigration status from the
compartment's own aggregate), nor join immigration records itself (DESIGN §5).
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import FieldError, Forbidden, ValidationFailed
from app.identity.principal import Principal
from app.identity.roles import Role
from app.immigration import queries as immigration
from app.referrals.vocabulary import nationality_name
from app.referrals.workflow import Stage
from app.reports import backend, disparity, queries
from app.reports.breakdowns import MONTH, NOT_RECORDED
from app.reports.queries import DecisionFigures, Period
from app.reports.schemas import (
    REFERRAL_BREAKDOWNS,
    Breakdown,
    DecisionRow,
    DecisionStatistics,
    DisparityRow,
    DisparityStatistics,
    ReferralRow,
    ReferralStatistics,
)
from app.suppression import suppress_rows

ALPHA = 0.05
ADJUSTMENT = "holm"
TOTAL_LABEL = "Total"
REFERRAL_COUNTS = ("count", "duty_to_notify")
DECISION_COUNTS = ("count", "positive", "negative", "met", "missed")
# A decision is positive or negative, and an RG decision met its deadline or missed it: a part
# is its row's count minus the other part, so the parts are suppressed together.
DECISION_LINKS = (("count", ("positive", "negative")), ("count", ("met", "missed")))


@dataclass(frozen=True, slots=True)
class Viewer:
    """Whose figures a caller may read: every unit's (`unit_id` None) or one unit's."""

    unit_id: uuid.UUID | None
    may_compare_immigration: bool


AUDITOR_VIEW = Viewer(unit_id=None, may_compare_immigration=True)


def viewer_of(principal: Principal) -> Viewer:
    """Auditors read everything, senior decision makers their own unit's figures; anyone
    else is refused (403) even if the role table ever lets them past the role gate."""
    if principal.has(Role.AUDITOR):
        return AUDITOR_VIEW
    if not principal.has(Role.SENIOR_DECISION_MAKER):
        raise Forbidden("statistics are for auditors and senior decision makers")
    # API.md Statistics: senior decision makers read their own unit's figures, and never by
    # immigration status (DESIGN §5: nothing of immigration reaches the people who decide).
    return Viewer(unit_id=principal.organisation_id, may_compare_immigration=False)


def check_breakdown(by: Breakdown, viewer: Viewer, *, allowed: frozenset[Breakdown]) -> None:
    """403 for immigration status unless the viewer may compare it; 422 for a breakdown that
    this table does not offer (API.md order of checks: 403 before 422)."""
    if by == Breakdown.IMMIGRATION_STATUS and not viewer.may_compare_immigration:
        raise Forbidden("only auditors may compare outcomes by immigration status")
    if by not in allowed:
        offered = ", ".join(sorted(allowed))
        raise ValidationFailed(
            f"this table is not broken down by {by.value}",
            errors=[FieldError("by", f"must be one of {offered}")],
        )


def period_of(
    date_from: date | None,
    date_to: date | None,
    today: date,
    *,
    max_span_days: int,
) -> Period:
    """The inclusive period asked for; by default the year to date (Welsh dates).

    422 for a period that ends before it starts or spans more than `max_span_days` days
    (`NRM_STATISTICS_MAX_SPAN_DAYS`; docs/statistics.md): every table, the report and `nrm
    report` take their period from here.
    """
    start = date_from or date(today.year, 1, 1)
    end = date_to or today
    if start > end:
        raise ValidationFailed(
            "the period ends before it starts",
            errors=[FieldError("from", "must be on or before `to`")],
        )
    if (end - start).days + 1 > max_span_days:
        raise ValidationFailed(
            f"the period is longer than {max_span_days} days",
            errors=[FieldError("from", f"must be at most {max_span_days} days before `to`")],
        )
    return Period(start, end)


def label_of(by: str, group: str | None, sql_label: str | None) -> str:
    """What a row is called: the organisation's or council's name, the country, the value."""
    if group is None:
        return TOTAL_LABEL
    if sql_label:
        return sql_label
    if by == Breakdown.NATIONALITY and group != NOT_RECORDED:
        return nationality_name(group)
    if by == MONTH:
        return date.fromisoformat(f"{group}-01").strftime("%B %Y")
    return group.replace("_", " ").capitalize()


# --- Referrals ------------------------------------------------------------------------------


async def referral_rows(
    session: AsyncSession, viewer: Viewer, *, by: str, period: Period, threshold: int
) -> list[ReferralRow]:
    """The suppressed rows of a referral breakdown, the totals row last."""
    counts = await queries.referral_counts(session, by=by, period=period, unit_id=viewer.unit_id)
    rows = [
        {
            "group": c.group,
            "label": label_of(by, c.group, c.label),
            "count": c.referrals,
            "duty_to_notify": c.duty_to_notify,
        }
        for c in counts
    ]
    published = _suppress(rows, REFERRAL_COUNTS, threshold)
    return [ReferralRow.model_validate(row) for row in published]


async def referral_statistics(
    session: AsyncSession, viewer: Viewer, *, by: Breakdown, period: Period, threshold: int
) -> ReferralStatistics:
    check_breakdown(by, viewer, allowed=REFERRAL_BREAKDOWNS)
    rows = await referral_rows(session, viewer, by=by, period=period, threshold=threshold)
    return ReferralStatistics(date_from=period.start, date_to=period.end, by=by, rows=rows)


def _suppress(
    rows: list[dict[str, Any]],
    count_fields: Sequence[str],
    threshold: int,
    linked: Sequence[tuple[str, Sequence[str]]] = (),
) -> list[dict[str, Any]]:
    """DESIGN §7: small cells suppressed, secondary suppression against the totals row."""
    groups = [row for row in rows if row["group"] is not None]
    total = next(row for row in rows if row["group"] is None)
    published, published_total = suppress_rows(
        groups, count_fields=count_fields, threshold=threshold, total_row=total, linked=linked
    )
    return [*published, *([published_total] if published_total is not None else [])]


# --- Decisions ------------------------------------------------------------------------------


def _decision_record(by: str, stage: Stage, figures: DecisionFigures) -> dict[str, Any]:
    has_deadline = stage == Stage.REASONABLE_GROUNDS  # DESIGN §4: CG has no deadline
    return {
        "group": figures.group,
        "label": label_of(by, figures.group, figures.label),
        "count": figures.decisions,
        "positive": figures.positive,
        "negative": figures.negative,
        "median_working_days": figures.median_working_days,
        "p90_working_days": figures.p90_working_days,
        "met": figures.met if has_deadline else None,
        "missed": figures.missed if has_deadline else None,
    }


async def _decision_figures(
    session: AsyncSession, viewer: Viewer, *, by: Breakdown, stage: Stage, period: Period
) -> list[DecisionFigures]:
    if by == Breakdown.IMMIGRATION_STATUS:
        return await _immigration_figures(session, viewer, stage=stage, period=period)
    return await queries.decision_figures(
        session, by=by, stage=stage, period=period, unit_id=viewer.unit_id
    )


async def _immigration_figures(
    session: AsyncSession, viewer: Viewer, *, stage: Stage, period: Period
) -> list[DecisionFigures]:
    """Outcomes per immigration status from the compartment's one aggregate (DESIGN §5).

    It is asked with a threshold of 1 (nothing hidden) because a test of independence needs
    the true counts; the rows are suppressed here, like every other table, before they leave.
    Groups without decisions are dropped, as in every other breakdown. The aggregate does not
    count deadlines, so `met` and `missed` are not given by immigration status.
    """
    await backend.prepare(session)
    outcomes = await immigration.outcomes_by_status(
        session,
        stage=stage.value,
        date_from=period.start,
        date_to=period.end,
        threshold=1,
        unit_id=viewer.unit_id,
    )
    return [
        DecisionFigures(
            group=o.status,
            label=None,
            decisions=o.decisions or 0,
            positive=o.positive or 0,
            negative=o.negative or 0,
            median_working_days=o.median_working_days,
            p90_working_days=o.p90_working_days,
            met=None,
            missed=None,
        )
        for o in outcomes
        if o.decisions or o.status is None
    ]


async def decision_statistics(
    session: AsyncSession,
    viewer: Viewer,
    *,
    by: Breakdown,
    stage: Stage,
    period: Period,
    threshold: int,
) -> DecisionStatistics:
    """A stage's decisions per group: outcomes, time to decision, deadlines met and missed."""
    check_breakdown(by, viewer, allowed=frozenset(Breakdown))
    figures = await _decision_figures(session, viewer, by=by, stage=stage, period=period)
    records = [_decision_record(by, stage, f) for f in figures]
    published = _suppress(records, DECISION_COUNTS, threshold, DECISION_LINKS)
    return DecisionStatistics(
        date_from=period.start,
        date_to=period.end,
        by=by,
        stage=stage,
        rows=[DecisionRow.model_validate(row) for row in published],
    )


# --- Disparities ----------------------------------------------------------------------------


def _disparity_records(
    by: str, stage: Stage, figures: list[DecisionFigures]
) -> tuple[list[dict[str, Any]], disparity.DisparityResult]:
    groups = [f for f in figures if f.group is not None]
    result = disparity.compare_groups(
        [disparity.GroupOutcome(f.group, f.positive, f.negative) for f in groups], alpha=ALPHA
    )
    records = []
    for figure, tested in zip(groups, result.groups, strict=True):
        record = _decision_record(by, stage, figure)
        record.update(
            rate=tested.rate,
            ci_low=tested.ci_low,
            ci_high=tested.ci_high,
            p_value=tested.p_value,
            p_adjusted=tested.p_adjusted,
            flagged=tested.flagged,
        )
        records.append(record)
    return records, result


def _total_record(by: str, stage: Stage, figures: list[DecisionFigures]) -> dict[str, Any]:
    total = next((f for f in figures if f.group is None), None)
    if total is None:
        total = DecisionFigures(None, None, 0, 0, 0, None, None, 0, 0)
    record = _decision_record(by, stage, total)
    interval = disparity.wilson_interval(total.positive, total.decisions)
    record.update(
        rate=total.positive / total.decisions if total.decisions else None,
        ci_low=interval[0] if interval else None,
        ci_high=interval[1] if interval else None,
        p_value=None,
        p_adjusted=None,
        flagged=None,
    )
    return record


async def disparity_statistics(
    session: AsyncSession,
    viewer: Viewer,
    *,
    by: Breakdown,
    stage: Stage,
    period: Period,
    threshold: int,
) -> DisparityStatistics:
    """Positive-decision rates per group, each tested against the rest, Holm-adjusted."""
    check_breakdown(by, viewer, allowed=frozenset(Breakdown))
    figures = await _decision_figures(session, viewer, by=by, stage=stage, period=period)
    records, result = _disparity_records(by, stage, figures)
    records.append(_total_record(by, stage, figures))
    published = _suppress(records, DECISION_COUNTS, threshold, DECISION_LINKS)
    return DisparityStatistics(
        date_from=period.start,
        date_to=period.end,
        by=by,
        stage=stage,
        test=result.test,
        p_value=result.overall_p_value,
        alpha=ALPHA,
        adjustment=ADJUSTMENT,
        rows=[DisparityRow.model_validate(row) for row in published],
    )


# --- CSV ------------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    """A JSON scalar as its CSV text: empty for null, `true`/`false`, numbers as JSON has them."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def to_csv(rows: Sequence[BaseModel], columns: Sequence[str]) -> str:
    """API.md: the CSV of a table has the same columns as its JSON rows."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        values: Mapping[str, Any] = row.model_dump(mode="json")
        writer.writerow([_cell(values[column]) for column in columns])
    return out.getvalue()
