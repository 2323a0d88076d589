"""Reading referrals, always through the visibility filter: the one place that says who may
see which referral (API.md "Referrals"), so a list and a fetch can never disagree, and the one
loader (`load`) every door and every command uses, locked or not.

"Not yours" and "does not exist" are the same 404. Nothing here changes anything.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement, Select, false, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.interfaces import LoaderOption

from app.errors import FieldError, NotFound, ValidationFailed
from app.identity.principal import Principal
from app.identity.roles import Role
from app.referrals.models import Decision, Note, ReconsiderationRequest, Referral
from app.referrals.workflow import Status
from app.schemas import Moment

# Who sees a referral: its referrer's first responders, its routed unit's deciders and panel,
# every auditor. Immigration officers and admins see none through these queries.
_ROUTED_UNIT_ROLES = frozenset({Role.DECISION_MAKER, Role.PANEL_MEMBER})


def visibility(principal: Principal) -> ColumnElement[bool]:
    """The WHERE clause of what this user may read."""
    roles = principal.acting_roles
    if Role.AUDITOR in roles:
        return Referral.id.is_not(None)
    clauses: list[ColumnElement[bool]] = []
    if Role.FIRST_RESPONDER in roles:
        clauses.append(Referral.referring_organisation_id == principal.organisation_id)
    if roles & _ROUTED_UNIT_ROLES:
        clauses.append(Referral.routed_to_id == principal.organisation_id)
    return or_(*clauses) if clauses else false()


def visible_referrals(principal: Principal) -> Select[Referral]:
    """`SELECT referrals` restricted to what the user may see."""
    return select(Referral).where(visibility(principal))


def full_load() -> Sequence[LoaderOption]:
    """Everything the representation shows, loaded eagerly (relationships are lazy="raise")."""
    return (
        selectinload(Referral.referring_organisation),
        selectinload(Referral.routed_to),
        selectinload(Referral.submitted_by),
        selectinload(Referral.assigned_to),
        selectinload(Referral.exploitation_types),
        selectinload(Referral.decisions).options(
            selectinload(Decision.decided_by),
            selectinload(Decision.review_by),
            selectinload(Decision.unit),
        ),
        selectinload(Referral.reconsideration_requests).options(
            selectinload(ReconsiderationRequest.requested_by),
            selectinload(ReconsiderationRequest.decided_by),
        ),
        selectinload(Referral.notes).selectinload(Note.by),
        selectinload(Referral.letters),
    )


async def load(
    session: AsyncSession,
    principal: Principal | None,
    referral_id: uuid.UUID,
    *,
    lock: bool = False,
    fresh: bool = False,
    options: Sequence[LoaderOption] | None = None,
) -> Referral:
    """The one way to load a referral: 404 when it is missing or `principal` may not see it.

    `principal` None drops the visibility filter: only for the outcome endpoint's immigration
    officers (who may read any referral's outcome) and for internal code (intake reading back
    what it filed). `lock` takes the referral's row lock for this transaction, as every command
    does: a racing command waits for this one and then sees the new version, so its `If-Match`
    is stale (412); the version check in the UPDATE is the second line of defence. `fresh`
    reloads a referral already in the session. `options` defaults to everything the
    representation and the commands need (`full_load`).
    """
    query = select(Referral) if principal is None else visible_referrals(principal)
    query = query.where(Referral.id == referral_id)
    query = query.options(*(full_load() if options is None else options))
    if lock:
        query = query.with_for_update(of=Referral)
    if fresh:
        query = query.execution_options(populate_existing=True)
    referral = await session.scalar(query)
    if referral is None:
        raise NotFound("no such referral")
    return referral


def summary_load() -> Sequence[LoaderOption]:
    """What a list item shows besides the row: the routed unit (no N+1)."""
    return (selectinload(Referral.routed_to),)


@dataclass(frozen=True, slots=True)
class ListFilters:
    """The filters of GET /referrals; dates are inclusive Welsh calendar dates."""

    status: Status | None = None
    created_from: date | None = None
    created_to: date | None = None

    def __post_init__(self) -> None:
        if self.created_from and self.created_to and self.created_from > self.created_to:
            raise ValidationFailed(
                "the period ends before it starts",
                errors=[FieldError("created_to", "must not be before created_from")],
            )


class Keyset(BaseModel):
    """Where a page starts: after this (created_at, id), newest first. As a cursor's values
    it is read through `Moment`, so a time without a zone or past the year 9999 is refused."""

    model_config = ConfigDict(frozen=True)

    created_at: Moment
    id: uuid.UUID

    def cursor_values(self) -> dict[str, str]:
        return {"created_at": self.created_at.isoformat(), "id": str(self.id)}


def _filtered(principal: Principal, filters: ListFilters) -> Select[Referral]:
    query = visible_referrals(principal)
    if filters.status is not None:
        query = query.where(Referral.status == filters.status.value)
    if filters.created_from is not None:
        query = query.where(Referral.created_on >= filters.created_from)
    if filters.created_to is not None:
        query = query.where(Referral.created_on <= filters.created_to)
    return query


def list_statement(
    principal: Principal, filters: ListFilters, *, after: Keyset | None, limit: int
) -> Select[Referral]:
    """The `SELECT` of a list page (`benchmarks/plans.py` explains it)."""
    query = _filtered(principal, filters)
    if after is not None:
        # One row comparison, which an index on (…, created_at, id) answers directly.
        key = tuple_(Referral.created_at, Referral.id)
        query = query.where(key < (after.created_at, after.id))
    return query.order_by(Referral.created_at.desc(), Referral.id.desc()).limit(limit)


async def list_page(
    session: AsyncSession,
    principal: Principal,
    filters: ListFilters,
    *,
    after: Keyset | None,
    limit: int,
) -> tuple[list[Referral], Keyset | None]:
    """One page of the referrals this user may see, newest first, and the next page's keyset.

    Keyset pagination on (created_at, id), both descending: a page never repeats or skips a
    referral that was there when the first page was read, whatever is filed meanwhile.
    """
    query = list_statement(principal, filters, after=after, limit=limit + 1)
    rows = list((await session.scalars(query.options(*summary_load()))).all())
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], Keyset(created_at=last.created_at, id=last.id)


async def get_outcome_of(
    session: AsyncSession, principal: Principal, referral_id: uuid.UUID
) -> Referral:
    """The referral whose outcome this user asks for (API.md: the referrer's first responders,
    and immigration officers for any referral); 404 when not visible or missing.

    Only the decisions and reconsideration requests are loaded: the outcome shows nothing else.
    """
    options = (
        selectinload(Referral.decisions),
        selectinload(Referral.reconsideration_requests),
    )
    if Role.IMMIGRATION_OFFICER in principal.acting_roles:
        # DESIGN §5: the immigration liaison may read any referral's outcome, nothing else of it.
        return await load(session, None, referral_id, options=options)
    return await load(session, principal, referral_id, options=options)
