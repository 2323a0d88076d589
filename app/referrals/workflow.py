"""The identification workflow (DESIGN §4): statuses, commands, THE transition table, its guards.

Owns which command may run from which status, for whom (role and relation to the referral), on
what conditions (409) and under which separation of duties (403), and where it leads. `check`
keeps API.md's order of checks for the part it owns: relation (403) → state (409) → separation
of duties (403). The caller has already done the role gate (403, `roles_for`), visibility (404)
and `If-Match` (428/412), and after `check` it enforces the rules that need dates (an early CG
decision's reason, 422).

Must not: touch the database or HTTP (pure: no SQLAlchemy, no FastAPI), read the clock, or read
anything of immigration (DESIGN §5: no workflow guard reads it). `docs/workflow.md` explains it
and carries the table's diagram (`app.referrals.diagram`); a test keeps the two in step. The
refusals say in words what the person can do (`app.referrals.wording`), never internal names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from app.errors import Forbidden, InvalidState, SeparationOfDuties
from app.identity.roles import Role
from app.referrals import wording


class Status(StrEnum):
    """Where a referral stands in the identification workflow."""

    AWAITING_RG = "awaiting_rg"
    """Submitted; waiting for the reasonable-grounds decision (and its review, if negative)."""
    RG_NEGATIVE = "rg_negative"
    """A confirmed negative RG decision is in effect; the referrer may ask to reconsider."""
    RECOVERY_PERIOD = "recovery_period"
    """Positive RG: the recovery period runs; waiting for the conclusive-grounds decision."""
    CG_POSITIVE = "cg_positive"
    """Conclusively identified as a victim. Final."""
    CG_NEGATIVE = "cg_negative"
    """A negative CG decision agreed by the panel is in effect; open to reconsideration."""
    SUSPENDED = "suspended"
    """Paused (the person is missing); no deadline runs; resuming returns to the state it left."""
    WITHDRAWN = "withdrawn"
    """Withdrawn with a reason before a conclusive decision. Final."""


class Stage(StrEnum):
    """The two identification decisions."""

    REASONABLE_GROUNDS = "reasonable_grounds"
    CONCLUSIVE_GROUNDS = "conclusive_grounds"


class Outcome(StrEnum):
    """A decision's answer: is the person a victim?"""

    POSITIVE = "positive"
    NEGATIVE = "negative"


class DecisionStatus(StrEnum):
    """`proposed`: a negative awaiting its review; `effective`: in force; `rejected`: not taken."""

    PROPOSED = "proposed"
    EFFECTIVE = "effective"
    REJECTED = "rejected"


class ReconsiderationStatus(StrEnum):
    """A reconsideration request: `open` until a decision maker accepts or declines it."""

    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class Command(StrEnum):
    """Everything that can be done to a referral after it is filed, named as the API's verbs."""

    DECIDE_RG_POSITIVE = "decide_rg_positive"
    PROPOSE_RG_NEGATIVE = "propose_rg_negative"
    CONFIRM_RG_NEGATIVE = "confirm_rg_negative"
    REJECT_RG_NEGATIVE = "reject_rg_negative"
    DECIDE_CG_POSITIVE = "decide_cg_positive"
    PROPOSE_CG_NEGATIVE = "propose_cg_negative"
    PANEL_AGREE = "panel_agree"
    PANEL_DISAGREE = "panel_disagree"
    REQUEST_RECONSIDERATION = "request_reconsideration"
    ACCEPT_RECONSIDERATION = "accept_reconsideration"
    DECLINE_RECONSIDERATION = "decline_reconsideration"
    WITHDRAW = "withdraw"
    SUSPEND = "suspend"
    RESUME = "resume"
    ASSIGN = "assign"
    RECORD_AGE = "record_age"
    REROUTE = "reroute"
    ADD_NOTE = "add_note"


class Relation(StrEnum):
    """How an actor relates to a referral; the caller works it out from the database."""

    REFERRER = "referrer"
    """A user of the referring organisation."""
    ROUTED_UNIT = "routed_unit"
    """A user of the deciding unit the referral is routed to."""


class NextAction(StrEnum):
    """The work a referral waits for, as the queue names it (API.md `GET /queue`)."""

    RG_DECISION = "rg_decision"
    RG_REVIEW = "rg_review"
    CG_DECISION = "cg_decision"
    PANEL_REVIEW = "panel_review"
    RECONSIDERATION = "reconsideration"


