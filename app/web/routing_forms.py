"""The age assessment and reroute forms of a referral's page (WEB.md "Pages"), for the deciders
of the unit it is routed to: a decision maker records an assessed age (a date of birth or an
estimated age, why, and the consent of a person found to be an adult when none is on file); a
senior decision maker sends the referral to another decision unit, chosen by name.

Each runs the API's command (`case_commands.record_age`, `case_commands.reroute`) with the
form's version as `If-Match`, by `referral_page.run_command`. The controls are the API's body
fields (`date_of_birth` in its three boxes, `estimated_age`, `consent.given`,
`consent.recorded_on`, `to`), but for `reason`: the withdrawal form on the same page asks one
too, so theirs are `age_reason` and `reroute_reason`. Once either has sent the referral to
another unit, it is no longer the person's unit's to see: they go back to their queue.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response

from app.http import RequestNow
from app.i18n.core import gettext
from app.i18n.core_noop import N_
from app.identity.permissions import Permission
from app.referrals import case_commands
from app.referrals.command_schemas import AgeRequest, RerouteRequest
from app.web.forms import FormErrors, FormValues
from app.web.pages import Page, PageRoute, signed_in
from app.web.referral_fields import REQUIRED, WRONG_AGE, YES_NO, date_of
from app.web.referral_page import CommandForm, run_command

router = APIRouter(route_class=PageRoute)
AgeRecorder = Annotated[Page, Depends(signed_in(Permission.RECORD_AGE))]
Rerouter = Annotated[Page, Depends(signed_in(Permission.REROUTE))]


def read_age(values: FormValues, errors: FormErrors) -> dict[str, Any]:
    """The age form as the API's body; a date or an age that is not one is added to `errors`."""
    data: dict[str, Any] = {}
    born = date_of(values, "date_of_birth", errors)
    if born is not None:
        data["date_of_birth"] = born
    age = values.get("estimated_age").strip()
    if age.isdigit():
        data["estimated_age"] = int(age)
    elif age:
        errors.add("estimated_age", gettext(WRONG_AGE))
    if reason := values.get("age_reason"):
        data["reason"] = reason
    given = YES_NO.get(values.get("consent.given"))
    recorded = date_of(values, "consent.recorded_on", errors)
    if given is not None or recorded is not None:
        consent: dict[str, Any] = {"given": given} if given is not None else {}
        data["consent"] = consent | ({"recorded_on": recorded} if recorded else {})
    return data


AGE = CommandForm(
    case_commands.record_age,
    AgeRequest,
    (),
    "age",
    read=read_age,
    # The API's "a date of birth or an estimated age" names no field: it shows at the date.
    controls={"reason": "age_reason", "": "date_of_birth"},
    anchors={
        "date_of_birth": "date_of_birth.day",
        "consent.recorded_on": "consent.recorded_on.day",
        "consent": "consent.given",
    },
    plain={
        "age_reason": N_("Enter why the age is assessed"),
        "consent.given": REQUIRED["consent.given"],
        "consent.recorded_on": REQUIRED["consent.recorded_on"],
    },
    name="age",
    moves=True,
)
REROUTE = CommandForm(
    case_commands.reroute,
    RerouteRequest,
    ("to", "reason"),
    "rerouted",
    omit_blank=frozenset({"to", "reason"}),
    controls={"reason": "reroute_reason"},
    plain={
        "to": N_("Select the unit to send the referral to"),
        "reroute_reason": N_("Enter why the referral is sent to another unit"),
    },
    name="reroute",
    moves=True,
)


@router.post("/referrals/{referral_id}/age")
async def record_age(
    request: Request, page: AgeRecorder, referral_id: uuid.UUID, now: RequestNow
) -> Response:
    return await run_command(request, page, referral_id, now, AGE)


@router.post("/referrals/{referral_id}/reroute")
async def reroute(
    request: Request, page: Rerouter, referral_id: uuid.UUID, now: RequestNow
) -> Response:
    return await run_command(request, page, referral_id, now, REROUTE)
