"""How a statistics breakdown groups rows, in the two steps of every statistics statement.

Owns what each breakdown (`by`) groups referrals, duty-to-notify reports and decisions by
(docs/statistics.md), and the two steps: first every row is counted by cheap "raw" columns
(an organisation's id, a council's code, a gender), which the database groups fast; then the
few hundred counted rows are mapped to the published group (a sector, a police force, an age
group) and named, so lookups join hundreds of rows, not millions. Builds statements only: it
runs nothing (`app.reports.queries` does), suppresses nothing, and reads no immigration fact.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    FromClause,
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    false,
    func,
    literal_column,
    null,
    select,
)
from sqlalchemy.orm import QueryableAttribute, aliased

from app.identity.models import LocalAuthority, Organisation
from app.referrals.models import Decision, DutyToNotify, Referral, ReferralExploitationType
from app.reports import backend
from app.reports.schemas import AgeGroup, Breakdown

MONTH = "month"
"""An internal breakdown (the report's chart of referrals over time): `YYYY-MM`."""

NOT_RECORDED = "unknown"
"""The group of a referral or report whose nationality was not recorded."""

_ORGANISATION = aliased(Organisation, name="organisation")
_FORCE = aliased(Organisation, name="force")


Column = ColumnElement[Any] | QueryableAttribute[Any]
Join = tuple[Any, ColumnElement[bool]]


@dataclass(frozen=True, slots=True)
class Raw:
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


def referral_raw(by: str, referral_id: Column) -> Raw:
    """Raw columns on a referral (`referral_id` says where a decision's referral is)."""
    columns: dict[str, Callable[[], Raw]] = {
        Breakdown.SECTOR: lambda: Raw((Referral.referring_organisation_id,)),
        Breakdown.ORGANISATION: lambda: Raw((Referral.referring_organisation_id,)),
        # One row per type: a referral with several types counts once in each (Home Office).
        Breakdown.EXPLOITATION_TYPE: lambda: Raw(
            (ReferralExploitationType.type,),
            ((ReferralExploitationType, ReferralExploitationType.referral_id == referral_id),),
        ),
        Breakdown.AGE_GROUP: lambda: Raw(
            (
                Referral.exploited_as_child,
                and_(Referral.date_of_birth.is_(None), Referral.estimated_age.is_(None)),
                Referral.is_child,
            )
        ),
        Breakdown.GENDER: lambda: Raw((Referral.gender,)),
        Breakdown.NATIONALITY: lambda: Raw((Referral.nationality,)),
        Breakdown.LOCAL_AUTHORITY: lambda: Raw((Referral.local_authority,)),
        Breakdown.POLICE_FORCE: lambda: Raw((Referral.local_authority,)),
        Breakdown.DECISION_UNIT: lambda: Raw((Decision.unit_id,)),
        MONTH: lambda: Raw((Referral.created_on,)),
    }
    return columns[by]()


def report_raw(by: str) -> Raw:
    """The same raw columns on a duty-to-notify report (exploitation types: `_report_types`)."""
    columns: dict[str, Callable[[], Raw]] = {
        Breakdown.SECTOR: lambda: Raw((DutyToNotify.organisation_id,)),
        Breakdown.ORGANISATION: lambda: Raw((DutyToNotify.organisation_id,)),
        # docs/statistics.md: a report is about an adult who did not consent (see `_age`).
        Breakdown.AGE_GROUP: lambda: Raw((cast(null(), Boolean), false(), false())),
        Breakdown.GENDER: lambda: Raw((DutyToNotify.gender,)),
        Breakdown.NATIONALITY: lambda: Raw((DutyToNotify.nationality,)),
        Breakdown.LOCAL_AUTHORITY: lambda: Raw((DutyToNotify.local_authority,)),
        Breakdown.POLICE_FORCE: lambda: Raw((DutyToNotify.local_authority,)),
        MONTH: lambda: Raw((DutyToNotify.created_on,)),
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
        MONTH: lambda: _Named(backend.month(first, dialect), _no_label()),
    }
    return names[by]()


def counted(
    source: Any,
    raw: Raw | None,
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


def groups_and_totals(
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


def publish(
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
