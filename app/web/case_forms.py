"""The forms on the case itself for the deciders of the unit it is routed to (WEB.md "Pages"):
suspend while the person is missing, and resume, each with its reason; and assign it to one of
the unit's decision makers (the form asks whom: the API's default, oneself, is one choice).

Each runs the API's command (`case_commands`) with the form's version as `If-Match`, by
`referral_page.run_command`, and is offered only where `command_steps.permitted` says the
person may make it now. Their controls are prefixed (`suspend_reason`, `resume_reason`): the
withdrawal form on the same page asks a `reason` too, and each keeps only its own typed text.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response

from app.http import RequestNow
from app.i18n.core_noop import N_
from app.identity.permissions import Permission
from app.referrals import case_commands
from app.referrals.command_schemas import AssignRequest, ResumeRequest, SuspendRequest
from app.web.pages import Page, PageRoute, signed_in
from app.web.referral_page import CommandForm, run_command

router = APIRouter(route_class=PageRoute)
Suspender = Annotated[Page, Depends(signed_in(Permission.SUSPEND))]
Assigner = Annotated[Page, Depends(signed_in(Permission.ASSIGN))]


class AssignForm(AssignRequest):
    """The form asks whom, always: no choice is a missing answer, not "oneself"."""

    user_id: uuid.UUID


SUSPEND = CommandForm(
    case_commands.suspend,
    SuspendRequest,
    ("reason",),
    "suspended",
    omit_blank=frozenset({"reason"}),
    plain={"suspend_reason": N_("Enter why the referral is suspended")},
    name="suspend",
    prefix="suspend_",
)
RESUME = CommandForm(
    case_commands.resume,
    ResumeRequest,
    ("reason",),
    "resumed",
    omit_blank=frozenset({"reason"}),
    plain={"resume_reason": N_("Enter why the referral is resumed")},
    name="resume",
    prefix="resume_",
)


@router.post("/referrals/{referral_id}/suspend")
async def suspend(
    request: Request, page: Suspender, referral_id: uuid.UUID, now: RequestNow
) -> Response:
    return await run_command(request, page, referral_id, now, SUSPEND)


@router.post("/referrals/{referral_id}/resume")
async def resume(
    request: Request, page: Suspender, referral_id: uuid.UUID, now: RequestNow
) -> Response:
    return await run_command(request, page, referral_id, now, RESUME)


ASSIGN = CommandForm(
    case_commands.assign,
    AssignForm,
    ("user_id",),
    "assigned",
    omit_blank=frozenset({"user_id"}),
    plain={"user_id": N_("Select who the referral is assigned to")},
    name="assign",
)


@router.post("/referrals/{referral_id}/assign")
async def assign(
    request: Request, page: Assigner, referral_id: uuid.UUID, now: RequestNow
) -> Response:
    return await run_command(request, page, referral_id, now, ASSIGN)
