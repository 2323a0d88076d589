"""The identification workflow (DESIGN §4): statuses, commands and THE transition table.

Owns which command may run from which status, for whom (role and relation to the referral), on
what conditions (409, `app.referrals.guards`) and under which separation of duties (403), where
it leads, and what it does to the deadlines (its `clock`, applied by `app.referrals.clocks`).
`check` keeps API.md's order of checks for the part it owns: relation (403) → state (409) →
separation of duties (403). The caller has already done the role gate (403, `roles_for`),
visibility (404) and `If-Match` (428/412), and after `check` it enforces the rules that need
dates (an early CG decision's reason, 422).

Must not: touch the database or HTTP (pure: no SQLAlchemy, no FastAPI), read the clock, or read
anything of immigration (DESIGN §5: no workflow guard reads it). `docs/workflow.md` explains it
and carries the table's diagram (`app.referrals.diagram`); a test keeps the two in step. The
refusals say in words what the person can do (`app.referrals.wording`), never internal names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from app.errors import Forbidden, InvalidState
from app.identity.roles import Role
from app.referrals import wording
from app.referrals.clocks import NO_CLOCK, Clock, ClockEffect, Effect
from app.referrals.guards import (
    knows_state_before_negative,
    knows_state_before_suspension,
    no_open_reconsideration,
    no_pending_proposal,
    not_the_filer,
    not_the_proposer,
    not_the_questioned_decider,
    open_reconsideration,
    pending_cg_proposal,
    pending_rg_proposal,
    refusal,
    took_no_other_part,
)


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
    """Everything the guards read about one referral; built by `command_steps.facts_of`."""

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


@dataclass(frozen=True, kw_only=True)
class Transition:
    """One row of the table: who may run `command` from `sources`, and where it leads.

    `target` None means the referral stays where it is, or that the target is computed from the
    facts (resume, accepted reconsideration): see `target_of`. `clock` is what the transition
    does to the referral's deadlines; `guards` (409) and `duties` (403) are checked in order.
    """

    command: Command
    sources: frozenset[Status]
    roles: frozenset[Role]
    relation: Relation
    target: Status | None = None
    guards: tuple[Guard, ...] = ()
    duties: tuple[Duty, ...] = ()
    clock: ClockEffect = NO_CLOCK
    label: str


# The state a negative decision took the referral from, where an accepted reconsideration
# returns it (DESIGN §4).
STATE_BEFORE_NEGATIVE: dict[Status, Status] = {
    Status.RG_NEGATIVE: Status.AWAITING_RG,
    Status.CG_NEGATIVE: Status.RECOVERY_PERIOD,
}


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
# Withdrawn: no review will come, and a suspended referral is never resumed.
_WITHDRAWN = ClockEffect(panel_review_due=Effect.STOP, suspended_on=Effect.STOP)


C, S, T = Command, Status, Transition
_REVIEWED = ClockEffect(panel_review_due=Effect.STOP)  # the review is done: no panel deadline
# DESIGN §4 and API.md: resuming counts rg_due afresh and moves the other deadlines on.
_RESUMED = ClockEffect(
    rg_due=Effect.START,
    recovery_period_ends=Effect.MOVE,
    panel_review_due=Effect.MOVE,
    suspended_on=Effect.STOP,
    review_due=Clock.PANEL_REVIEW_DUE,
)

# fmt: off
TRANSITIONS: tuple[Transition, ...] = (
    # DESIGN §4: the recovery period runs from a positive RG decision.
    T(command=C.DECIDE_RG_POSITIVE, sources=_AWAITING_RG, roles=_DECIDERS, relation=_UNIT,
      target=S.RECOVERY_PERIOD, guards=(no_pending_proposal,), duties=_DECIDER_DUTIES,
      clock=ClockEffect(recovery_period_ends=Effect.START), label="RG positive"),
    # The second review is part of the RG stage: it is due with rg_due.
    T(command=C.PROPOSE_RG_NEGATIVE, sources=_AWAITING_RG, roles=_DECIDERS, relation=_UNIT,
      guards=(no_pending_proposal,), duties=_DECIDER_DUTIES,
      clock=ClockEffect(review_due=Clock.RG_DUE), label="propose RG negative"),
    T(command=C.CONFIRM_RG_NEGATIVE, sources=_AWAITING_RG, roles=_SENIORS, relation=_UNIT,
      target=S.RG_NEGATIVE, guards=(pending_rg_proposal,), duties=_REVIEWER_DUTIES,
      clock=_REVIEWED, label="second review confirms"),
    T(command=C.REJECT_RG_NEGATIVE, sources=_AWAITING_RG, roles=_SENIORS, relation=_UNIT,
      guards=(pending_rg_proposal,), duties=_REVIEWER_DUTIES, clock=_REVIEWED,
      label="second review rejects"),
    T(command=C.DECIDE_CG_POSITIVE, sources=_RECOVERY, roles=_DECIDERS, relation=_UNIT,
      target=S.CG_POSITIVE, guards=(no_pending_proposal,), duties=_DECIDER_DUTIES,
      label="CG positive"),
    # DESIGN §4: the panel reviews within its working days of the proposal.
    T(command=C.PROPOSE_CG_NEGATIVE, sources=_RECOVERY, roles=_DECIDERS, relation=_UNIT,
      guards=(no_pending_proposal,), duties=_DECIDER_DUTIES,
      clock=ClockEffect(panel_review_due=Effect.START, review_due=Clock.PANEL_REVIEW_DUE),
      label="propose CG negative"),
    T(command=C.PANEL_AGREE, sources=_RECOVERY, roles=_PANEL, relation=_UNIT,
      target=S.CG_NEGATIVE, guards=(pending_cg_proposal,), duties=_PANEL_DUTIES,
      clock=_REVIEWED, label="panel agrees"),
    T(command=C.PANEL_DISAGREE, sources=_RECOVERY, roles=_PANEL, relation=_UNIT,
      guards=(pending_cg_proposal,), duties=_PANEL_DUTIES, clock=_REVIEWED,
      label="panel disagrees"),
    T(command=C.REQUEST_RECONSIDERATION, sources=_NEGATIVE, roles=_RESPONDERS,
      relation=_REFERRER, guards=(no_open_reconsideration,), label="reconsideration requested"),
    # DESIGN §4: reasonable grounds are decided afresh, on a fresh deadline.
    T(command=C.ACCEPT_RECONSIDERATION, sources=_NEGATIVE, roles=_DECIDERS, relation=_UNIT,
      guards=(open_reconsideration, knows_state_before_negative), duties=_RECONSIDERER_DUTIES,
      clock=ClockEffect(rg_due=Effect.START), label="reconsideration accepted"),
    T(command=C.DECLINE_RECONSIDERATION, sources=_NEGATIVE, roles=_DECIDERS, relation=_UNIT,
      guards=(open_reconsideration,), duties=_RECONSIDERER_DUTIES,
      label="reconsideration declined"),
    # No guard on a pending proposal: withdrawing is allowed and the command rejects it.
    T(command=C.WITHDRAW, sources=_WITHDRAWABLE, roles=_RESPONDERS, relation=_REFERRER,
      target=S.WITHDRAWN, clock=_WITHDRAWN, label="withdraw"),
    T(command=C.WITHDRAW, sources=_WITHDRAWABLE, roles=_DECIDERS, relation=_UNIT,
      target=S.WITHDRAWN, clock=_WITHDRAWN, label="withdraw"),
    T(command=C.SUSPEND, sources=_SUSPENDABLE, roles=_DECIDERS, relation=_UNIT,
      target=S.SUSPENDED, guards=(no_pending_proposal,),
      clock=ClockEffect(suspended_on=Effect.START), label="suspend"),
    T(command=C.RESUME, sources=_SUSPENDED, roles=_DECIDERS, relation=_UNIT,
      guards=(knows_state_before_suspension,), clock=_RESUMED, label="resume"),
    T(command=C.ASSIGN, sources=_OPEN_CASE, roles=_DECIDERS, relation=_UNIT, label="assign"),
    T(command=C.RECORD_AGE, sources=_IN_PROGRESS, roles=_DECIDERS, relation=_UNIT,
      label="record age"),
    T(command=C.REROUTE, sources=_IN_PROGRESS, roles=_SENIORS, relation=_UNIT, label="reroute"),
    T(command=C.ADD_NOTE, sources=_NOT_WITHDRAWN, roles=_RESPONDERS, relation=_REFERRER,
      label="add note"),
    T(command=C.ADD_NOTE, sources=_NOT_WITHDRAWN, roles=_DECIDERS, relation=_UNIT,
      label="add note"),
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
        raise refusal(facts.status, f"The referral's status does not allow you to {what}")
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
        raise refusal(facts.status, "The status to return to is not recorded")
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
