"""The decision commands: take or propose a decision, review a proposal, ask for and decide a
reconsideration. One function each, with the signature every door calls (session, principal,
referral id, expected version, body, time, settings), on the steps of
`app.referrals.command_steps`: load (404) → `If-Match` (428/412) → the table (403 → 409 → 403)
→ the rules that need dates (422) → the row's change (status and clocks) → one event.

Owns what a decision records (DESIGN §4): its unit, the decision test's version in force, the
working days it took and whether it met its due date, so that statistics need no calendar.
Reasonable grounds count from the submission date (what the Home Office's "time to decision"
measures) and are due on `rg_due` as it stands then (moved by suspension or an accepted
reconsideration); conclusive grounds count from the reasonable-grounds decision's date and have
no due date (`met` None). Each command hands `record` the row it made or decided, and `record`
queues what follows from it in the same transaction: the notifications and, for a decision
that took effect or a decided reconsideration, the letter to the person.

Must not: commit, build HTTP responses, write a status or a deadline by hand (the table's row
does), or read anything of immigration (DESIGN §5).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.actions import Action
from app.days import add_working_days, met, wales_date, working_days_between
from app.errors import FieldError, NotFound, RuleViolation
from app.identity.models import User
from app.identity.principal import Principal
from app.referrals.command_schemas import (
    DecisionRequest,
    ReconsiderationCreate,
    ReconsiderationDecision,
    ReviewRequest,
)
from app.referrals.command_steps import (
    CommandResult,
    acting_user,
    advance,
    change,
    check,
    load,
    record,
)
from app.referrals.facts import questioned_decision
from app.referrals.guards import refusal
from app.referrals.models import Decision, ReconsiderationRequest, Referral
from app.referrals.workflow import (
    DECISION_COMMANDS,
    REVIEW_COMMANDS,
    Command,
    DecisionStatus,
    Outcome,
    ReconsiderationStatus,
    Stage,
)
from app.settings import Settings

_Owned = TypeVar("_Owned", Decision, ReconsiderationRequest)

# --- decisions ----------------------------------------------------------------------------


async def decide(
    session: AsyncSession,
    principal: Principal,
    referral_id: uuid.UUID,
    *,
    expected_version: str | None,
    body: DecisionRequest,
    now: datetime,
    settings: Settings,
) -> CommandResult[Decision]:
    """Decide (positive: effective at once) or propose (negative: awaits its review)."""
    referral = await load(session, principal, referral_id, expected_version=expected_version)
    allowed = check(DECISION_COMMANDS[(body.stage, body.outcome)], referral, principal)
    if body.stage == Stage.CONCLUSIVE_GROUNDS:
        _early_decision_needs_reason(referral, wales_date(now), body.early_decision_reason)
    by = await acting_user(session, principal)
    decision = _new_decision(referral, by, body=body, now=now, settings=settings)
    before = referral.status
    referral.decisions.append(decision)
    advance(referral, allowed, now=now, settings=settings)  # a proposal's review_due with it
    effective = decision.effective_at is not None
    await record(
        session,
        principal,
        referral,
        now=now,
        action=Action.DECISION_EFFECTIVE if effective else Action.DECISION_PROPOSED,
        changes={
            "decision_id": str(decision.id),
            "stage": body.stage.value,
            "outcome": body.outcome.value,
            "decision_status": decision.status,
            "status": change(before, referral.status),
            "early_decision_reason": "recorded" if body.early_decision_reason else None,
        },
        subject=decision,
    )
    return CommandResult(referral, decision)


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
    referral: Referral, by: User, *, body: DecisionRequest, now: datetime, settings: Settings
) -> Decision:
    today = wales_date(now)
    rg = body.stage == Stage.REASONABLE_GROUNDS
    due = referral.rg_due if rg else None
    positive = body.outcome == Outcome.POSITIVE
    return Decision(
        id=uuid.uuid4(),
        referral_id=referral.id,
        stage=body.stage.value,
        outcome=body.outcome.value,
        status=(DecisionStatus.EFFECTIVE if positive else DecisionStatus.PROPOSED).value,
        reasons=body.reasons,
        early_decision_reason=body.early_decision_reason,
        decided_by=by,
        decided_at=now,
        decided_on=today,
        unit=referral.routed_to,
        guidance_version=settings.guidance_version,
        working_days=working_days_between(_stage_start(referral, body.stage), today),
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


def _one_of(items: Iterable[_Owned], wanted: uuid.UUID, what: str) -> _Owned:
    found = next((item for item in items if item.id == wanted), None)
    if found is None:
        raise NotFound(f"no such {what} on this referral")
    return found


async def review(
    session: AsyncSession,
    principal: Principal,
    referral_id: uuid.UUID,
    decision_id: uuid.UUID,
    *,
    expected_version: str | None,
    body: ReviewRequest,
    now: datetime,
    settings: Settings,
) -> CommandResult[Decision]:
    """Confirm or reject a proposed negative decision (second review for RG, panel for CG)."""
    referral = await load(session, principal, referral_id, expected_version=expected_version)
    decision = _one_of(referral.decisions, decision_id, "decision")
    allowed = check(REVIEW_COMMANDS[(Stage(decision.stage), body.agree)], referral, principal)
    if decision.status != DecisionStatus.PROPOSED:
        # API.md: only the one proposed decision awaits a review.
        raise refusal(
            referral.status,
            f"This decision is {decision.status}: only a proposed decision can be reviewed",
        )
    before = referral.status
    advance(referral, allowed, now=now, settings=settings)
    decision.status = (DecisionStatus.EFFECTIVE if body.agree else DecisionStatus.REJECTED).value
    decision.effective_at = now if body.agree else None
    decision.review_by, decision.review_agree = await acting_user(session, principal), body.agree
    decision.review_comments, decision.review_at = body.comments, now
    await record(
        session,
        principal,
        referral,
        action=Action.DECISION_REVIEWED,
        now=now,
        changes={
            "decision_id": str(decision.id),
            "agree": body.agree,
            "decision_status": decision.status,
            "status": change(before, referral.status),
        },
        subject=decision,
    )
    return CommandResult(referral, decision)


# --- reconsideration ----------------------------------------------------------------------


async def request_reconsideration(
    session: AsyncSession,
    principal: Principal,
    referral_id: uuid.UUID,
    *,
    expected_version: str | None,
    body: ReconsiderationCreate,
    now: datetime,
    settings: Settings,
) -> CommandResult[ReconsiderationRequest]:
    """The referrer asks for the negative decision in effect to be reconsidered."""
    referral = await load(session, principal, referral_id, expected_version=expected_version)
    allowed = check(Command.REQUEST_RECONSIDERATION, referral, principal)
    questioned = questioned_decision(referral)
    if questioned is None:  # a negative status always has its decision: a data fault
        raise refusal(referral.status, "No negative decision is in effect to reconsider")
    request = ReconsiderationRequest(
        id=uuid.uuid4(),
        referral_id=referral.id,
        decision_id=questioned.id,
        status=ReconsiderationStatus.OPEN.value,
        grounds=body.grounds,
        requested_by=await acting_user(session, principal),
        decided_by=None,
        requested_at=now,
        due_on=add_working_days(wales_date(now), settings.reconsideration_working_days),
    )
    referral.reconsideration_requests.append(request)
    advance(referral, allowed, now=now, settings=settings)
    await record(
        session,
        principal,
        referral,
        action=Action.RECONSIDERATION_REQUESTED,
        now=now,
        changes={
            "request_id": str(request.id),
            "decision_id": str(questioned.id),
            "due_on": request.due_on.isoformat(),
        },
        subject=request,
    )
    return CommandResult(referral, request)


async def decide_reconsideration(
    session: AsyncSession,
    principal: Principal,
    referral_id: uuid.UUID,
    request_id: uuid.UUID,
    *,
    expected_version: str | None,
    body: ReconsiderationDecision,
    now: datetime,
    settings: Settings,
) -> CommandResult[Referral]:
    """Accept (back to the state before the decision, on a fresh `rg_due` if that is awaiting
    reasonable grounds) or decline an open request."""
    referral = await load(session, principal, referral_id, expected_version=expected_version)
    request = _one_of(referral.reconsideration_requests, request_id, "reconsideration request")
    command = Command.ACCEPT_RECONSIDERATION if body.accept else Command.DECLINE_RECONSIDERATION
    allowed = check(command, referral, principal)
    if request.status != ReconsiderationStatus.OPEN:
        raise refusal(
            referral.status,
            f"This reconsideration request is already {request.status}: only an open request "
            "can be decided",
        )
    before = referral.status
    advance(referral, allowed, now=now, settings=settings)
    accepted = ReconsiderationStatus.ACCEPTED if body.accept else ReconsiderationStatus.DECLINED
    request.status = accepted.value
    request.decided_by = await acting_user(session, principal)
    request.decided_at, request.decision_reasons = now, body.reasons
    await record(
        session,
        principal,
        referral,
        now=now,
        action=(
            Action.RECONSIDERATION_ACCEPTED if body.accept else Action.RECONSIDERATION_DECLINED
        ),
        changes={
            "request_id": str(request.id),
            "decision_id": str(request.decision_id),
            "status": change(before, referral.status),
        },
        subject=request,
    )
    return CommandResult(referral, referral)
