"""ORM → response, one view per kind of viewer (STYLE.md). No database access here.

* `for_viewer(referral, viewer, secret)`: `full()` for the referrer and the routed unit;
  `pseudonymised()` for auditors (no names, date of birth, narrative, notes, reasons,
  comments or grounds: those keys are absent; a stable pseudonym instead of the person; the
  letters listed without the person's language, never their content).
* `summary(referral)`: a list item. `outcome(referral)`: the identification outcome only.
Nothing here can show an immigration fact: the referral holds none.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import date

from app.days import wales_date
from app.identity.models import User
from app.identity.principal import Principal
from app.identity.roles import Role
from app.letters.schemas import LetterRead
from app.referrals.models import Decision, Note, ReconsiderationRequest, Referral
from app.referrals.schemas import (
    AgeGroup,
    AuditorDecisionRead,
    AuditorReconsiderationRead,
    AuditorReferralRead,
    AuditorReviewRead,
    ConsentRead,
    Deadlines,
    DecisionRead,
    ExploitationRead,
    NoteRead,
    OrganisationSummary,
    OutcomeRead,
    PotentialVictimRead,
    PseudonymisedVictim,
    ReconsiderationRead,
    ReferralRead,
    ReferralSummary,
    ReferringOrganisation,
    ReviewRead,
    StageOutcome,
    UserRef,
)
from app.referrals.workflow import DecisionStatus, NextAction, ReconsiderationStatus, Stage

# Who works a case from the routed unit's side (the referrer's side is its first responders).
_DECIDING_ROLES = frozenset({Role.DECISION_MAKER, Role.PANEL_MEMBER})


def user_ref(user: User) -> UserRef:
    return UserRef(id=user.id, display_name=user.display_name)


def deadlines(referral: Referral) -> Deadlines:
    return Deadlines(
        rg_due=referral.rg_due,
        recovery_period_ends=referral.recovery_period_ends,
        panel_review_due=referral.panel_review_due,
    )


def decision(item: Decision, *, redact: bool = False) -> DecisionRead:
    """A decision; `redact` leaves out reasons and review comments (auditors)."""
    review = None
    if item.review_by is not None and item.review_at is not None:
        review = ReviewRead(
            by=user_ref(item.review_by),
            agree=bool(item.review_agree),
            comments=None if redact else item.review_comments,
            at=item.review_at,
        )
    return DecisionRead(
        id=item.id,
        stage=item.stage,
        outcome=item.outcome,
        status=item.status,
        reasons=None if redact else item.reasons,
        decided_by=user_ref(item.decided_by),
        decided_at=item.decided_at,
        unit=item.unit.code,
        guidance_version=item.guidance_version,
        early_decision_reason=None if redact else item.early_decision_reason,
        working_days=item.working_days,
        due=item.due_on,
        met=item.met,
        review=review,
    )


def reconsideration(item: ReconsiderationRequest, *, redact: bool = False) -> ReconsiderationRead:
    return ReconsiderationRead(
        id=item.id,
        status=item.status,
        grounds=None if redact else item.grounds,
        decision_id=item.decision_id,
        requested_by=user_ref(item.requested_by),
        requested_at=item.requested_at,
        due=item.due_on,
        decided_by=user_ref(item.decided_by) if item.decided_by else None,
        decided_at=item.decided_at,
        reasons=None if redact else item.decision_reasons,
    )


def auditor_decision(item: Decision) -> AuditorDecisionRead:
    """A decision for an auditor: reasons, early-decision reason and review comments absent."""
    review = None
    if item.review_by is not None and item.review_at is not None:
        review = AuditorReviewRead(
            by=user_ref(item.review_by), agree=bool(item.review_agree), at=item.review_at
        )
    return AuditorDecisionRead(
        id=item.id,
        stage=item.stage,
        outcome=item.outcome,
        status=item.status,
        decided_by=user_ref(item.decided_by),
        decided_at=item.decided_at,
        unit=item.unit.code,
        guidance_version=item.guidance_version,
        working_days=item.working_days,
        due=item.due_on,
        met=item.met,
        review=review,
    )


def auditor_reconsideration(item: ReconsiderationRequest) -> AuditorReconsiderationRead:
    """A reconsideration request for an auditor: grounds and reasons absent."""
    return AuditorReconsiderationRead(
        id=item.id,
        status=item.status,
        decision_id=item.decision_id,
        requested_by=user_ref(item.requested_by),
        requested_at=item.requested_at,
        due=item.due_on,
        decided_by=user_ref(item.decided_by) if item.decided_by else None,
        decided_at=item.decided_at,
    )


def note(item: Note) -> NoteRead:
    return NoteRead(id=item.id, text=item.text, by=user_ref(item.by), at=item.at)


def _common(referral: Referral) -> dict[str, object]:
    return {
        "id": referral.id,
        "reference": referral.reference,
        "status": referral.status,
        "version": referral.version,
        "created_at": referral.created_at,
        "is_child": referral.is_child,
        "referring_organisation": ReferringOrganisation.model_validate(
            referral.referring_organisation
        ),
        "submitted_by": user_ref(referral.submitted_by),
        "routed_to": OrganisationSummary.model_validate(referral.routed_to),
        "assigned_to": user_ref(referral.assigned_to) if referral.assigned_to else None,
        "consent": ConsentRead(
            given=referral.consent_given, recorded_on=referral.consent_recorded_on
        ),
        "exploitation": ExploitationRead(
            types=[t.type for t in referral.exploitation_types],
            location=referral.exploitation_location,
            local_authority=referral.local_authority,
            began_on=referral.exploitation_began_on,
            ongoing=referral.exploitation_ongoing,
            exploited_as_child=referral.exploited_as_child,
        ),
        "indicators": referral.indicators,
        "deadlines": deadlines(referral),
    }


def full(referral: Referral) -> ReferralRead:
    """The representation for those who work the case."""
    victim = PotentialVictimRead(
        given_name=referral.given_name,
        family_name=referral.family_name,
        other_names=referral.other_names,
        date_of_birth=referral.date_of_birth,
        estimated_age=referral.estimated_age,
        gender=referral.gender,
        nationality=referral.nationality,
        languages=referral.languages,
        interpreter_needed=referral.interpreter_needed,
        correspondence_language=referral.correspondence_language,
    )
    return ReferralRead(
        **_common(referral),
        potential_victim=victim,
        account=referral.account,
        decisions=[decision(d) for d in referral.decisions],
        reconsideration_requests=[reconsideration(r) for r in referral.reconsideration_requests],
        notes=[note(n) for n in referral.notes],
        letters=_letters(referral),
    )


def age_group(referral: Referral) -> AgeGroup:
    """`adult`, `child`, or `unknown` when no age was ever recorded (presumed a child)."""
    if referral.date_of_birth is None and referral.estimated_age is None:
        return "unknown"
    return "child" if referral.is_child else "adult"


def pseudonym(referral: Referral, secret: str) -> str:
    """A stable pseudonym: an HMAC of the referral's id, so it never reveals the person."""
    digest = hmac.new(secret.encode(), b"pseudonym:" + referral.id.bytes, hashlib.sha256)
    return "PV-" + digest.hexdigest()[:12].upper()


