"""Bodies of the referral endpoints (API.md "Referrals"): the form, the representation per
viewer, the commands' requests.

No schema here has a field for an immigration fact: the intake form's `immigration` part is
declared in `app.intake.schemas`, and the representation has nowhere to put one.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from app.identity.roles import Sector
from app.letters.schemas import LetterRead
from app.referrals.vocabulary import (
    ExploitationLocation,
    ExploitationType,
    Gender,
    Indicator,
    Language,
)
from app.referrals.workflow import (
    DecisionStatus,
    Outcome,
    ReconsiderationStatus,
    Stage,
    Status,
)
from app.schemas import ResponseModel

AgeGroup = Literal["adult", "child", "unknown"]


class OrganisationSummary(ResponseModel):
    code: str
    name: str


class ReferringOrganisation(OrganisationSummary):
    sector: Sector


class UserRef(ResponseModel):
    id: uuid.UUID
    display_name: str


class PotentialVictimRead(ResponseModel):
    given_name: str | None
    family_name: str | None
    other_names: list[str]
    date_of_birth: date | None
    estimated_age: int | None
    gender: Gender
    nationality: str | None
    languages: list[str]
    interpreter_needed: bool
    correspondence_language: Language


class PseudonymisedVictim(ResponseModel):
    """What an auditor sees of a person: no name, no date of birth (API.md)."""

    pseudonym: str
    gender: Gender
    nationality: str | None
    age_group: AgeGroup


class ConsentRead(ResponseModel):
    given: bool | None
    recorded_on: date | None


class ExploitationRead(ResponseModel):
    types: list[ExploitationType]
    location: ExploitationLocation
    local_authority: str
    began_on: date | None
    ongoing: bool | None
    exploited_as_child: bool | None


class Deadlines(ResponseModel):
    rg_due: date | None
    recovery_period_ends: date | None
    panel_review_due: date | None


class ReviewRead(ResponseModel):
    by: UserRef
    agree: bool
    comments: str | None = None
    at: datetime


class DecisionRead(ResponseModel):
    id: uuid.UUID
    stage: Stage
    outcome: Outcome
    status: DecisionStatus
    reasons: str | None = None
    decided_by: UserRef
    decided_at: datetime
    unit: str  # the deciding unit's organisation code
    guidance_version: str
    early_decision_reason: str | None = None
    working_days: int
    due: date | None
    met: bool | None
    review: ReviewRead | None


class ReconsiderationRead(ResponseModel):
    id: uuid.UUID
    status: ReconsiderationStatus
    grounds: str | None = None
    decision_id: uuid.UUID
    requested_by: UserRef
    requested_at: datetime
    due: date
    decided_by: UserRef | None
    decided_at: datetime | None
    reasons: str | None = None


class NoteRead(ResponseModel):
    id: uuid.UUID
    text: str
    by: UserRef
    at: datetime


class ReferralRead(ResponseModel):
    """The full representation, for those who work the case."""

    id: uuid.UUID
    reference: str
    status: Status
    version: int
    created_at: datetime
    is_child: bool
    referring_organisation: ReferringOrganisation
    submitted_by: UserRef
    routed_to: OrganisationSummary
    assigned_to: UserRef | None
    potential_victim: PotentialVictimRead
    consent: ConsentRead
    exploitation: ExploitationRead
    indicators: list[Indicator]
    account: str
    deadlines: Deadlines
    decisions: list[DecisionRead]
    reconsideration_requests: list[ReconsiderationRead]
    notes: list[NoteRead]
    letters: list[LetterRead]


class AuditorReviewRead(ResponseModel):
    """A review as an auditor sees it: who, when and whether they agreed; no comments."""

    by: UserRef
    agree: bool
    at: datetime


class AuditorDecisionRead(ResponseModel):
    """A decision as an auditor sees it: no reasons, no early-decision reason (API.md)."""

    id: uuid.UUID
    stage: Stage
    outcome: Outcome
    status: DecisionStatus
    decided_by: UserRef
    decided_at: datetime
    unit: str
    guidance_version: str
    working_days: int
    due: date | None
    met: bool | None
    review: AuditorReviewRead | None


class AuditorReconsiderationRead(ResponseModel):
    """A reconsideration request as an auditor sees it: no grounds, no reasons."""

    id: uuid.UUID
    status: ReconsiderationStatus
    decision_id: uuid.UUID
    requested_by: UserRef
    requested_at: datetime
    due: date
    decided_by: UserRef | None
    decided_at: datetime | None


class AuditorReferralRead(ResponseModel):
    """The pseudonymised representation: no narrative, notes, reasons, comments or grounds."""

    id: uuid.UUID
    reference: str
    status: Status
    version: int
    created_at: datetime
    is_child: bool
    referring_organisation: ReferringOrganisation
    submitted_by: UserRef
    routed_to: OrganisationSummary
    assigned_to: UserRef | None
    potential_victim: PseudonymisedVictim
    consent: ConsentRead
    exploitation: ExploitationRead
    indicators: list[Indicator]
    deadlines: Deadlines
    decisions: list[AuditorDecisionRead]
    reconsideration_requests: list[AuditorReconsiderationRead]
    letters: list[LetterRead]


class ReferralSummary(ResponseModel):
    id: uuid.UUID
    reference: str
    status: Status
    created_at: datetime
    routed_to: OrganisationSummary
    deadlines: Deadlines
    next_action: str | None


class StageOutcome(ResponseModel):
    outcome: Outcome
    decided_on: date


class OutcomeRead(ResponseModel):
    """What the referrer and the immigration liaison may know: the identification outcome."""

    reference: str
    status: Status
    reasonable_grounds: StageOutcome | None
    conclusive_grounds: StageOutcome | None
