"""The decision commands: propose or take a decision, review a proposal, assign who takes the
decisions, ask for and decide a reconsideration. Built on the shared steps of
`app.referrals.commands` (load → guard → change → audit → flush), one victim-track event each.

Owns what a decision records (DESIGN §4): its unit, the decision test's version in force, the
working days it took and whether it met its due date, so that statistics need no calendar.
Reasonable grounds count from the submission date (what the Home Office's "time to decision"
measures) and are due on `rg_due` as it stands then (moved by suspension or an accepted
reconsideration); conclusive grounds count from the reasonable-grounds decision's date and have
no due date (`met` None).

Must not: commit, build HTTP responses, decide state rules itself (the workflow table does), or
read anything of immigration (DESIGN §5).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.errors import FieldError, NotFound, RuleViolation
from app.identity.models import User
from app.identity.principal import Principal
from app.identity.roles import Role, effective_roles
from app.referrals import workflow
from app.referrals.commands import acting_user, change, check, record
from app.referrals.deadlines import add_working_days, met, wales_date, working_days_between
from app.referrals.facts import facts_of, questioned_decision
from app.referrals.models import Decision, ReconsiderationRequest, Referral
from app.referrals.workflow import (
    Command,
    DecisionStatus,
    Outcome,
    ReconsiderationStatus,
    Stage,
    Status,
)
from app.settings import Settings

_Owned = TypeVar("_Owned", Decision, ReconsiderationRequest)

# --- decisions ----------------------------------------------------------------------------


async def propose_decision(
    session: AsyncSession,
    principal: Principal,
    referral: Referral,
    *,
    stage: Stage,
    outcome: Outcome,
    reasons: str,
    early_decision_reason: str | None,
    now: datetime,
    settings: Settings,
) -> Decision:
    """Decide (positive: effective at once) or propose (negative: awaits its review)."""
    transition = check(workflow.DECISION_COMMANDS[(stage, outcome)], referral, principal)
    today = wales_date(now)
    if stage == Stage.CONCLUSIVE_GROUNDS:
        _early_decision_needs_reason(referral, today, early_decision_reason)
    decision = _new_decision(
        referral,
        await acting_user(session, principal),
        stage=stage,
        outcome=outcome,
        reasons=reasons,
        early_decision_reason=early_decision_reason,
        now=now,
        settings=settings,
    )
    before = referral.status
    referral.status = workflow.target_of(transition, facts_of(referral)).value
    _start_next_clock(referral, decision, today, settings)
    referral.decisions.append(decision)
    await record(
        session,
        principal,
        referral,
        now=now,
        action="decision.effective" if decision.effective_at else "decision.proposed",
        changes={
            "decision_id": str(decision.id),
            "stage": stage.value,
            "outcome": outcome.value,
            "decision_status": decision.status,
            "status": {"before": before, "after": referral.status},
            "early_decision_reason": "recorded" if early_decision_reason else None,
        },
    )
    return decision


def _early_decision_needs_reason(referral: Referral, today: date, reason: str | None) -> None:
    # DESIGN §4: a CG decision before the recovery period ends needs an explicit reason.
    ends = referral.recovery_period_ends
    if reason is None and ends is not None and today < ends:
        raise RuleViolation(
            f"The recovery period ends on {ends.isoformat()}: to take a conclusive-grounds "
            "decision before then, give the reason for deciding early.",
            errors=[
                FieldError(
                    "early_decision_reason",
                    f"Give the reason for deciding before the recovery period ends on "
                    f"{ends.isoformat()}.",
                )
            ],
        )


def _new_decision(
    referral: Referral,
    by: User,
    *,
    stage: Stage,
    outcome: Outcome,
    reasons: str,
    early_decision_reason: str | None,
    now: datetime,
    settings: Settings,
) -> Decision:
    today = wales_date(now)
    rg = stage == Stage.REASONABLE_GROUNDS
    due = referral.rg_due if rg else None
    positive = outcome == Outcome.POSITIVE
    return Decision(
        id=uuid.uuid4(),
        referral_id=referral.id,
        stage=stage.value,
        outcome=outcome.value,
        status=(DecisionStatus.EFFECTIVE if positive else DecisionStatus.PROPOSED).value,
        reasons=reasons,
        early_decision_reason=early_decision_reason,
        decided_by=by,
        decided_at=now,
        decided_on=today,
        unit=referral.routed_to,
        guidance_version=settings.guidance_version,
        working_days=working_days_between(_stage_start(referral, stage), today),
        due_on=due,
        met=met(today, due) if rg else None,
        effective_at=now if positive else None,
        review_by=None,
    )


def _stage_start(referral: Referral, stage: Stage) -> date:
    """RG counts from submission; CG from the RG decision in effect (DESIGN §4)."""
    if stage == Stage.REASONABLE_GROUNDS:
        return referral.created_on
    positives = [
        d.decided_on
        for d in referral.decisions
        if d.stage == Stage.REASONABLE_GROUNDS
        and d.outcome == Outcome.POSITIVE
        and d.status == DecisionStatus.EFFECTIVE
    ]
    return positives[-1] if positives else referral.created_on


def _start_next_clock(
    referral: Referral, decision: Decision, today: date, settings: Settings
) -> None:
    if decision.stage == Stage.REASONABLE_GROUNDS and decision.outcome == Outcome.POSITIVE:
        # DESIGN §4: the recovery period runs 30 calendar days (a setting) from the RG decision.
        referral.recovery_period_ends = today + timedelta(days=settings.recovery_period_days)
    elif decision.stage == Stage.REASONABLE_GROUNDS:
        decision.review_due = referral.rg_due  # the second review is part of the RG stage
    elif decision.outcome == Outcome.NEGATIVE:
        # DESIGN §4: the panel reviews within 10 working days (a setting) of the proposal.
        referral.panel_review_due = add_working_days(today, settings.panel_review_working_days)
        decision.review_due = referral.panel_review_due


def _one_of(items: Iterable[_Owned], wanted: uuid.UUID, what: str) -> _Owned:
    found = next((item for item in items if item.id == wanted), None)
    if found is None:
        raise NotFound(f"no such {what} on this referral")
    return found


def decision_of(referral: Referral, decision_id: uuid.UUID) -> Decision:
    """One of the referral's decisions (404 when it has no such decision)."""
    return _one_of(referral.decisions, decision_id, "decision")