@dataclass(frozen=True)
class Actor:
    """Who is acting: their user id, roles, and relations to this referral."""

    user_id: str
    roles: frozenset[Role]
    relations: frozenset[Relation]


@dataclass(frozen=True)
class Facts:
    """Everything the guards read about one referral; built by `app.referrals.facts`."""

    status: Status
    submitted_by: str
    pending_proposal: Stage | None
    proposer_id: str | None
    open_reconsideration: bool
    questioned_decider_id: str | None
    participants: frozenset[str]
    status_before_suspension: Status | None
    status_before_negative: Status | None


Guard = Callable[[Facts], None]
"""A state condition: raises InvalidState (409) when the referral's state does not allow it."""
Duty = Callable[[Facts, Actor], None]
"""A separation-of-duties rule: raises SeparationOfDuties (403) when this actor may not."""


@dataclass(frozen=True)
class Transition:
    """One row of the table: who may run `command` from `sources`, and where it leads.

    `target` None means the referral stays where it is, or that the target is computed from the
    facts (resume, accepted reconsideration): see `target_of`.
    """

    command: Command
    sources: frozenset[Status]
    roles: frozenset[Role]
    relation: Relation
    target: Status | None
    guards: tuple[Guard, ...]
    label: str
    duties: tuple[Duty, ...] = ()


# The state a negative decision took the referral from, where an accepted reconsideration
# returns it (DESIGN §4).
STATE_BEFORE_NEGATIVE: dict[Status, Status] = {
    Status.RG_NEGATIVE: Status.AWAITING_RG,
    Status.CG_NEGATIVE: Status.RECOVERY_PERIOD,
}


# Who reviews a proposal of each stage (DESIGN §4), as a refusal names them.
_REVIEWER_OF: dict[Stage | None, str] = {
    Stage.REASONABLE_GROUNDS: "a senior decision maker",
    Stage.CONCLUSIVE_GROUNDS: "a panel member",
    None: "someone",
}


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
    if facts.pending_proposal != Stage.REASONABLE_GROUNDS:
        raise _refusal(facts, "No proposed reasonable-grounds decision awaits a review")


def pending_cg_proposal(facts: Facts) -> None:
    # DESIGN §4: the panel reviews a proposed negative CG decision.
    if facts.pending_proposal != Stage.CONCLUSIVE_GROUNDS:
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
        reviewer = _REVIEWER_OF[facts.pending_proposal]
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


# A senior decision maker may do all a decision maker may (API.md), so the table names both.
_DECIDERS = frozenset({Role.DECISION_MAKER, Role.SENIOR_DECISION_MAKER})
_SENIORS = frozenset({Role.SENIOR_DECISION_MAKER})
_PANEL = frozenset({Role.PANEL_MEMBER})
_RESPONDERS = frozenset({Role.FIRST_RESPONDER})

_AWAITING_RG = frozenset({Status.AWAITING_RG})
_RECOVERY = frozenset({Status.RECOVERY_PERIOD})
_NEGATIVE = frozenset(STATE_BEFORE_NEGATIVE)
_SUSPENDABLE = _AWAITING_RG | _RECOVERY
_SUSPENDED = frozenset({Status.SUSPENDED})
_IN_PROGRESS = _SUSPENDABLE | _SUSPENDED
# DESIGN §4: withdrawal is possible until a conclusive decision.
_WITHDRAWABLE = frozenset(Status) - {Status.CG_POSITIVE, Status.CG_NEGATIVE, Status.WITHDRAWN}
# Work can still happen in a negative state (a reconsideration), so only these two end a case.
_OPEN_CASE = frozenset(Status) - {Status.CG_POSITIVE, Status.WITHDRAWN}
_NOT_WITHDRAWN = frozenset(Status) - {Status.WITHDRAWN}

_DECIDER_DUTIES = (not_the_filer,)
_REVIEWER_DUTIES = (not_the_filer, not_the_proposer)
_PANEL_DUTIES = (not_the_filer, not_the_proposer, took_no_other_part)
_RECONSIDERER_DUTIES = (not_the_filer, not_the_questioned_decider)

_REFERRER, _UNIT = Relation.REFERRER, Relation.ROUTED_UNIT


C, S = Command, Status
_NO_GUARD: tuple[Guard, ...] = ()

