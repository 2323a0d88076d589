"""Reads of the immigration compartment, including the one aggregate the statistics may use.

Owns: finding a referral's record, finding a referral by Home Office reference, reading the
referral's public reference, and `outcomes_by_status`, the ONLY query that puts immigration
status beside identification outcomes: counts and working-day percentiles per status, small
cells suppressed, so that no individual's status leaves the compartment (DESIGN §5, §7).

Reads the victim side one way only (DESIGN §5: victim status → compartment), through
`app.referrals.models` (columns of `referrals` and `decisions`) and the pure vocabulary of
`app.referrals.workflow`: never the referrals' commands, queries or presenters. Its
percentiles are built with the neutral SQL helpers of `app.percentiles` (which read nothing
themselves) and its cells suppressed by `app.suppression`: it never imports the statistics.
Must not: change anything, return a row per person, or be imported by the victim side
(import-linter).
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
    cast,
    func,
    literal,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound
from app.immigration.models import ImmigrationRecord, ImmigrationStatus
from app.percentiles import days_percentile, rank_days
from app.referrals.models import Decision, Referral
from app.referrals.workflow import DecisionStatus, Outcome, Stage
from app.suppression import suppress_rows

NOT_RECORDED = "not_recorded"
"""The group of decisions on referrals that have no immigration record."""

GROUPS: tuple[str, ...] = (*(s.value for s in ImmigrationStatus), NOT_RECORDED)
"""Every group `outcomes_by_status` reports, in order; the totals row (status None) follows."""

_COUNTS = ("decisions", "positive", "negative")


async def referral_reference(session: AsyncSession, referral_id: uuid.UUID) -> str:
    """The referral's public reference (`NRM-W-…`); 404 when there is no such referral."""
    reference = await session.scalar(select(Referral.reference).where(Referral.id == referral_id))
    if reference is None:
        raise NotFound("no such referral")
    return reference


async def record_of(session: AsyncSession, referral_id: uuid.UUID) -> ImmigrationRecord | None:
    """The referral's immigration record, if one is recorded."""
    return await session.scalar(
        select(ImmigrationRecord).where(ImmigrationRecord.referral_id == referral_id)
    )


@dataclass(frozen=True, slots=True)
class Found:
    """The referral a Home Office reference belongs to."""

    referral_id: uuid.UUID
    reference: str


async def find_by_reference(session: AsyncSession, home_office_reference: str) -> Found | None:
    """The newest referral whose record holds exactly this Home Office reference, if any.

    A person referred twice may carry one reference on both; the newest referral is the case
    the officer is most likely following, and its outcome is the one that is current.
    """
    row = (
        await session.execute(
            select(ImmigrationRecord.referral_id, Referral.reference)
            .join(Referral, Referral.id == ImmigrationRecord.referral_id)
            .where(ImmigrationRecord.home_office_reference == home_office_reference)
            .order_by(Referral.created_at.desc(), Referral.id.desc())
            .limit(1)
        )
    ).first()
    return None if row is None else Found(row.referral_id, row.reference)


# --- The aggregate ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StatusOutcome:
    """One row of `outcomes_by_status`: a status group (None for the totals row).

    Counts and figures are None where suppression hid them; `suppressed` says so.
    """

    status: str | None
    decisions: int | None
    positive: int | None
    negative: int | None
    median_working_days: float | None
    p90_working_days: float | None
    suppressed: bool