async def review(
    session: AsyncSession,
    principal: Principal,
    referral: Referral,
    decision_id: uuid.UUID,
    *,
    agree: bool,
    comments: str,
    now: datetime,
) -> Decision:
    """Confirm or reject a proposed negative decision (second review for RG, panel for CG)."""
    decision = decision_of(referral, decision_id)
    command = workflow.REVIEW_COMMANDS[(Stage(decision.stage), agree)]
    transition = check(command, referral, principal)
    if decision.status != DecisionStatus.PROPOSED:
        # API.md: only the one proposed decision awaits a review.
        raise workflow.refusal(
            referral.status,
            f"This decision is {decision.status}: only a proposed decision can be reviewed",
        )
    before = referral.status
    referral.status = workflow.target_of(transition, facts_of(referral)).value
    decision.status = (DecisionStatus.EFFECTIVE if agree else DecisionStatus.REJECTED).value
    decision.effective_at = now if agree else None
    decision.review_by, decision.review_agree = await acting_user(session, principal), agree
    decision.review_comments, decision.review_at = comments, now
    referral.panel_review_due = None  # the review is done; no panel deadline runs
    await record(
        session,
        principal,
        referral,
        action="decision.reviewed",
        now=now,
        changes={
            "decision_id": str(decision.id),
            "agree": agree,
            "decision_status": decision.status,
            "status": {"before": before, "after": referral.status},
        },
    )
    return decision


# --- assignment: who takes the decisions ----------------------------------------------------------


async def assign(
    session: AsyncSession,
    principal: Principal,
    referral: Referral,
    *,
    user_id: uuid.UUID | None,
    now: datetime,
) -> Referral:
    """Assign to a decision maker of the routed unit (the caller by default)."""
    check(Command.ASSIGN, referral, principal)
    assignee = await _decision_maker_of(session, user_id or principal.id, referral.routed_to_id)
    before = referral.assigned_to_id
    referral.assigned_to = assignee
    await record(
        session,
        principal,
        referral,
        action="referral.assigned",
        now=now,
        changes={
            "assigned_to": change(str(before) if before else None, str(assignee.id)),
        },
    )
    return referral