# fmt: off
TRANSITIONS: tuple[Transition, ...] = (
    # command, from, who, relation, to (None: stays, or computed by `target_of`),
    # guards (the state: 409), label (the diagram), duties (separation of duties: 403)
    Transition(C.DECIDE_RG_POSITIVE, _AWAITING_RG, _DECIDERS, _UNIT, S.RECOVERY_PERIOD,
               (no_pending_proposal,), "RG positive", _DECIDER_DUTIES),
    Transition(C.PROPOSE_RG_NEGATIVE, _AWAITING_RG, _DECIDERS, _UNIT, None,
               (no_pending_proposal,), "propose RG negative", _DECIDER_DUTIES),
    Transition(C.CONFIRM_RG_NEGATIVE, _AWAITING_RG, _SENIORS, _UNIT, S.RG_NEGATIVE,
               (pending_rg_proposal,), "second review confirms", _REVIEWER_DUTIES),
    Transition(C.REJECT_RG_NEGATIVE, _AWAITING_RG, _SENIORS, _UNIT, None,
               (pending_rg_proposal,), "second review rejects", _REVIEWER_DUTIES),
    Transition(C.DECIDE_CG_POSITIVE, _RECOVERY, _DECIDERS, _UNIT, S.CG_POSITIVE,
               (no_pending_proposal,), "CG positive", _DECIDER_DUTIES),
    Transition(C.PROPOSE_CG_NEGATIVE, _RECOVERY, _DECIDERS, _UNIT, None,
               (no_pending_proposal,), "propose CG negative", _DECIDER_DUTIES),
    Transition(C.PANEL_AGREE, _RECOVERY, _PANEL, _UNIT, S.CG_NEGATIVE,
               (pending_cg_proposal,), "panel agrees", _PANEL_DUTIES),
    Transition(C.PANEL_DISAGREE, _RECOVERY, _PANEL, _UNIT, None,
               (pending_cg_proposal,), "panel disagrees", _PANEL_DUTIES),
    Transition(C.REQUEST_RECONSIDERATION, _NEGATIVE, _RESPONDERS, _REFERRER, None,
               (no_open_reconsideration,), "reconsideration requested"),
    Transition(C.ACCEPT_RECONSIDERATION, _NEGATIVE, _DECIDERS, _UNIT, None,
               (open_reconsideration, knows_state_before_negative), "reconsideration accepted",
               _RECONSIDERER_DUTIES),
    Transition(C.DECLINE_RECONSIDERATION, _NEGATIVE, _DECIDERS, _UNIT, None,
               (open_reconsideration,), "reconsideration declined", _RECONSIDERER_DUTIES),
    # No guard on a pending proposal: withdrawing is allowed and the caller rejects the proposal.
    Transition(C.WITHDRAW, _WITHDRAWABLE, _RESPONDERS, _REFERRER, S.WITHDRAWN,
               _NO_GUARD, "withdraw"),
    Transition(C.WITHDRAW, _WITHDRAWABLE, _DECIDERS, _UNIT, S.WITHDRAWN, _NO_GUARD, "withdraw"),
    Transition(C.SUSPEND, _SUSPENDABLE, _DECIDERS, _UNIT, S.SUSPENDED,
               (no_pending_proposal,), "suspend"),
    Transition(C.RESUME, _SUSPENDED, _DECIDERS, _UNIT, None,
               (knows_state_before_suspension,), "resume"),
    Transition(C.ASSIGN, _OPEN_CASE, _DECIDERS, _UNIT, None, _NO_GUARD, "assign"),
    Transition(C.RECORD_AGE, _IN_PROGRESS, _DECIDERS, _UNIT, None, _NO_GUARD, "record age"),
    Transition(C.REROUTE, _IN_PROGRESS, _SENIORS, _UNIT, None, _NO_GUARD, "reroute"),
    Transition(C.ADD_NOTE, _NOT_WITHDRAWN, _RESPONDERS, _REFERRER, None, _NO_GUARD, "add note"),
    Transition(C.ADD_NOTE, _NOT_WITHDRAWN, _DECIDERS, _UNIT, None, _NO_GUARD, "add note"),
)
# fmt: on

