"""The decision forms of a referral's page (WEB.md "Forms"): the reasonable- or conclusive-
grounds decision (one form: `stage`, `outcome` positive or negative, a negative outcome being a
proposal as in the API, `reasons`, and `early_decision_reason` when deciding CG early), the
review of a pending proposal (`agree`, `comments`: a senior's second review for RG, the panel's
for CG) and the decision on a reconsideration request (`accept`, `reasons`).

Each runs the API's command (`decision_commands`) with the form's version as `If-Match`, by
`referral_page.run_command`: a refusal shows the page again with the reason in words (a
separation-of-duties refusal included) and the typed reasons kept.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response

from app.http import RequestNow
from app.i18n.core_noop import N_
from app.identity.permissions import Permission
from app.referrals import decision_commands
from app.referrals.command_schemas import (
    DecisionRequest,
    ReconsiderationDecision,
    ReviewRequest,
)
from app.referrals.command_steps import CommandResult
from app.web.pages import Page, PageRoute, signed_in
from app.web.referral_page import CommandForm, Run, run_command

router = APIRouter(route_class=PageRoute)
Decider = Annotated[Page, Depends(signed_in(Permission.DECIDE))]
Reviewer = Annotated[Page, Depends(signed_in(Permission.REVIEW))]
Reconsiderer = Annotated[Page, Depends(signed_in(Permission.DECIDE_RECONSIDERATION))]
DECISION = CommandForm(
    decision_commands.decide,
    DecisionRequest,
    ("stage", "outcome", "reasons", "early_decision_reason"),
    "decided",
    omit_blank=frozenset({"outcome", "reasons", "early_decision_reason"}),
    plain={
        "outcome": N_("Select whether the decision is positive or negative"),
        "reasons": N_("Enter the reasons for the decision"),
    },
    name="decide",
)


def _on(command: Any, item_id: uuid.UUID) -> Run:
    """A command on one decision or request of the referral, with every door's signature."""

    async def run(*args: Any, **kwargs: Any) -> CommandResult[Any]:
        session, principal, referral_id = args
        result: CommandResult[Any] = await command(
            session, principal, referral_id, item_id, **kwargs
        )
        return result

    return run


@router.post("/referrals/{referral_id}/decisions")
async def decide(
    request: Request, page: Decider, referral_id: uuid.UUID, now: RequestNow
) -> Response:
    return await run_command(request, page, referral_id, now, DECISION)


@router.post("/referrals/{referral_id}/decisions/{decision_id}/review")
async def review(
    request: Request,
    page: Reviewer,
    referral_id: uuid.UUID,
    decision_id: uuid.UUID,
    now: RequestNow,
) -> Response:
    form = CommandForm(
        _on(decision_commands.review, decision_id),
        ReviewRequest,
        ("agree", "comments"),
        "reviewed",
        omit_blank=frozenset({"comments"}),
        booleans=frozenset({"agree"}),
        plain={
            "agree": N_("Select whether you agree with the proposed decision"),
            "comments": N_("Enter your comments on the proposed decision"),
        },
        name="review",
    )
    return await run_command(request, page, referral_id, now, form)


@router.post("/referrals/{referral_id}/reconsideration-requests/{request_id}/decision")
async def decide_reconsideration(
    request: Request,
    page: Reconsiderer,
    referral_id: uuid.UUID,
    request_id: uuid.UUID,
    now: RequestNow,
) -> Response:
    form = CommandForm(
        _on(decision_commands.decide_reconsideration, request_id),
        ReconsiderationDecision,
        ("accept", "reasons"),
        "reconsidered",
        omit_blank=frozenset({"reasons"}),
        booleans=frozenset({"accept"}),
        plain={
            "accept": N_("Select whether the decision will be reconsidered"),
            "reasons": N_("Enter the reasons for your decision on the request"),
        },
        name="reconsider",
    )
    return await run_command(request, page, referral_id, now, form)
