"""Request bodies of the workflow's commands (API.md "Referrals"), one per command.

Every body is a `RequestModel`, so an unknown field is 422: a client can neither slip in a
server-owned field (`status`, `version`, `routed_to`, `decided_by`, …) nor an immigration fact
(`immigration`, `home_office_reference`, …), which the victim side never accepts (DESIGN §5).
Reasons, comments and grounds are required and never blank (DESIGN §4). Shape only: rules that
depend on the clock or the referral (a date of birth in the future, a unit that decides) are
the commands' to check.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Self

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from app.referrals.workflow import Outcome, Stage
from app.schemas import Reason, RequestModel, ShortText, StrictBool

Age = Annotated[int, Field(ge=0, le=120, strict=True)]


class DecisionRequest(RequestModel):
    """A reasonable-grounds or conclusive-grounds decision, with written reasons."""

    stage: Stage
    outcome: Outcome
    reasons: Reason
    early_decision_reason: Reason | None = None


class ReviewRequest(RequestModel):
    """The second review of a negative RG proposal, or the panel's review of a negative CG."""

    agree: StrictBool
    comments: Reason


class ReconsiderationCreate(RequestModel):
    """The referring organisation's grounds for reconsidering a negative decision."""

    grounds: Reason


class ReconsiderationDecision(RequestModel):
    """Accept or decline an open reconsideration request, with reasons."""

    accept: StrictBool
    reasons: Reason


class WithdrawRequest(RequestModel):
    reason: Reason


class SuspendRequest(RequestModel):
    reason: Reason


class ResumeRequest(RequestModel):
    reason: Reason


class AssignRequest(RequestModel):
    """Whom to assign; the caller when left out."""

    user_id: uuid.UUID | None = None


class Consent(RequestModel):
    """An adult's consent to the referral, and the day it was recorded."""

    given: StrictBool
    recorded_on: date


class AgeRequest(RequestModel):
    """An age assessment: a date of birth or an estimated age (exactly one), and why.

    `consent` is this service's addition to API.md: a child's referral needs none, so a person
    found to be an adult can only stay referred once their consent is recorded, and this is
    where it is recorded (without it, an adult without consent on file is 422)."""

    date_of_birth: date | None = None
    estimated_age: Age | None = None
    reason: Reason
    consent: Consent | None = None

    @model_validator(mode="after")
    def _exactly_one_age(self) -> Self:
        # API.md: `{"date_of_birth" | "estimated_age", "reason"}` — one assessment at a time.
        if (self.date_of_birth is None) == (self.estimated_age is None):
            raise PydanticCustomError(
                "value_error", "Give a date of birth or an estimated age, but not both."
            )
        return self


class RerouteRequest(RequestModel):
    """The code of the decision unit to route to, and why."""

    to: ShortText
    reason: Reason


class NoteCreate(RequestModel):
    """Further information for the decision."""

    text: Reason