async def _decision_maker_of(session: AsyncSession, user_id: uuid.UUID, unit_id: uuid.UUID) -> User:
    # API.md: the assignee is a decision maker of the routed unit (422 otherwise).
    user = await session.scalar(
        select(User).where(User.id == user_id).options(selectinload(User.role_rows))
    )
    if (
        user is None
        or not user.is_active
        or user.organisation_id != unit_id
        or Role.DECISION_MAKER not in effective_roles(user.roles)
    ):
        raise RuleViolation(
            "A referral can be assigned only to an active decision maker of the unit it is "
            "routed to.",
            errors=[
                FieldError(
                    "user_id",
                    "This user is not an active decision maker of the unit the referral is "
                    "routed to.",
                )
            ],
        )
    return user


# --- reconsideration ----------------------------------------------------------------------


async def request_reconsideration(
    session: AsyncSession,
    principal: Principal,
    referral: Referral,
    *,
    grounds: str,
    now: datetime,
    settings: Settings,
) -> ReconsiderationRequest:
    """The referrer asks for the negative decision in effect to be reconsidered."""
    check(Command.REQUEST_RECONSIDERATION, referral, principal)
    questioned = questioned_decision(referral)
    if questioned is None:  # a negative status always has its decision: a data fault
        raise workflow.refusal(referral.status, "No negative decision is in effect to reconsider")
    request = ReconsiderationRequest(
        id=uuid.uuid4(),
        referral_id=referral.id,
        decision_id=questioned.id,
        status=ReconsiderationStatus.OPEN.value,
        grounds=grounds,
        requested_by=await acting_user(session, principal),
        decided_by=None,
        requested_at=now,
        due_on=add_working_days(wales_date(now), settings.reconsideration_working_days),
    )
    referral.reconsideration_requests.append(request)
    await record(
        session,
        principal,
        referral,
        action="reconsideration.requested",
        now=now,
        changes={
            "request_id": str(request.id),
            "decision_id": str(questioned.id),
            "due_on": request.due_on.isoformat(),
        },
    )
    return request


def request_of(referral: Referral, request_id: uuid.UUID) -> ReconsiderationRequest:
    """One of the referral's reconsideration requests (404 when it has no such request)."""
    return _one_of(referral.reconsideration_requests, request_id, "reconsideration request")


async def decide_reconsideration(
    session: AsyncSession,
    principal: Principal,
    referral: Referral,
    request_id: uuid.UUID,
    *,
    accept: bool,
    reasons: str,
    now: datetime,
    settings: Settings,
) -> Referral:
    """Accept (back to the state before the decision) or decline an open request."""
    request = request_of(referral, request_id)
    command = Command.ACCEPT_RECONSIDERATION if accept else Command.DECLINE_RECONSIDERATION
    transition = check(command, referral, principal)
    if request.status != ReconsiderationStatus.OPEN:
        raise workflow.refusal(
            referral.status,
            f"This reconsideration request is already {request.status}: only an open request "
            "can be decided",
        )
    before = referral.status
    target = workflow.target_of(transition, facts_of(referral))
    if accept and target == Status.AWAITING_RG:
        # DESIGN §4: reasonable grounds are decided afresh, on a fresh deadline.
        referral.rg_due = add_working_days(wales_date(now), settings.rg_due_working_days)
    referral.status = target.value
    request.status = (
        ReconsiderationStatus.ACCEPTED if accept else ReconsiderationStatus.DECLINED
    ).value
    request.decided_by = await acting_user(session, principal)
    request.decided_at, request.decision_reasons = now, reasons
    await record(
        session,
        principal,
        referral,
        now=now,
        action=f"reconsideration.{request.status}",
        changes={
            "request_id": str(request.id),
            "decision_id": str(request.decision_id),
            "status": {"before": before, "after": referral.status},
        },
    )
    return referral
