"""The workflow's guards: the state conditions (409) and the separation-of-duties rules (403)
that rows of the transition table (`app.referrals.workflow.TRANSITIONS`) name.

Owns each rule's test and its refusal in words (`app.referrals.wording`), citing the rule it
enforces. Must not: touch the database or HTTP (pure: no SQLAlchemy, no FastAPI), read the
clock, or read anything of immigration (DESIGN §5). It reads `Facts` and `Actor` only, whose
types it names without importing `workflow` at run time (the table imports this module).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.errors import InvalidState, SeparationOfDuties
from app.referrals import wording

if TYPE_CHECKING:
    from app.referrals.workflow import Actor, Facts


def refusal(status: str, why: str) -> InvalidState:
    """A 409 in words; API.md: its detail always names the current status."""
    return InvalidState(f"{why} (current status: {status}).")


def _refusal(facts: Facts, why: str) -> InvalidState:
    return refusal(facts.status, why)


def no_pending_proposal(facts: Facts) -> None:
    # API.md: while a proposal awaits its review, another decision or a suspension is 409.
    if facts.pending_proposal is not None:
        stage = wording.STAGES[facts.pending_proposal]
        raise _refusal(
            facts,
            f"A proposed {stage} decision awaits its review: nothing else can be decided, "
            "and the referral cannot be suspended, until it is reviewed",
        )


def pending_rg_proposal(facts: Facts) -> None:
    # DESIGN §4: a second review confirms or rejects a proposed negative RG decision.
    if facts.pending_proposal != "reasonable_grounds":
        raise _refusal(facts, "No proposed reasonable-grounds decision awaits a review")


def pending_cg_proposal(facts: Facts) -> None:
    # DESIGN §4: the panel reviews a proposed negative CG decision.
    if facts.pending_proposal != "conclusive_grounds":
        raise _refusal(facts, "No proposed conclusive-grounds decision awaits a review")


def no_open_reconsideration(facts: Facts) -> None:
    # API.md: one reconsideration request may be open at a time.
    if facts.open_reconsideration:
        raise _refusal(
            facts, "A reconsideration request is already open: wait for its decision first"
        )


def open_reconsideration(facts: Facts) -> None:
    # API.md: only an open request can be accepted or declined.
    if not facts.open_reconsideration:
        raise _refusal(facts, "No reconsideration request is open")


def knows_state_before_suspension(facts: Facts) -> None:
    # DESIGN §4: resuming returns the referral to the state it left.
    if facts.status_before_suspension is None:
        raise _refusal(
            facts, "The referral cannot be resumed: the status it had before is not recorded"
        )


def knows_state_before_negative(facts: Facts) -> None:
    # DESIGN §4: an accepted reconsideration returns to the state before the negative decision.
    if facts.status_before_negative is None:
        raise _refusal(
            facts,
            "The request cannot be accepted: the status before the negative decision is not "
            "recorded",
        )


def not_the_filer(facts: Facts, actor: Actor) -> None:
    # DESIGN §4: nobody decides a referral they filed.
    if actor.user_id == facts.submitted_by:
        raise SeparationOfDuties(
            "You filed this referral, so you cannot decide it or review its decisions: "
            "another member of the deciding unit must."
        )


def not_the_proposer(facts: Facts, actor: Actor) -> None:
    # DESIGN §4: nobody reviews their own proposal.
    if actor.user_id == facts.proposer_id:
        reviewer = wording.REVIEWERS.get(facts.pending_proposal or "", "someone")
        raise SeparationOfDuties(
            f"Only {reviewer} who did not propose this decision can review it: "
            "you cannot review your own proposal."
        )


def took_no_other_part(facts: Facts, actor: Actor) -> None:
    # DESIGN §4: a panel member who decided or reviewed the case cannot sit on its panel.
    if actor.user_id in facts.participants:
        raise SeparationOfDuties(
            "You took part in this case, so you cannot sit on its panel: "
            "a panel member who took no part must review the decision."
        )


def not_the_questioned_decider(facts: Facts, actor: Actor) -> None:
    # API.md: a reconsideration is decided by someone other than the one it questions.
    if actor.user_id == facts.questioned_decider_id:
        raise SeparationOfDuties(
            "You took the decision this request questions: "
            "another decision maker must decide whether to reconsider it."
        )
