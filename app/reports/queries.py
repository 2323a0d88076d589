"""The statistics queries: each breakdown is ONE SQL statement that counts in the database.

Owns the statements that count referrals, duty-to-notify reports and decisions in a period
(docs/statistics.md defines every figure), totals row included, and runs them. How a breakdown
groups rows is `app.reports.breakdowns`; percentiles of the working days come from a histogram
of the days stored on each decision (`app.percentiles`); where PostgreSQL and SQLite differ is
`app.reports.backend`. No row of personal data reaches Python. Must not: suppress or present
(that is `app.reports.service`), change anything, or read immigration facts (DESIGN §5: only
`app.immigration.queries` aggregates them).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Integer,
    Select,
    String,
    Text,
    cast,
    func,
    literal_column,
    null,
    select,
    true,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app import percentiles
from app.referrals.models import Decision, DutyToNotify, Referral
from app.referrals.workflow import DecisionStatus, Outcome, Stage
from app.reports import backend, breakdowns
from app.reports.breakdowns import MONTH, NOT_RECORDED
from app.reports.schemas import Breakdown

__all__ = ["MONTH", "NOT_RECORDED", "DecisionFigures", "Period", "ReferralCount"]


@dataclass(frozen=True, slots=True)
class Period:
    """Inclusive Welsh dates."""

    start: date
    end: date


@dataclass(frozen=True, slots=True)
class ReferralCount:
    """One group's referrals and duty-to-notify reports; `group` None is the totals row."""

    group: str | None
    label: str | None
    referrals: int
    duty_to_notify: int


@dataclass(frozen=True, slots=True)
class DecisionFigures:
    """One group's decisions of a stage; `group` None is the totals row."""

    group: str | None
    label: str | None
    decisions: int
    positive: int
    negative: int
    median_working_days: float | None
    p90_working_days: float | None
    met: int | None  # None where deadlines are not counted
    missed: int | None


# --- Referrals and duty-to-notify reports --------------------------------------------------


def _source_branches(
    by: str,
    source: Any,
    raw: breakdowns.Raw,
    where: Sequence[ColumnElement[bool]],
    kind: str,
    *,
    width: int,
) -> list[Select[Any]]:
    """Referrals (`kind` r) or reports (d) counted per raw group, and their totals."""
    marked = literal_column(f"'{kind}'", String).label("kind")
    counted = func.count().label("n")
    return breakdowns.groups_and_totals(
        by,
        breakdowns.counted(source, raw, where, marked, counted, keys=("kind",), width=width),
        breakdowns.counted(source, None, where, marked, counted, keys=("kind",), width=width),
        name=f"{source.__tablename__}_groups",
        width=width,
        keys=("kind",),
    )


def _report_types(where: Sequence[ColumnElement[bool]], dialect: str) -> list[Select[Any]]:
    """Reports counted per exploitation type, and their totals, with `_counted`'s columns.

    A report keeps its types as a JSON list, and reports hold few distinct lists (a few
    dozen at most): the reports are first counted per list, as stored (one scan; every report
    has exactly one list, so the totals are summed from these counts), then each counted list
    is unnested in the database, never in Python, and its count added to each of its types.
    Unnesting every report's list instead took 0.2 s of the 1,000,000-referral table.
    """
    listed = cast(DutyToNotify.exploitation_types, Text)  # PostgreSQL cannot compare json
    lists = (
        select(listed.label("types"), func.count().label("n"))
        .where(*where)
        .group_by(literal_column("types"))
        .cte("report_type_lists")
    )
    unnest = backend.json_list_elements(lists.c.types, dialect, name="dtn_type")
    marked = literal_column("'d'", String).label("kind")
    counted = func.sum(lists.c.n).label("n")
    per_type: list[ColumnElement[Any]] = [
        literal_column("0", Integer).label("is_total"),
        cast(unnest.c.value, String(32)).label("r0"),
        marked,
        counted,
    ]
    in_total: list[ColumnElement[Any]] = [
        literal_column("1", Integer).label("is_total"),
        null().label("r0"),
        marked,
        counted,
    ]
    types = (
        select(*per_type)
        .select_from(lists)
        .join(unnest, true())
        .group_by(literal_column("r0"), literal_column("kind"))
    )
    totals = select(*in_total).group_by(literal_column("kind"))
    return [types, totals]