def pseudonymised(referral: Referral, secret: str) -> AuditorReferralRead:
    """The auditor's view (API.md: personal data pseudonymised, narrative left out)."""
    victim = PseudonymisedVictim(
        pseudonym=pseudonym(referral, secret),
        gender=referral.gender,
        nationality=referral.nationality,
        age_group=age_group(referral),
    )
    return AuditorReferralRead(
        **_common(referral),
        potential_victim=victim,
        decisions=[auditor_decision(d) for d in referral.decisions],
        reconsideration_requests=[
            auditor_reconsideration(r) for r in referral.reconsideration_requests
        ],
        letters=_letters(referral),
    )


def works_the_case(referral: Referral, viewer: Principal) -> bool:
    """Whether the viewer is the referrer's first responder or a decider or panel member of
    the routed unit. Belonging to the routed unit is not enough: an auditor or an immigration
    officer who happens to sit there works no case (DESIGN §2, §5)."""
    refers = (
        viewer.has(Role.FIRST_RESPONDER)
        and referral.referring_organisation_id == viewer.organisation_id
    )
    decides = (
        bool(viewer.acting_roles & _DECIDING_ROLES)
        and referral.routed_to_id == viewer.organisation_id
    )
    return refers or decides


def for_viewer(
    referral: Referral, viewer: Principal, secret: str
) -> ReferralRead | AuditorReferralRead:
    """The view this user gets: full when they work the case, pseudonymised otherwise (the
    visibility filter lets no one else but an auditor this far)."""
    if works_the_case(referral, viewer):
        return full(referral)
    return pseudonymised(referral, secret)


def summary(referral: Referral) -> ReferralSummary:
    """A list item: `next_action` is the referral's stored place in the queue, which every
    command keeps equal to the workflow's (`command_steps.queue_position`)."""
    return ReferralSummary(
        id=referral.id,
        reference=referral.reference,
        status=referral.status,
        created_at=referral.created_at,
        routed_to=OrganisationSummary.model_validate(referral.routed_to),
        deadlines=deadlines(referral),
        next_action=NextAction(referral.next_action) if referral.next_action else None,
    )


def took_effect_on(item: Decision) -> date:
    """The Welsh date on which a decision took effect: a negative one only when its review
    agreed, so `effective_at` when recorded, else the day it was made."""
    return wales_date(item.effective_at) if item.effective_at is not None else item.decided_on


def _in_force(referral: Referral, stage: Stage, set_aside: set[uuid.UUID]) -> StageOutcome | None:
    done = [
        d
        for d in referral.decisions
        if d.stage == stage and d.status == DecisionStatus.EFFECTIVE and d.id not in set_aside
    ]
    if not done:
        return None
    latest = max(done, key=lambda d: d.effective_at or d.decided_at)
    return StageOutcome(outcome=latest.outcome, decided_on=took_effect_on(latest))


def outcome(referral: Referral) -> OutcomeRead:
    """The identification outcome: status and decision dates, never narrative or reasons.

    A stage shows its latest effective decision, unless an accepted reconsideration set it
    aside (the referral went back to the state before it: DESIGN §4). Needs the decisions and
    reconsideration requests loaded.
    """
    set_aside = {
        r.decision_id
        for r in referral.reconsideration_requests
        if r.status == ReconsiderationStatus.ACCEPTED
    }
    return OutcomeRead(
        reference=referral.reference,
        status=referral.status,
        reasonable_grounds=_in_force(referral, Stage.REASONABLE_GROUNDS, set_aside),
        conclusive_grounds=_in_force(referral, Stage.CONCLUSIVE_GROUNDS, set_aside),
    )


def _letters(referral: Referral) -> list[LetterRead]:
    """The letters as everyone who may read the referral sees them (CASEWORK)."""
    return [LetterRead.model_validate(x, from_attributes=True) for x in referral.letters]
