"""From a loaded referral to the workflow's pure `Facts`: what the guards read, and where the
referral stands in its unit's queue.

Needs the referral's decisions and reconsideration requests loaded.
"""

from __future__ import annotations

from datetime import date

from app.referrals.models import Decision, ReconsiderationRequest, Referral
from app.referrals.workflow import (
    STATE_BEFORE_NEGATIVE,
    DecisionStatus,
    Facts,
    NextAction,
    Outcome,
    ReconsiderationStatus,
    Stage,
    Status,
    next_action,
)

NO_DUE_DATE = date.max  # the queue's order puts work with no due date last
# Statuses in which a referral can wait on its unit (final and suspended ones never do).
WAITING = frozenset(
    {Status.AWAITING_RG, Status.RECOVERY_PERIOD, Status.RG_NEGATIVE, Status.CG_NEGATIVE}
)


def pending_proposal(referral: Referral) -> Decision | None:
    """The one decision awaiting its review, if any."""
    return next((d for d in referral.decisions if d.status == DecisionStatus.PROPOSED), None)


def open_request(referral: Referral) -> ReconsiderationRequest | None:
    """The open reconsideration request, if any (at most one)."""
    return next(
        (r for r in referral.reconsideration_requests if r.status == ReconsiderationStatus.OPEN),
        None,
    )


def questioned_decision(referral: Referral) -> Decision | None:
    """The effective negative decision that put the referral in its negative state."""
    negatives = [
        d
        for d in referral.decisions
        if d.status == DecisionStatus.EFFECTIVE and d.outcome == Outcome.NEGATIVE
    ]
    return negatives[-1] if negatives else None


def participants(referral: Referral) -> frozenset[str]:
    """Everyone who decided, proposed or reviewed anything in the case (the panel rule)."""
    people = {str(d.decided_by_id) for d in referral.decisions}
    people |= {str(d.review_by_id) for d in referral.decisions if d.review_by_id}
    people |= {str(r.decided_by_id) for r in referral.reconsideration_requests if r.decided_by_id}
    return frozenset(people)


def facts_of(referral: Referral) -> Facts:
    """The facts of a fully loaded referral."""
    status = Status(referral.status)
    proposal = pending_proposal(referral)
    request = open_request(referral)
    questioned = questioned_decision(referral) if request else None
    return Facts(
        status=status,
        submitted_by=str(referral.submitted_by_id),
        pending_proposal=Stage(proposal.stage) if proposal else None,
        proposer_id=str(proposal.decided_by_id) if proposal else None,
        open_reconsideration=request is not None,
        questioned_decider_id=str(questioned.decided_by_id) if questioned else None,
        participants=participants(referral),
        status_before_suspension=(
            Status(referral.status_before_suspension) if referral.status_before_suspension else None
        ),
        status_before_negative=STATE_BEFORE_NEGATIVE.get(status),
    )


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


def queue_position(referral: Referral) -> None:
    """Keep the referral's place in its unit's queue (`next_action`, `queue_due`) in step with
    the workflow: every command calls this before it flushes, as the intake does."""
    waiting = referral.status in WAITING
    action = next_action(facts_of(referral)) if waiting else None
    referral.next_action = action.value if action else None
    due = due_of(referral, action) if action else None
    referral.queue_due = (due or NO_DUE_DATE) if action else None
