"""The statistics queries: each breakdown is ONE SQL statement that counts in the database.

Owns how a breakdown groups referrals, duty-to-notify reports and decisions (docs/statistics.md
defines every figure) and the SQL that counts them, totals row included, in one statement, in
two steps. First every row in the period is counted by cheap "raw" columns (an organisation's
id, a council's code, a gender), which the database groups fast; then the few hundred counted
rows are mapped to the published group (a sector, a police force, an age group) and named, so
lookups join hundreds of rows, not millions. Percentiles of the working days come from a
histogram of the days stored on each decision, interpolated in SQL exactly as PostgreSQL's
`percentile_cont` (numpy's "linear"), on PostgreSQL and SQLite alike. No row of personal data
reaches Python. Must not: suppress or present (that is `app.reports.service`), change anything,
or read immigration facts (DESIGN §5: only `app.immigration.queries` aggregates them).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    Float,
    FromClause,
    Integer,
    Select,
    String,
    Text,
    and_,
    case,
    cast,
    false,
    func,
    literal_column,
    null,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute, aliased

from app.identity.models import LocalAuthority, Organisation
from app.referrals.models import Decision, DutyToNotify, Referral, ReferralExploitationType
from app.referrals.workflow import DecisionStatus, Outcome, Stage
from app.reports.schemas import AgeGroup, Breakdown

MONTH = "month"
"""An internal breakdown (the report's chart of referrals over time): `YYYY-MM`."""

NOT_RECORDED = "unknown"
"""The group of a referral or report whose nationality was not recorded."""

REPORTING_WORK_MEM = "32MB"
"""PostgreSQL's `work_mem` for a statistics transaction (see `prepare`)."""

_ORGANISATION = aliased(Organisation, name="organisation")
_FORCE = aliased(Organisation, name="force")


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


# --- What a breakdown groups by -----------------------------------------------------------

Column = ColumnElement[Any] | QueryableAttribute[Any]
Join = tuple[Any, ColumnElement[bool]]


@dataclass(frozen=True, slots=True)
class _Raw:
    """The columns every row is first counted by, and the joins they need."""

    columns: tuple[Column, ...]
    joins: tuple[Join, ...] = ()


@dataclass(frozen=True, slots=True)
class _Named:
    """A counted row's published group and label, and the lookups (outer joins) they read."""

    key: Column
    label: Column
    lookups: tuple[Join, ...] = ()


def _no_label() -> ColumnElement[Any]:
    return cast(null(), String(200))


def _referral_raw(by: str, referral_id: Column) -> _Raw:
    """Raw columns on a referral (`referral_id` says where a decision's referral is)."""
    columns: dict[str, Callable[[], _Raw]] = {
        Breakdown.SECTOR: lambda: _Raw((Referral.referring_organisation_id,)),
        Breakdown.ORGANISATION: lambda: _Raw((Referral.referring_organisation_id,)),
        # One row per type: a referral with several types counts once in each (Home Office).
        Breakdown.EXPLOITATION_TYPE: lambda: _Raw(
            (ReferralExploitationType.type,),
            ((ReferralExploitationType, ReferralExploitationType.referral_id == referral_id),),
        ),
        Breakdown.AGE_GROUP: lambda: _Raw(
            (
                Referral.exploited_as_child,
                and_(Referral.date_of_birth.is_(None), Referral.estimated_age.is_(None)),
                Referral.is_child,
            )
        ),
        Breakdown.GENDER: lambda: _Raw((Referral.gender,)),
        Breakdown.NATIONALITY: lambda: _Raw((Referral.nationality,)),
        Breakdown.LOCAL_AUTHORITY: lambda: _Raw((Referral.local_authority,)),
        Breakdown.POLICE_FORCE: lambda: _Raw((Referral.local_authority,)),
        Breakdown.DECISION_UNIT: lambda: _Raw((Decision.unit_id,)),
        MONTH: lambda: _Raw((Referral.created_on,)),
    }
    return columns[by]()


def _report_raw(by: str) -> _Raw:
    """The same raw columns on a duty-to-notify report (exploitation types: `_report_types`)."""
    columns: dict[str, Callable[[], _Raw]] = {
        Breakdown.SECTOR: lambda: _Raw((DutyToNotify.organisation_id,)),
        Breakdown.ORGANISATION: lambda: _Raw((DutyToNotify.organisation_id,)),
        # docs/statistics.md: a report is about an adult who did not consent (see `_age`).
        Breakdown.AGE_GROUP: lambda: _Raw((cast(null(), Boolean), false(), false())),
        Breakdown.GENDER: lambda: _Raw((DutyToNotify.gender,)),
        Breakdown.NATIONALITY: lambda: _Raw((DutyToNotify.nationality,)),
        Breakdown.LOCAL_AUTHORITY: lambda: _Raw((DutyToNotify.local_authority,)),
        Breakdown.POLICE_FORCE: lambda: _Raw((DutyToNotify.local_authority,)),
        MONTH: lambda: _Raw((DutyToNotify.created_on,)),
    }
    return columns[by]()


def _age(exploited_as_child: Column, age_unknown: Column, is_child: Column) -> ColumnElement[str]:
    # docs/statistics.md: a child at exploitation first; no date of birth or estimate is
    # unknown; otherwise the age the referral records (DESIGN §4: from the date of birth).
    return case(
        (exploited_as_child.is_(True), AgeGroup.CHILD.value),
        (age_unknown.is_(True), AgeGroup.UNKNOWN.value),
        (is_child.is_(True), AgeGroup.CHILD.value),
        else_=AgeGroup.ADULT.value,
    )


def _month(day: Column, dialect: str) -> ColumnElement[str]:
    if dialect == "postgresql":
        return func.to_char(day, "YYYY-MM")
    return func.strftime("%Y-%m", day)


def _named(by: str, raw: Sequence[Column], dialect: str) -> _Named:
    """The published group of a counted row from its raw columns."""
    first = raw[0]
    organisation = ((_ORGANISATION, _ORGANISATION.id == first),)
    place = (LocalAuthority, LocalAuthority.ons_code == first)
    names: dict[str, Callable[[], _Named]] = {
        Breakdown.SECTOR: lambda: _Named(_ORGANISATION.sector, _no_label(), organisation),
        Breakdown.ORGANISATION: lambda: _Named(
            _ORGANISATION.code, _ORGANISATION.name, organisation
        ),
        Breakdown.EXPLOITATION_TYPE: lambda: _Named(first, _no_label()),
        Breakdown.AGE_GROUP: lambda: _Named(_age(*raw), _no_label()),
        Breakdown.GENDER: lambda: _Named(first, _no_label()),
        Breakdown.NATIONALITY: lambda: _Named(func.coalesce(first, NOT_RECORDED), _no_label()),
        Breakdown.LOCAL_AUTHORITY: lambda: _Named(first, LocalAuthority.name, (place,)),
        Breakdown.POLICE_FORCE: lambda: _Named(
            LocalAuthority.police_force,
            _FORCE.name,
            (place, (_FORCE, _FORCE.code == LocalAuthority.police_force)),
        ),
        Breakdown.DECISION_UNIT: lambda: _Named(
            _ORGANISATION.code, _ORGANISATION.name, organisation
        ),
        MONTH: lambda: _Named(_month(first, dialect), _no_label()),
    }
    return names[by]()


# --- The two steps, in one statement -------------------------------------------------------


def _counted(
    source: Any,
    raw: _Raw | None,
    where: Sequence[ColumnElement[bool]],
    *measures: ColumnElement[Any],
    keys: Sequence[str],
    width: int,
    joins: Sequence[Join] = (),
) -> Select[Any]:
    """Step one: rows counted by their raw columns and `keys`; `raw` None counts the totals
    (with `width` empty raw columns, so that both branches have the same columns)."""
    if raw is None:
        raw_columns = [null().label(f"r{i}") for i in range(width)]
        grouped = [*keys]
    else:
        raw_columns = [c.label(f"r{i}") for i, c in enumerate(raw.columns)]
        grouped = [*(f"r{i}" for i in range(width)), *keys]
    columns: list[ColumnElement[Any]] = [
        literal_column("1" if raw is None else "0", Integer).label("is_total"),
        *raw_columns,
        *measures,
    ]
    stmt = select(*columns).select_from(source)
    for target, on in (*joins, *(raw.joins if raw else ())):
        stmt = stmt.join(target, on)
    # By the output names: a raw column may be an expression holding bound parameters,
    # which PostgreSQL would not match between the select list and a repeated expression.
    return stmt.where(*where).group_by(*(literal_column(name) for name in grouped))


def _groups_and_totals(
    by: str,
    groups: Select[Any],
    recount: Select[Any],
    *,
    name: str,
    width: int,
    keys: Sequence[str],
) -> list[Select[Any]]:
    """The groups' counts and the totals' counts, with the same columns. Where every row
    falls in exactly one group the totals are summed from the groups' counts (one scan, not
    two); where a referral may fall in several (exploitation types) they are `recount`."""
    if by == Breakdown.EXPLOITATION_TYPE:
        return [groups, recount]
    counted = groups.cte(name)
    summed = select(
        literal_column("1", Integer).label("is_total"),
        *(null().label(f"r{i}") for i in range(width)),
        *(counted.c[key] for key in keys),
        func.sum(counted.c.n).label("n"),
    ).group_by(*(counted.c[key] for key in keys))
    return [select(counted), summed]


def _publish(
    counted: FromClause, by: str, dialect: str, width: int, keys: Sequence[str]
) -> FromClause:
    """Step two: each counted row with its published group and label (None on totals)."""
    named = _named(by, [counted.c[f"r{i}"] for i in range(width)], dialect)
    is_total = counted.c.is_total == 1
    stmt = select(
        counted.c.is_total,
        case((is_total, null()), else_=named.key).label("grp"),
        case((is_total, null()), else_=named.label).label("label"),
        *(counted.c[key] for key in keys),
        counted.c.n,
    ).select_from(counted)
    for target, on in named.lookups:
        stmt = stmt.outerjoin(target, on)
    return stmt.subquery("published")


async def prepare(session: AsyncSession) -> str:
    """The dialect; on PostgreSQL, settings for the rest of this (reporting) transaction.

    Measured with 1,000,000 referrals (docs/statistics.md): JIT compilation cost 3 s of a
    4.4 s aggregation that runs in well under a second without it; the planner, which
    cannot tell how few groups an aggregation has, sorted to disk with the default `work_mem`
    where a hash aggregate of a few hundred groups fits in kilobytes; and, for exploitation
    types, it ran the join of the types and the recount of the totals side by side, one
    process each (a parallel append), so that the join had one core where it could have had
    every core (0.6 s instead of 0.3 s for a year's conclusive-grounds decisions).
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        await session.execute(text("SET LOCAL jit = off"))
        await session.execute(text(f"SET LOCAL work_mem = '{REPORTING_WORK_MEM}'"))
        await session.execute(text("SET LOCAL enable_parallel_append = off"))
    return dialect


# --- Referrals and duty-to-notify reports --------------------------------------------------


def _source_branches(
    by: str, source: Any, raw: _Raw, where: Sequence[ColumnElement[bool]], kind: str, *, width: int
) -> list[Select[Any]]:
    """Referrals (`kind` r) or reports (d) counted per raw group, and their totals."""
    marked = literal_column(f"'{kind}'", String).label("kind")
    counted = func.count().label("n")
    return _groups_and_totals(
        by,
        _counted(source, raw, where, marked, counted, keys=("kind",), width=width),
        _counted(source, None, where, marked, counted, keys=("kind",), width=width),
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
    unnest: Any
    if dialect == "postgresql":
        elements = func.json_array_elements_text(cast(lists.c.types, JSON))
        unnest = elements.table_valued("value", name="dtn_type").lateral()
    else:
        unnest = func.json_each(lists.c.types).table_valued("value", name="dtn_type")
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
    dialect = await prepare(session)
    where: list[ColumnElement[bool]] = [Referral.created_on.between(period.start, period.end)]
    if unit_id is not None:
        where.append(Referral.routed_to_id == unit_id)
    raw = _referral_raw(by, Referral.id)
    width, keys = len(raw.columns), ("kind",)
    branches = _source_branches(by, Referral, raw, where, "r", width=width)
    if unit_id is None:
        reports = [DutyToNotify.created_on.between(period.start, period.end)]
        if by == Breakdown.EXPLOITATION_TYPE:
            branches += _report_types(reports, dialect)
        else:
            report_raw = _report_raw(by)
            branches += _source_branches(by, DutyToNotify, report_raw, reports, "d", width=width)
    published = _publish(union_all(*branches).subquery("counted"), by, dialect, width, keys)
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
    raw = _referral_raw(by, Decision.referral_id)
    # The unit and the types hang off the decision; every other breakdown reads its referral.
    direct = by in (Breakdown.DECISION_UNIT, Breakdown.EXPLOITATION_TYPE)
    joins = () if direct else ((Referral, Referral.id == Decision.referral_id),)
    width = len(raw.columns)
    branches = _groups_and_totals(
        by,
        _counted(Decision, raw, where, *measures, keys=keys, width=width, joins=joins),
        _counted(Decision, None, where, *measures, keys=keys, width=width),
        name="decision_groups",
        width=width,
        keys=keys,
    )
    return _publish(union_all(*branches).subquery("counted"), by, dialect, width, keys)


def rank_days(histogram: FromClause) -> FromClause:
    """Each histogram row with where its days fall in the group's sorted days: the values
    at 0-based positions `upto - at` … `upto - 1` equal `wd`; `total` counts the group.

    `histogram` has a row per group (`is_total`, `grp`) and working days `wd` (and any other
    keys, such as the outcome), with `n` decisions: a pure SQL builder, also used by the
    immigration compartment's aggregate (`app.immigration.queries.outcomes_by_status`)."""
    partition = (histogram.c.is_total, histogram.c.grp)
    counted = histogram.c.n
    return select(
        histogram,
        # The default frame counts every row up to and with this `wd`.
        cast(
            func.sum(counted).over(partition_by=partition, order_by=histogram.c.wd), Integer
        ).label("upto"),
        cast(func.sum(counted).over(partition_by=(*partition, histogram.c.wd)), Integer).label(
            "at"
        ),
        cast(func.sum(counted).over(partition_by=partition), Integer).label("total"),
    ).subquery("ranked")


def days_percentile(ranked: FromClause, numerator: int, denominator: int) -> ColumnElement[Any]:
    """PostgreSQL's `percentile_cont(numerator / denominator)`, numpy's "linear" method, of
    the working days of a group of `rank_days` rows (an aggregate: group by `is_total`, `grp`).

    With the n values sorted, the percentile sits at position h = (n - 1) * p counted from 0:
    the value at floor(h), plus (h - floor(h)) times the step to the next value. Integer
    arithmetic finds floor(h) exactly on both databases.
    """
    scaled = (ranked.c.total - 1) * numerator
    lower = scaled // denominator
    weight = cast(scaled % denominator, Float) / denominator
    first = ranked.c.upto - ranked.c.at

    def value_at(position: ColumnElement[Any]) -> ColumnElement[Any]:
        inside = and_(first <= position, position < ranked.c.upto)
        return func.max(case((inside, ranked.c.wd)))

    low, high = value_at(lower), value_at(lower + 1)
    return cast(low, Float) + func.max(weight) * (func.coalesce(high, low) - low)


def _decisions_statement(by: str, where: list[ColumnElement[bool]], dialect: str) -> Select[Any]:
    """Counts, percentiles of the days and deadlines per group, then the totals row."""
    ranked = rank_days(_histogram(by, where, dialect))

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
            days_percentile(ranked, 1, 2),
            days_percentile(ranked, 9, 10),
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
    dialect = await prepare(session)
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
