"""The work queue (API.md `GET /queue`): what the caller's unit waits on them for, earliest due
first, with cursor pagination.

Which work each role sees (decided here; docs/workflow.md should say the same):

* a decision maker: `rg_decision`, `cg_decision` and `reconsideration`: the decisions they take;
* a senior decision maker: all of those and `rg_review` (the second review is theirs alone);
* a panel member: `panel_review` only.

A user with several roles sees the union. The next action comes from the workflow
(`workflow.next_action`), so the queue can never disagree with what the commands allow. Due:
`rg_due` for RG work, `recovery_period_ends` for a CG decision (its earliest date: CG has no
deadline), `panel_review_due` for the panel, the request's `due_on` for a reconsideration;
items with no due date come last, ties in reference order.

The referrals are read through the visibility filter and narrowed in SQL to the caller's unit
and the statuses that can wait on anyone; the next action and the order are computed on that
set, which is bounded by the unit's open cases. Nothing here changes anything.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from datetime import date

from pydantic import BaseModel, StrictStr
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.http import PageParams
from app.identity.principal import Principal
from app.identity.roles import Role
from app.referrals.facts import facts_of, open_request
from app.referrals.models import Referral
from app.referrals.presenters import user_ref
from app.referrals.queries import visible_referrals
from app.referrals.schemas import UserRef
from app.referrals.workflow import NextAction, Status, next_action
from app.schemas import Page, ResponseModel

_A = NextAction
ROLE_ACTIONS: dict[Role, frozenset[NextAction]] = {
    Role.DECISION_MAKER: frozenset({_A.RG_DECISION, _A.CG_DECISION, _A.RECONSIDERATION}),
    Role.SENIOR_DECISION_MAKER: frozenset({_A.RG_REVIEW}),
    Role.PANEL_MEMBER: frozenset({_A.PANEL_REVIEW}),
}
# Statuses in which a referral can wait on its unit (final and suspended ones never do).
_WAITING = (Status.AWAITING_RG, Status.RECOVERY_PERIOD, Status.RG_NEGATIVE, Status.CG_NEGATIVE)


class QueueItem(ResponseModel):
    referral_id: uuid.UUID
    reference: str
    next_action: NextAction
    due: date | None
    assigned_to: UserRef | None


def actions_for(principal: Principal) -> frozenset[NextAction]:
    """The kinds of work this user's roles take (seniors act as decision makers too)."""
    return frozenset().union(*(ROLE_ACTIONS.get(r, frozenset()) for r in principal.acting_roles))


def due_of(referral: Referral, action: NextAction) -> date | None:
    """The date the queue orders an item by (API.md `GET /queue`)."""
    if action in (NextAction.RG_DECISION, NextAction.RG_REVIEW):
        return referral.rg_due
    if action == NextAction.CG_DECISION:
        return referral.recovery_period_ends
    if action == NextAction.PANEL_REVIEW:
        return referral.panel_review_due
    request = open_request(referral)
    return request.due_on if request else None


def _key(item: QueueItem) -> tuple[str, str]:
    # ISO dates sort as dates; "9999-99-99" puts items with no due date last.
    return (item.due.isoformat() if item.due else "9999-99-99", item.reference)


async def queue(session: AsyncSession, principal: Principal, paging: PageParams) -> Page[QueueItem]:
    """One page of the caller's work, earliest due first."""
    query = (
        visible_referrals(principal)
        .where(Referral.routed_to_id == principal.organisation_id, Referral.status.in_(_WAITING))
        .options(
            selectinload(Referral.decisions),
            selectinload(Referral.reconsideration_requests),
            selectinload(Referral.assigned_to),
        )
    )
    referrals = (await session.scalars(query)).all()
    items = sorted(_work(referrals, actions_for(principal)), key=_key)
    return _page(items, paging)


def _work(referrals: Sequence[Referral], wanted: frozenset[NextAction]) -> Iterator[QueueItem]:
    for referral in referrals:
        action = next_action(facts_of(referral))
        if action is not None and action in wanted:
            yield QueueItem(
                referral_id=referral.id,
                reference=referral.reference,
                next_action=action,
                due=due_of(referral, action),
                assigned_to=user_ref(referral.assigned_to) if referral.assigned_to else None,
            )


class QueueAfter(BaseModel):
    """A page of the queue starts after this (due, reference), as `_key` orders items."""

    due: StrictStr
    reference: StrictStr


def _page(items: list[QueueItem], paging: PageParams) -> Page[QueueItem]:
    after = paging.after(QueueAfter)
    if after is not None:
        items = [item for item in items if _key(item) > (after.due, after.reference)]
    page = items[: paging.limit]
    cursor = None
    if len(items) > paging.limit:
        due, reference = _key(page[-1])
        cursor = paging.next_cursor({"due": due, "reference": reference})
    return Page[QueueItem](items=page, next_cursor=cursor)
