"""The work queue (API.md `GET /queue`): what the caller's unit waits on them for, earliest due
first, with cursor pagination.

Which work each role sees (decided here; docs/workflow.md should say the same):

* a decision maker: `rg_decision`, `cg_decision` and `reconsideration`: the decisions they take;
* a senior decision maker: all of those and `rg_review` (the second review is theirs alone);
* a panel member: `panel_review` only.

A user with several roles sees the union. Each referral keeps its place in the queue on its own
row (`next_action`, `queue_due`), set from the workflow (`command_steps.queue_position`) by every
command that changes it, so the queue can never disagree with what the commands allow and
costs one indexed query however many referrals wait: for each kind of work the caller takes,
the unit's first items in (`queue_due`, `reference`) order from `ix_referrals_queue`, merged
and cut to a page. Due: `rg_due` for RG work, `recovery_period_ends` for a CG decision (its
earliest date: CG has no deadline), `panel_review_due` for the panel, the request's `due_on` for
a reconsideration; items with no due date come last, ties in reference order. Nothing here
changes anything.
"""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel, StrictStr, field_validator
from sqlalchemy import Select, select, tuple_, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.http import PageParams
from app.identity.principal import Principal
from app.identity.roles import Role
from app.referrals.facts import NO_DUE_DATE
from app.referrals.models import Referral
from app.referrals.presenters import user_ref
from app.referrals.queries import visibility
from app.referrals.schemas import UserRef
from app.referrals.workflow import NextAction
from app.schemas import Page, ResponseModel

_A = NextAction
ROLE_ACTIONS: dict[Role, frozenset[NextAction]] = {
    Role.DECISION_MAKER: frozenset({_A.RG_DECISION, _A.CG_DECISION, _A.RECONSIDERATION}),
    Role.SENIOR_DECISION_MAKER: frozenset({_A.RG_REVIEW}),
    Role.PANEL_MEMBER: frozenset({_A.PANEL_REVIEW}),
}


class QueueItem(ResponseModel):
    referral_id: uuid.UUID
    reference: str
    next_action: NextAction
    due: date | None
    assigned_to: UserRef | None


def actions_for(principal: Principal) -> frozenset[NextAction]:
    """The kinds of work this user's roles take (seniors act as decision makers too)."""
    return frozenset().union(*(ROLE_ACTIONS.get(r, frozenset()) for r in principal.acting_roles))


class QueueAfter(BaseModel):
    """A page of the queue starts after this (due, reference), in the queue's order."""

    due: StrictStr
    reference: StrictStr

    @field_validator("due")
    @classmethod
    def _a_date(cls, value: str) -> str:
        date.fromisoformat(value)  # ValueError: not a date
        return value


def _one_kind(
    principal: Principal, action: NextAction, after: QueueAfter | None, limit: int
) -> Select[tuple[uuid.UUID]]:
    """The first `limit` items of one kind of work, from the index, as a subquery's rows."""
    query = select(Referral.id, Referral.queue_due, Referral.reference).where(
        Referral.routed_to_id == principal.organisation_id,
        Referral.next_action == action.value,
        visibility(principal),
    )
    if after is not None:
        key = tuple_(Referral.queue_due, Referral.reference)
        query = query.where(key > (date.fromisoformat(after.due), after.reference))
    kind = query.order_by(Referral.queue_due, Referral.reference).limit(limit).subquery()
    return select(kind.c.id, kind.c.queue_due, kind.c.reference)


def queue_statement(principal: Principal, after: QueueAfter | None, limit: int) -> Select[Referral]:
    """The `SELECT` of a queue page (`benchmarks/plans.py` explains it): for each kind of work
    the caller takes, the unit's first `limit` items after `after`, merged and cut."""
    kinds = [
        _one_kind(principal, action, after, limit) for action in sorted(actions_for(principal))
    ]
    merged = union_all(*kinds).subquery()
    return (
        select(Referral)
        .join(merged, Referral.id == merged.c.id)
        .order_by(merged.c.queue_due, merged.c.reference)
        .limit(limit)
    )


async def queue(session: AsyncSession, principal: Principal, paging: PageParams) -> Page[QueueItem]:
    """One page of the caller's work, earliest due first."""
    if not actions_for(principal):
        return Page[QueueItem](items=[], next_cursor=None)
    query = queue_statement(principal, paging.after(QueueAfter), paging.limit + 1)
    referrals = (await session.scalars(query.options(selectinload(Referral.assigned_to)))).all()
    items = [_item(referral) for referral in referrals]
    page = items[: paging.limit]
    cursor = None
    if len(items) > paging.limit:
        last = referrals[paging.limit - 1]
        cursor = paging.next_cursor(
            {"due": (last.queue_due or NO_DUE_DATE).isoformat(), "reference": last.reference}
        )
    return Page[QueueItem](items=page, next_cursor=cursor)


def _item(referral: Referral) -> QueueItem:
    due, action = referral.queue_due, referral.next_action
    assert action is not None  # the query took only referrals that wait for something
    return QueueItem(
        referral_id=referral.id,
        reference=referral.reference,
        next_action=NextAction(action),
        due=None if due == NO_DUE_DATE else due,
        assigned_to=user_ref(referral.assigned_to) if referral.assigned_to else None,
    )
