"""From a loaded referral to the workflow's pure `Facts`: what the guards read.

Needs the referral's decisions and reconsideration requests loaded.
"""

from __future__ import annotations

from app.referrals.models import Decision, ReconsiderationRequest, Referral
from app.referrals.workflow import (
    STATE_BEFORE_NEGATIVE,
    DecisionStatus,
    Facts,
    Outcome,
    ReconsiderationStatus,
    Stage,
    Status,
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
