"""What a loaded referral's own rows say: its pending proposal, its open reconsideration
request, the negative decision in question, who took part, and the date its next step is due.

Needs the referral's decisions and reconsideration requests loaded. Reads only: it changes
nothing and calls no other module of the referral's code, so a command that asks it a question
gets an answer, not a detour (`app.referrals.command_steps` builds the table's `Facts` from it).
"""

from __future__ import annotations

from datetime import date

from app.referrals.models import Decision, ReconsiderationRequest, Referral
from app.referrals.workflow import DecisionStatus, NextAction, Outcome, ReconsiderationStatus

NO_DUE_DATE = date.max  # the queue's order puts work with no due date last


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
