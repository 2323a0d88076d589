"""What the referral page needs to offer its decision forms (WEB.md "Forms"): which stage a
decision is for and which outcomes this person may give, the proposal awaiting their review,
the open reconsideration request they may decide, and whether a conclusive-grounds decision
now would be early (the API then needs `early_decision_reason`).

All of it follows `command_steps.permitted` (the table's verdict), so a page offers a form
only when the API would take it; after a refusal the form that was sent is shown again, with
what was typed (its proposal or request being the referral's pending one, if any still is).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from app.referrals.facts import open_request, pending_proposal
from app.referrals.models import Referral
from app.web.forms import FormValues

DECIDE = {
    "reasonable_grounds": {
        "positive": "decide_rg_positive",
        "negative": "propose_rg_negative",
    },
    "conclusive_grounds": {
        "positive": "decide_cg_positive",
        "negative": "propose_cg_negative",
    },
}
REVIEW = frozenset({"confirm_rg_negative", "reject_rg_negative", "panel_agree", "panel_disagree"})
RECONSIDER = frozenset({"accept_reconsideration", "decline_reconsideration"})


def decision_forms(
    referral: Referral, allowed: set[str], today: date, values: FormValues, sent: str
) -> dict[str, Any]:
    """The decision forms' context: each None when its form is not offered."""
    stage = next((s for s, by in DECIDE.items() if allowed & set(by.values())), None)
    outcomes = [o for o, command in DECIDE.get(stage or "", {}).items() if command in allowed]
    if stage is None and sent == "decide":
        stage, outcomes = values.get("stage") or None, ["positive", "negative"]
    proposal = pending_proposal(referral) if allowed & REVIEW or sent == "review" else None
    request = open_request(referral) if allowed & RECONSIDER or sent == "reconsider" else None
    ends = referral.recovery_period_ends
    return {
        "decide_stage": stage,
        "outcomes": outcomes,
        "early": stage == "conclusive_grounds" and ends is not None and today < ends,
        "review_id": str(proposal.id) if proposal else None,
        "request_id": str(request.id) if request else None,
    }
