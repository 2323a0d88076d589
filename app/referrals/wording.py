"""The workflow's names in plain words, for the `detail` of its refusals (docs/errors.md).

A refusal says what the person can do, in words they use: "Only a senior decision maker of the
unit the referral is routed to can confirm a proposed negative reasonable-grounds decision", not
"confirm_rg_negative is for senior_decision_maker". Status values stay as they are: API.md has
every 409 name the referral's current status, as the representation's `status` spells it.

Pure, like `workflow` (which uses it): keys are the values of `workflow.Command`, `Stage` and
`Relation`, so that this module need not import the one that imports it; a test checks that
every member has its words.
"""

from __future__ import annotations

from collections.abc import Iterable

from app.identity.roles import Role

COMMANDS: dict[str, str] = {
    "decide_rg_positive": "take a positive reasonable-grounds decision",
    "propose_rg_negative": "propose a negative reasonable-grounds decision",
    "confirm_rg_negative": "confirm a proposed negative reasonable-grounds decision",
    "reject_rg_negative": "reject a proposed negative reasonable-grounds decision",
    "decide_cg_positive": "take a positive conclusive-grounds decision",
    "propose_cg_negative": "propose a negative conclusive-grounds decision",
    "panel_agree": "agree with a proposed negative conclusive-grounds decision",
    "panel_disagree": "disagree with a proposed negative conclusive-grounds decision",
    "request_reconsideration": "ask for the negative decision to be reconsidered",
    "accept_reconsideration": "accept a reconsideration request",
    "decline_reconsideration": "decline a reconsideration request",
    "withdraw": "withdraw the referral",
    "suspend": "suspend the referral",
    "resume": "resume the referral",
    "assign": "assign the referral",
    "record_age": "record an age assessment",
    "reroute": "route the referral to another decision unit",
    "add_note": "add a note to the referral",
}
"""What each command does, as the end of "Only … can …"."""

STAGES: dict[str, str] = {
    "reasonable_grounds": "reasonable-grounds",
    "conclusive_grounds": "conclusive-grounds",
}

REVIEWERS: dict[str, str] = {
    "reasonable_grounds": "a senior decision maker",
    "conclusive_grounds": "a panel member",
}
"""Who reviews a proposal of each stage (DESIGN §4), as a refusal names them."""

RELATIONS: dict[str, str] = {
    "referrer": "of the referring organisation",
    "routed_unit": "of the unit the referral is routed to",
}

ROLES: dict[Role, str] = {
    Role.FIRST_RESPONDER: "first responder",
    Role.DECISION_MAKER: "decision maker",
    Role.SENIOR_DECISION_MAKER: "senior decision maker",
    Role.PANEL_MEMBER: "panel member",
    Role.IMMIGRATION_OFFICER: "immigration officer",
    Role.AUDITOR: "auditor",
    Role.ADMIN: "administrator",
}


def roles(allowed: Iterable[Role]) -> str:
    """ "decision maker" for decision makers and seniors (a senior may do all a decision maker
    may, API.md), else the roles joined with "or"."""
    names = set(allowed)
    if Role.DECISION_MAKER in names:
        names.discard(Role.SENIOR_DECISION_MAKER)
    return " or ".join(ROLES[role] for role in Role if role in names)


def only(who: Iterable[tuple[Iterable[Role], str]], command: str) -> str:
    """ "Only a decision maker of the unit the referral is routed to can assign the referral."

    `who` holds (roles, relation) pairs, one per way of being allowed to run `command`.
    """
    people = " or ".join(f"a {roles(allowed)} {RELATIONS[relation]}" for allowed, relation in who)
    return f"Only {people} can {COMMANDS[command]}."