# How the API's bodies name the decision commands: `POST .../decisions` {stage, outcome} and
# `POST .../review` {agree} on the proposal's stage.
DECISION_COMMANDS: dict[tuple[Stage, Outcome], Command] = {
    (Stage.REASONABLE_GROUNDS, Outcome.POSITIVE): C.DECIDE_RG_POSITIVE,
    (Stage.REASONABLE_GROUNDS, Outcome.NEGATIVE): C.PROPOSE_RG_NEGATIVE,
    (Stage.CONCLUSIVE_GROUNDS, Outcome.POSITIVE): C.DECIDE_CG_POSITIVE,
    (Stage.CONCLUSIVE_GROUNDS, Outcome.NEGATIVE): C.PROPOSE_CG_NEGATIVE,
}
REVIEW_COMMANDS: dict[tuple[Stage, bool], Command] = {
    (Stage.REASONABLE_GROUNDS, True): C.CONFIRM_RG_NEGATIVE,
    (Stage.REASONABLE_GROUNDS, False): C.REJECT_RG_NEGATIVE,
    (Stage.CONCLUSIVE_GROUNDS, True): C.PANEL_AGREE,
    (Stage.CONCLUSIVE_GROUNDS, False): C.PANEL_DISAGREE,
}

# Targets read from the facts rather than the table (DESIGN §4).
_COMPUTED_TARGET: dict[Command, Callable[[Facts], Status | None]] = {
    Command.RESUME: lambda facts: facts.status_before_suspension,
    Command.ACCEPT_RECONSIDERATION: lambda facts: facts.status_before_negative,
}


def _rows(command: Command) -> list[Transition]:
    return [t for t in TRANSITIONS if t.command == command]


def roles_for(command: Command) -> frozenset[Role]:
    """The roles that may ever run `command` (the 403 gate, before visibility)."""
    return frozenset().union(*(t.roles for t in _rows(command)))


def _transition_for(command: Command, actor: Actor) -> Transition:
    for transition in _rows(command):
        if transition.roles & actor.roles and transition.relation in actor.relations:
            return transition
    who = [(t.roles, t.relation.value) for t in _rows(command)]
    raise Forbidden(wording.only(who, command))


def _check_state(transition: Transition, facts: Facts) -> None:
    if facts.status not in transition.sources:
        what = wording.COMMANDS[transition.command]
        raise _refusal(facts, f"The referral's status does not allow you to {what}")
    for guard in transition.guards:
        guard(facts)


def check(command: Command, facts: Facts, actor: Actor) -> Transition:
    """The transition `actor` may take with `command` now, or the reason they may not.

    Raises, in API.md's order: Forbidden (403) when the actor lacks the command's role and
    relation; InvalidState (409, naming the current status) when the state does not allow it;
    SeparationOfDuties (403) when this actor may not do it to this referral.
    """
    transition = _transition_for(command, actor)
    _check_state(transition, facts)
    for duty in transition.duties:
        duty(facts, actor)
    return transition


def target_of(transition: Transition, facts: Facts) -> Status:
    """The status after `transition`: the table's target, the computed one, or the current."""
    if transition.target is not None:
        return transition.target
    compute = _COMPUTED_TARGET.get(transition.command)
    if compute is None:
        return facts.status
    target = compute(facts)
    if target is None:
        raise _refusal(facts, "The status to return to is not recorded")
    return target


def _state_allows(transition: Transition, facts: Facts) -> bool:
    try:
        _check_state(transition, facts)
    except InvalidState:
        return False
    return True


def allowed_commands(facts: Facts) -> list[Command]:
    """The commands the referral's state allows, whoever asks (no role, relation or duties)."""
    return [c for c in Command if any(_state_allows(t, facts) for t in _rows(c))]


_REVIEW_ACTION = {
    Stage.REASONABLE_GROUNDS: NextAction.RG_REVIEW,
    Stage.CONCLUSIVE_GROUNDS: NextAction.PANEL_REVIEW,
}
_DECISION_ACTION = {
    Status.AWAITING_RG: NextAction.RG_DECISION,
    Status.RECOVERY_PERIOD: NextAction.CG_DECISION,
}


def next_action(facts: Facts) -> NextAction | None:
    """The work the referral waits for in the queue (API.md `GET /queue`), or None: a
    withdrawn referral waits for nothing."""
    if facts.status == Status.WITHDRAWN:
        return None
    if facts.pending_proposal is not None:
        return _REVIEW_ACTION[facts.pending_proposal]
    if facts.open_reconsideration:
        return NextAction.RECONSIDERATION
    return _DECISION_ACTION.get(facts.status)