async def referral_counts(
    session: AsyncSession, *, by: str, period: Period, unit_id: uuid.UUID | None
) -> list[ReferralCount]:
    """Referrals filed (and reports made) in the period per group, then the totals row last.

    `unit_id` limits the figures to one deciding unit's referrals; duty-to-notify reports are
    routed to no unit, so a unit's figures count none of them.
    """
    dialect = await backend.prepare(session)
    where: list[ColumnElement[bool]] = [Referral.created_on.between(period.start, period.end)]
    if unit_id is not None:
        where.append(Referral.routed_to_id == unit_id)
    raw = breakdowns.referral_raw(by, Referral.id)
    width, keys = len(raw.columns), ("kind",)
    branches = _source_branches(by, Referral, raw, where, "r", width=width)
    if unit_id is None:
        reports = [DutyToNotify.created_on.between(period.start, period.end)]
        if by == Breakdown.EXPLOITATION_TYPE:
            branches += _report_types(reports, dialect)
        else:
            report_raw = breakdowns.report_raw(by)
            branches += _source_branches(by, DutyToNotify, report_raw, reports, "d", width=width)
    published = breakdowns.publish(
        union_all(*branches).subquery("counted"), by, dialect, width, keys
    )
    stmt = (
        select(
            published.c.grp,
            func.max(published.c.label),
            func.coalesce(func.sum(published.c.n).filter(published.c.kind == "r"), 0),
            func.coalesce(func.sum(published.c.n).filter(published.c.kind == "d"), 0),
        )
        .group_by(published.c.is_total, published.c.grp)
        .order_by(published.c.is_total, published.c.grp)
    )
    result = await session.execute(stmt)
    counts = [ReferralCount(g, lbl, int(r), int(d)) for g, lbl, r, d in result.all()]
    if not counts or counts[-1].group is not None:  # nothing in the period: totals are zero
        counts.append(ReferralCount(None, None, 0, 0))
    return counts


# --- Decisions ------------------------------------------------------------------------------


def _decision_where(
    stage: Stage, period: Period, unit_id: uuid.UUID | None
) -> list[ColumnElement[bool]]:
    # docs/statistics.md: decisions in effect, counted on the date they were made.
    where = [
        Decision.stage == stage.value,
        Decision.status == DecisionStatus.EFFECTIVE.value,
        Decision.decided_on.between(period.start, period.end),
    ]
    if unit_id is not None:
        where.append(Decision.unit_id == unit_id)
    return where


def _histogram(by: str, where: list[ColumnElement[bool]], dialect: str) -> FromClause:
    """Decisions counted per group, outcome, deadline kept and working days taken (and the
    same for the totals): a table of a few hundred rows, however many decisions there are."""
    measures = (
        Decision.outcome.label("outcome"),
        Decision.met.label("met"),
        Decision.working_days.label("wd"),
        func.count().label("n"),
    )
    keys = ("outcome", "met", "wd")
    raw = breakdowns.referral_raw(by, Decision.referral_id)
    # The unit and the types hang off the decision; every other breakdown reads its referral.
    direct = by in (Breakdown.DECISION_UNIT, Breakdown.EXPLOITATION_TYPE)
    joins = () if direct else ((Referral, Referral.id == Decision.referral_id),)
    width = len(raw.columns)
    branches = breakdowns.groups_and_totals(
        by,
        breakdowns.counted(Decision, raw, where, *measures, keys=keys, width=width, joins=joins),
        breakdowns.counted(Decision, None, where, *measures, keys=keys, width=width),
        name="decision_groups",
        width=width,
        keys=keys,
    )
    return breakdowns.publish(union_all(*branches).subquery("counted"), by, dialect, width, keys)


def _decisions_statement(by: str, where: list[ColumnElement[bool]], dialect: str) -> Select[Any]:
    """Counts, percentiles of the days and deadlines per group, then the totals row."""
    ranked = percentiles.rank_days(_histogram(by, where, dialect))

    def total(*conditions: ColumnElement[bool]) -> ColumnElement[Any]:
        summed = func.sum(ranked.c.n)
        return func.coalesce(summed.filter(*conditions) if conditions else summed, 0)

    return (
        select(
            ranked.c.grp,
            func.max(ranked.c.label),
            total(),
            total(ranked.c.outcome == Outcome.POSITIVE.value),
            total(ranked.c.outcome == Outcome.NEGATIVE.value),
            percentiles.days_percentile(ranked, 1, 2),
            percentiles.days_percentile(ranked, 9, 10),
            total(ranked.c.met.is_(True)),
            total(ranked.c.met.is_(False)),
        )
        .group_by(ranked.c.is_total, ranked.c.grp)
        .order_by(ranked.c.is_total, ranked.c.grp)
    )


async def decision_figures(
    session: AsyncSession,
    *,
    by: str,
    stage: Stage,
    period: Period,
    unit_id: uuid.UUID | None,
) -> list[DecisionFigures]:
    """A stage's decisions in effect, decided in the period, per group, then the totals row."""
    dialect = await backend.prepare(session)
    where = _decision_where(stage, period, unit_id)
    result = await session.execute(_decisions_statement(by, where, dialect))
    rows = [_decision_row(row) for row in result.all()]
    if not rows or rows[-1].group is not None:  # nothing in the period: totals are zero
        rows.append(DecisionFigures(None, None, 0, 0, 0, None, None, 0, 0))
    return rows


def _decision_row(row: Sequence[Any]) -> DecisionFigures:
    group, label, count, positive, negative, median, p90, met, missed = row
    return DecisionFigures(
        group=group,
        label=label,
        decisions=int(count),
        positive=int(positive),
        negative=int(negative),
        median_working_days=None if median is None else float(median),
        p90_working_days=None if p90 is None else float(p90),
        met=int(met),
        missed=int(missed),
    )