async def outcomes_by_status(
    session: AsyncSession,
    *,
    stage: str,
    date_from: date,
    date_to: date,
    threshold: int,
    unit_id: uuid.UUID | None = None,
) -> list[StatusOutcome]:
    """Effective decisions of `stage` made from `date_from` to `date_to` (inclusive Welsh
    dates), per immigration status and `not_recorded`, then a totals row: counts of positive
    and negative outcomes, median and 90th percentile of working days. One SQL aggregation;
    cells below `threshold` suppressed (`app.suppression`). ValueError for an unknown
    stage or a threshold below 1."""
    histogram = _histogram(Stage(stage), date_from, date_to, unit_id)
    statement = _figures(rank_days(histogram))
    figures = {(bool(row[0]), row[1]): row for row in (await session.execute(statement)).all()}
    rows = [_row(group, figures.get((False, group))) for group in GROUPS]
    total = _row(None, figures.get((True, None)))
    published, published_total = suppress_rows(
        rows,
        count_fields=_COUNTS,
        threshold=threshold,
        total_row=total,
        linked=(("decisions", ("positive", "negative")),),
    )
    assert published_total is not None
    return [_outcome(row) for row in (*published, published_total)]


def _histogram(
    stage: Stage, date_from: date, date_to: date, unit_id: uuid.UUID | None
) -> FromClause:
    """Decisions counted per status, outcome and working days taken, then the same summed
    for the totals (one scan of the decisions, not two): a table of a few hundred rows, however
    many decisions there are (docs/statistics.md, "How it is computed")."""
    where: list[ColumnElement[bool]] = [
        Decision.stage == stage.value,
        # docs/statistics.md: decisions in effect, counted on the date they were made.
        Decision.status == DecisionStatus.EFFECTIVE.value,
        Decision.decided_on.between(date_from, date_to),
    ]
    if unit_id is not None:
        where.append(Decision.unit_id == unit_id)
    groups = (
        select(
            literal_column("0", Integer).label("is_total"),
            # Grouped by the stored status; a decision without a record is not_recorded.
            func.coalesce(ImmigrationRecord.status, literal(NOT_RECORDED, String)).label("grp"),
            Decision.outcome.label("outcome"),
            Decision.working_days.label("wd"),
            func.count().label("n"),
        )
        .select_from(Decision)
        .outerjoin(ImmigrationRecord, ImmigrationRecord.referral_id == Decision.referral_id)
        .where(*where)
        .group_by(ImmigrationRecord.status, Decision.outcome, Decision.working_days)
        .cte("status_groups")
    )
    totals = select(
        literal_column("1", Integer).label("is_total"),
        cast(null(), String).label("grp"),
        groups.c.outcome,
        groups.c.wd,
        func.sum(groups.c.n).label("n"),
    ).group_by(groups.c.outcome, groups.c.wd)
    return union_all(select(groups), totals).subquery("histogram")


def _figures(ranked: FromClause) -> Select[Any]:
    """Counts and percentiles of the days per status group, and for the totals."""

    def count(*conditions: ColumnElement[bool]) -> ColumnElement[Any]:
        summed = func.sum(ranked.c.n)
        return func.coalesce(summed.filter(*conditions) if conditions else summed, 0)

    return select(
        ranked.c.is_total,
        ranked.c.grp,
        count(),
        count(ranked.c.outcome == Outcome.POSITIVE.value),
        count(ranked.c.outcome == Outcome.NEGATIVE.value),
        # Interpolated from the histogram exactly as PostgreSQL's percentile_cont does.
        days_percentile(ranked, 1, 2),
        days_percentile(ranked, 9, 10),
    ).group_by(ranked.c.is_total, ranked.c.grp)


def _row(group: str | None, figures: Sequence[Any] | None) -> dict[str, Any]:
    if figures is None:
        figures = (None, group, 0, 0, 0, None, None)
    _total, _group, count, positive, negative, median, p90 = figures
    return {
        "group": group,
        "decisions": int(count),
        "positive": int(positive),
        "negative": int(negative),
        "median_working_days": None if median is None else float(median),
        "p90_working_days": None if p90 is None else float(p90),
    }


def _outcome(row: dict[str, Any]) -> StatusOutcome:
    return StatusOutcome(
        status=row["group"],
        decisions=row["decisions"],
        positive=row["positive"],
        negative=row["negative"],
        median_working_days=row["median_working_days"],
        p90_working_days=row["p90_working_days"],
        suppressed=row["suppressed"],
    )
