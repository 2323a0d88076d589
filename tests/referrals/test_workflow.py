"""The identification state machine, pure: no database, no HTTP.

The rules below are written out by hand from DESIGN §4 and API.md "Referrals" (who may do each
command, from which statuses) rather than read back from `TRANSITIONS`, so a wrong row fails.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.errors import Forbidden, InvalidState, SeparationOfDuties
from app.identity.roles import Role
from app.referrals.diagram import mermaid
from app.referrals.workflow import (
    DECISION_COMMANDS,
    REVIEW_COMMANDS,
    TRANSITIONS,
    Actor,
    Command,
    Facts,
    NextAction,
    Outcome,
    Relation,
    Stage,
    Status,
    allowed_commands,
    check,
    next_action,
    roles_for,
    target_of,
)

C, S = Command, Status
FR, DM, SDM, PM = (
    Role.FIRST_RESPONDER,
    Role.DECISION_MAKER,
    Role.SENIOR_DECISION_MAKER,
    Role.PANEL_MEMBER,
)
FILER, PROPOSER, REVIEWER = "filer", "proposer", "reviewer"
BEFORE_NEGATIVE = {S.RG_NEGATIVE: S.AWAITING_RG, S.CG_NEGATIVE: S.RECOVERY_PERIOD}
WORKFLOW_DOC = Path(__file__).parents[2] / "docs" / "workflow.md"


def make_actor(user_id: str, *roles: Role, relation: Relation = Relation.ROUTED_UNIT) -> Actor:
    return Actor(user_id=user_id, roles=frozenset(roles), relations=frozenset({relation}))


RESPONDER = make_actor("responder", FR, relation=Relation.REFERRER)
DECIDER = make_actor("decider", DM)
SENIOR = make_actor("senior", SDM)
PANELLIST = make_actor("panellist", PM)


def make_facts(
    status: Status = S.AWAITING_RG,
    *,
    pending: Stage | None = None,
    proposer_id: str | None = None,
    open_reconsideration: bool = False,
    questioned_decider_id: str | None = None,
    participants: frozenset[str] = frozenset(),
    before_suspension: Status | None = None,
) -> Facts:
    return Facts(
        status=status,
        submitted_by=FILER,
        pending_proposal=pending,
        proposer_id=proposer_id,
        open_reconsideration=open_reconsideration,
        questioned_decider_id=questioned_decider_id,
        participants=participants,
        status_before_suspension=before_suspension,
        status_before_negative=BEFORE_NEGATIVE.get(status),
    )


# DESIGN §4 and API.md: the statuses each command may run from.
NOT_FINAL = frozenset({S.AWAITING_RG, S.RECOVERY_PERIOD, S.SUSPENDED})
SOURCES: dict[Command, frozenset[Status]] = {
    C.DECIDE_RG_POSITIVE: frozenset({S.AWAITING_RG}),
    C.PROPOSE_RG_NEGATIVE: frozenset({S.AWAITING_RG}),
    C.CONFIRM_RG_NEGATIVE: frozenset({S.AWAITING_RG}),
    C.REJECT_RG_NEGATIVE: frozenset({S.AWAITING_RG}),
    C.DECIDE_CG_POSITIVE: frozenset({S.RECOVERY_PERIOD}),
    C.PROPOSE_CG_NEGATIVE: frozenset({S.RECOVERY_PERIOD}),
    C.PANEL_AGREE: frozenset({S.RECOVERY_PERIOD}),
    C.PANEL_DISAGREE: frozenset({S.RECOVERY_PERIOD}),
    C.REQUEST_RECONSIDERATION: frozenset({S.RG_NEGATIVE, S.CG_NEGATIVE}),
    C.ACCEPT_RECONSIDERATION: frozenset({S.RG_NEGATIVE, S.CG_NEGATIVE}),
    C.DECLINE_RECONSIDERATION: frozenset({S.RG_NEGATIVE, S.CG_NEGATIVE}),
    C.WITHDRAW: frozenset(S) - {S.CG_POSITIVE, S.CG_NEGATIVE, S.WITHDRAWN},
    C.SUSPEND: frozenset({S.AWAITING_RG, S.RECOVERY_PERIOD}),
    C.RESUME: frozenset({S.SUSPENDED}),
    C.ASSIGN: frozenset(S) - {S.CG_POSITIVE, S.WITHDRAWN},
    C.RECORD_AGE: NOT_FINAL,
    C.REROUTE: NOT_FINAL,
    C.ADD_NOTE: frozenset(S) - {S.WITHDRAWN},
}

# Someone who may run each command (and took no part in the case).
ABLE: dict[Command, Actor] = {
    C.DECIDE_RG_POSITIVE: DECIDER,
    C.PROPOSE_RG_NEGATIVE: DECIDER,
    C.CONFIRM_RG_NEGATIVE: SENIOR,
    C.REJECT_RG_NEGATIVE: SENIOR,
    C.DECIDE_CG_POSITIVE: DECIDER,
    C.PROPOSE_CG_NEGATIVE: DECIDER,
    C.PANEL_AGREE: PANELLIST,
    C.PANEL_DISAGREE: PANELLIST,
    C.REQUEST_RECONSIDERATION: RESPONDER,
    C.ACCEPT_RECONSIDERATION: DECIDER,
    C.DECLINE_RECONSIDERATION: DECIDER,
    C.WITHDRAW: RESPONDER,
    C.SUSPEND: DECIDER,
    C.RESUME: DECIDER,
    C.ASSIGN: DECIDER,
    C.RECORD_AGE: DECIDER,
    C.REROUTE: SENIOR,
    C.ADD_NOTE: RESPONDER,
}

DECIDING = (
    C.DECIDE_RG_POSITIVE,
    C.PROPOSE_RG_NEGATIVE,
    C.DECIDE_CG_POSITIVE,
    C.PROPOSE_CG_NEGATIVE,
)
REVIEWING = (C.CONFIRM_RG_NEGATIVE, C.REJECT_RG_NEGATIVE, C.PANEL_AGREE, C.PANEL_DISAGREE)
RECONSIDERING = (C.ACCEPT_RECONSIDERATION, C.DECLINE_RECONSIDERATION)


def ready(command: Command, status: Status) -> Facts:
    """Facts in `status` that meet every other condition of `command`."""
    if command in (C.CONFIRM_RG_NEGATIVE, C.REJECT_RG_NEGATIVE):
        return make_facts(status, pending=Stage.REASONABLE_GROUNDS, proposer_id=PROPOSER)
    if command in (C.PANEL_AGREE, C.PANEL_DISAGREE):
        return make_facts(
            status,
            pending=Stage.CONCLUSIVE_GROUNDS,
            proposer_id=PROPOSER,
            participants=frozenset({PROPOSER, REVIEWER}),
        )
    if command in RECONSIDERING:
        return make_facts(status, open_reconsideration=True, questioned_decider_id=PROPOSER)
    if command == C.RESUME:
        return make_facts(status, before_suspension=S.AWAITING_RG)
    return make_facts(status)


def every(commands: frozenset[Command] | None = None) -> list[tuple[Command, Status]]:
    return [(c, s) for c in Command for s in Status if commands is None or c in commands]


class TestTable:
    def test_every_command_has_a_row(self) -> None:
        assert {t.command for t in TRANSITIONS} == set(Command)

    def test_every_status_is_reachable_from_awaiting_rg(self) -> None:
        reached, frontier = {S.AWAITING_RG}, [S.AWAITING_RG]
        while frontier:
            status = frontier.pop()
            for command in SOURCES:
                if status not in SOURCES[command]:
                    continue
                facts = ready(command, status)
                after = target_of(check(command, facts, ABLE[command]), facts)
                if after not in reached:
                    reached.add(after)
                    frontier.append(after)
        assert reached == set(Status)

    @pytest.mark.parametrize(
        ("command", "roles"),
        [
            (C.DECIDE_RG_POSITIVE, {DM, SDM}),
            (C.PROPOSE_CG_NEGATIVE, {DM, SDM}),
            (C.CONFIRM_RG_NEGATIVE, {SDM}),
            (C.REJECT_RG_NEGATIVE, {SDM}),
            (C.PANEL_AGREE, {PM}),
            (C.PANEL_DISAGREE, {PM}),
            (C.REQUEST_RECONSIDERATION, {FR}),
            (C.ACCEPT_RECONSIDERATION, {DM, SDM}),
            (C.WITHDRAW, {FR, DM, SDM}),
            (C.SUSPEND, {DM, SDM}),
            (C.RESUME, {DM, SDM}),
            (C.ASSIGN, {DM, SDM}),
            (C.RECORD_AGE, {DM, SDM}),
            (C.REROUTE, {SDM}),
            (C.ADD_NOTE, {FR, DM, SDM}),
        ],
    )
    def test_roles_for_names_every_role_that_may_ever_do_it(
        self, command: Command, roles: set[Role]
    ) -> None:
        assert roles_for(command) == roles


class TestStateGuard:
    @pytest.mark.parametrize(
        ("command", "status"), [(c, s) for c, s in every() if s not in SOURCES[c]]
    )
    def test_refuses_a_command_from_a_status_it_does_not_leave(
        self, command: Command, status: Status
    ) -> None:
        with pytest.raises(InvalidState) as refused:
            check(command, ready(command, status), ABLE[command])
        assert refused.value.status == 409
        assert f"current status: {status}" in refused.value.detail

    @pytest.mark.parametrize(("command", "status"), [(c, s) for c, s in every() if s in SOURCES[c]])
    def test_allows_a_command_from_each_of_its_statuses(
        self, command: Command, status: Status
    ) -> None:
        assert check(command, ready(command, status), ABLE[command]).command == command


class TestPendingProposal:
    @pytest.mark.parametrize(
        ("status", "stage", "command"),
        [
            (S.AWAITING_RG, Stage.REASONABLE_GROUNDS, C.DECIDE_RG_POSITIVE),
            (S.AWAITING_RG, Stage.REASONABLE_GROUNDS, C.PROPOSE_RG_NEGATIVE),
            (S.AWAITING_RG, Stage.REASONABLE_GROUNDS, C.SUSPEND),
            (S.RECOVERY_PERIOD, Stage.CONCLUSIVE_GROUNDS, C.DECIDE_CG_POSITIVE),
            (S.RECOVERY_PERIOD, Stage.CONCLUSIVE_GROUNDS, C.PROPOSE_CG_NEGATIVE),
            (S.RECOVERY_PERIOD, Stage.CONCLUSIVE_GROUNDS, C.SUSPEND),
        ],
    )
    def test_refuses_another_decision_or_a_suspension_until_the_review(
        self, status: Status, stage: Stage, command: Command
    ) -> None:
        facts = make_facts(status, pending=stage, proposer_id=PROPOSER)
        with pytest.raises(InvalidState, match=f"current status: {status}"):
            check(command, facts, ABLE[command])

    @pytest.mark.parametrize("stage", list(Stage))
    @pytest.mark.parametrize("actor", [RESPONDER, DECIDER])
    def test_allows_a_withdrawal_while_a_proposal_awaits_review(
        self, stage: Stage, actor: Actor
    ) -> None:
        status = S.AWAITING_RG if stage == Stage.REASONABLE_GROUNDS else S.RECOVERY_PERIOD
        facts = make_facts(status, pending=stage, proposer_id=PROPOSER)
        assert target_of(check(C.WITHDRAW, facts, actor), facts) == S.WITHDRAWN

    @pytest.mark.parametrize("command", [C.CONFIRM_RG_NEGATIVE, C.REJECT_RG_NEGATIVE])
    def test_refuses_an_rg_review_with_nothing_proposed(self, command: Command) -> None:
        with pytest.raises(InvalidState, match="current status: awaiting_rg"):
            check(command, make_facts(S.AWAITING_RG), SENIOR)

    @pytest.mark.parametrize("command", [C.PANEL_AGREE, C.PANEL_DISAGREE])
    def test_refuses_a_panel_review_with_nothing_proposed(self, command: Command) -> None:
        with pytest.raises(InvalidState, match="current status: recovery_period"):
            check(command, make_facts(S.RECOVERY_PERIOD), PANELLIST)

    @settings(max_examples=50)
    @given(
        facts=st.builds(
            make_facts,
            st.sampled_from(list(Status)),
            pending=st.none() | st.sampled_from(list(Stage)),
            proposer_id=st.just(PROPOSER),
            open_reconsideration=st.booleans(),
            before_suspension=st.none() | st.sampled_from([S.AWAITING_RG, S.RECOVERY_PERIOD]),
        )
    )
    def test_a_proposal_blocks_decisions_and_suspension_but_never_withdrawal(
        self, facts: Facts
    ) -> None:
        allowed = set(allowed_commands(facts))
        if facts.pending_proposal is not None:
            assert not allowed & {*DECISION_COMMANDS.values(), C.SUSPEND}
        assert (C.WITHDRAW in allowed) is (facts.status in SOURCES[C.WITHDRAW])


class TestReconsideration:
    @pytest.mark.parametrize("status", [S.RG_NEGATIVE, S.CG_NEGATIVE])
    def test_refuses_a_second_open_request(self, status: Status) -> None:
        facts = make_facts(status, open_reconsideration=True, questioned_decider_id=PROPOSER)
        with pytest.raises(InvalidState, match=f"current status: {status}"):
            check(C.REQUEST_RECONSIDERATION, facts, RESPONDER)

    @pytest.mark.parametrize("command", RECONSIDERING)
    def test_refuses_a_decision_with_no_open_request(self, command: Command) -> None:
        with pytest.raises(InvalidState, match="current status: rg_negative"):
            check(command, make_facts(S.RG_NEGATIVE), DECIDER)

    @pytest.mark.parametrize(
        ("status", "before"),
        [(S.RG_NEGATIVE, S.AWAITING_RG), (S.CG_NEGATIVE, S.RECOVERY_PERIOD)],
    )
    def test_accepting_returns_to_the_state_before_the_decision(
        self, status: Status, before: Status
    ) -> None:
        facts = ready(C.ACCEPT_RECONSIDERATION, status)
        assert target_of(check(C.ACCEPT_RECONSIDERATION, facts, DECIDER), facts) == before

    def test_declining_leaves_the_negative_decision_in_place(self) -> None:
        facts = ready(C.DECLINE_RECONSIDERATION, S.CG_NEGATIVE)
        transition = check(C.DECLINE_RECONSIDERATION, facts, DECIDER)
        assert target_of(transition, facts) == S.CG_NEGATIVE


class TestRelation:
    def test_refuses_a_decision_maker_asking_for_reconsideration(self) -> None:
        facts = make_facts(S.RG_NEGATIVE)
        with pytest.raises(Forbidden) as refused:
            check(C.REQUEST_RECONSIDERATION, facts, DECIDER)
        assert type(refused.value) is Forbidden

    def test_refuses_a_decision_maker_of_another_relation(self) -> None:
        outsider = make_actor("outsider", DM, relation=Relation.REFERRER)
        with pytest.raises(Forbidden) as refused:
            check(C.DECIDE_RG_POSITIVE, make_facts(), outsider)
        assert type(refused.value) is Forbidden

    def test_refuses_a_first_responder_of_the_routed_unit_withdrawing(self) -> None:
        insider = make_actor("insider", FR, relation=Relation.ROUTED_UNIT)
        with pytest.raises(Forbidden):
            check(C.WITHDRAW, make_facts(), insider)

    def test_refuses_a_plain_decision_maker_the_second_review(self) -> None:
        with pytest.raises(Forbidden) as refused:
            check(C.CONFIRM_RG_NEGATIVE, ready(C.CONFIRM_RG_NEGATIVE, S.AWAITING_RG), DECIDER)
        assert type(refused.value) is Forbidden

    def test_refuses_a_panel_member_the_second_review(self) -> None:
        with pytest.raises(Forbidden):
            check(C.CONFIRM_RG_NEGATIVE, ready(C.CONFIRM_RG_NEGATIVE, S.AWAITING_RG), PANELLIST)

    def test_lets_a_senior_do_what_a_decision_maker_does(self) -> None:
        assert check(C.DECIDE_RG_POSITIVE, make_facts(), SENIOR).command == C.DECIDE_RG_POSITIVE

    @pytest.mark.parametrize("actor", [RESPONDER, DECIDER])
    def test_returns_the_row_of_the_actors_own_relation(self, actor: Actor) -> None:
        assert check(C.WITHDRAW, make_facts(), actor).relation in actor.relations

    def test_checks_the_relation_before_the_state(self) -> None:
        with pytest.raises(Forbidden):
            check(C.REQUEST_RECONSIDERATION, make_facts(S.AWAITING_RG), DECIDER)


class TestSeparationOfDuties:
    @pytest.mark.parametrize("command", DECIDING + REVIEWING + RECONSIDERING)
    def test_refuses_the_filer_any_decision(self, command: Command) -> None:
        able = ABLE[command]
        filer = Actor(user_id=FILER, roles=able.roles, relations=able.relations)
        status = next(iter(SOURCES[command]))
        with pytest.raises(SeparationOfDuties):
            check(command, ready(command, status), filer)

    @pytest.mark.parametrize("command", [C.WITHDRAW, C.ADD_NOTE, C.REQUEST_RECONSIDERATION])
    def test_lets_the_filer_do_what_is_not_a_decision(self, command: Command) -> None:
        filer = make_actor(FILER, FR, relation=Relation.REFERRER)
        status = S.RG_NEGATIVE
        assert check(command, ready(command, status), filer).command == command

    @pytest.mark.parametrize("command", [C.CONFIRM_RG_NEGATIVE, C.REJECT_RG_NEGATIVE])
    def test_refuses_a_senior_reviewing_their_own_proposal(self, command: Command) -> None:
        proposer = make_actor(PROPOSER, SDM)
        with pytest.raises(SeparationOfDuties, match="did not propose this decision"):
            check(command, ready(command, S.AWAITING_RG), proposer)

    @pytest.mark.parametrize("command", [C.PANEL_AGREE, C.PANEL_DISAGREE])
    @pytest.mark.parametrize("user_id", [PROPOSER, REVIEWER, FILER])
    def test_refuses_a_panel_member_who_took_part_in_the_case(
        self, command: Command, user_id: str
    ) -> None:
        with pytest.raises(SeparationOfDuties):
            check(command, ready(command, S.RECOVERY_PERIOD), make_actor(user_id, PM))

    @pytest.mark.parametrize("command", RECONSIDERING)
    def test_refuses_the_questioned_decider_the_reconsideration(self, command: Command) -> None:
        with pytest.raises(SeparationOfDuties, match="You took the decision this request"):
            check(command, ready(command, S.CG_NEGATIVE), make_actor(PROPOSER, DM))

    def test_checks_the_state_before_separation_of_duties(self) -> None:
        filer = make_actor(FILER, DM)
        with pytest.raises(InvalidState, match="current status: suspended"):
            check(C.DECIDE_RG_POSITIVE, make_facts(S.SUSPENDED), filer)

    def test_separation_of_duties_is_a_403(self) -> None:
        with pytest.raises(SeparationOfDuties) as refused:
            check(C.DECIDE_RG_POSITIVE, make_facts(), make_actor(FILER, DM))
        assert refused.value.status == 403


class TestTargetOf:
    @pytest.mark.parametrize("left", [S.AWAITING_RG, S.RECOVERY_PERIOD])
    def test_resume_returns_to_the_state_it_left(self, left: Status) -> None:
        facts = make_facts(S.SUSPENDED, before_suspension=left)
        assert target_of(check(C.RESUME, facts, DECIDER), facts) == left

    def test_refuses_to_resume_without_the_state_it_left(self) -> None:
        with pytest.raises(InvalidState, match="current status: suspended"):
            check(C.RESUME, make_facts(S.SUSPENDED), DECIDER)

    @pytest.mark.parametrize(
        ("command", "status", "after"),
        [
            (C.DECIDE_RG_POSITIVE, S.AWAITING_RG, S.RECOVERY_PERIOD),
            (C.CONFIRM_RG_NEGATIVE, S.AWAITING_RG, S.RG_NEGATIVE),
            (C.DECIDE_CG_POSITIVE, S.RECOVERY_PERIOD, S.CG_POSITIVE),
            (C.PANEL_AGREE, S.RECOVERY_PERIOD, S.CG_NEGATIVE),
            (C.SUSPEND, S.RECOVERY_PERIOD, S.SUSPENDED),
            (C.WITHDRAW, S.SUSPENDED, S.WITHDRAWN),
        ],
    )
    def test_moves_the_referral(self, command: Command, status: Status, after: Status) -> None:
        facts = ready(command, status)
        assert target_of(check(command, facts, ABLE[command]), facts) == after

    @pytest.mark.parametrize(
        ("command", "status"),
        [
            (C.PROPOSE_RG_NEGATIVE, S.AWAITING_RG),
            (C.REJECT_RG_NEGATIVE, S.AWAITING_RG),
            (C.PROPOSE_CG_NEGATIVE, S.RECOVERY_PERIOD),
            (C.PANEL_DISAGREE, S.RECOVERY_PERIOD),
            (C.REQUEST_RECONSIDERATION, S.RG_NEGATIVE),
            (C.DECLINE_RECONSIDERATION, S.RG_NEGATIVE),
            (C.ASSIGN, S.CG_NEGATIVE),
            (C.RECORD_AGE, S.SUSPENDED),
            (C.REROUTE, S.AWAITING_RG),
            (C.ADD_NOTE, S.CG_POSITIVE),
        ],
    )
    def test_leaves_the_status_where_it_is(self, command: Command, status: Status) -> None:
        facts = ready(command, status)
        assert target_of(check(command, facts, ABLE[command]), facts) == status


class TestAllowedCommands:
    def test_lists_what_a_fresh_referral_allows(self) -> None:
        assert allowed_commands(make_facts(S.AWAITING_RG)) == [
            C.DECIDE_RG_POSITIVE,
            C.PROPOSE_RG_NEGATIVE,
            C.WITHDRAW,
            C.SUSPEND,
            C.ASSIGN,
            C.RECORD_AGE,
            C.REROUTE,
            C.ADD_NOTE,
        ]

    def test_allows_only_notes_after_a_positive_conclusive_decision(self) -> None:
        assert allowed_commands(make_facts(S.CG_POSITIVE)) == [C.ADD_NOTE]

    def test_allows_nothing_once_withdrawn(self) -> None:
        assert allowed_commands(make_facts(S.WITHDRAWN)) == []


class TestNextAction:
    @pytest.mark.parametrize(
        ("facts", "action"),
        [
            (make_facts(S.AWAITING_RG), NextAction.RG_DECISION),
            (make_facts(S.AWAITING_RG, pending=Stage.REASONABLE_GROUNDS), NextAction.RG_REVIEW),
            (make_facts(S.RECOVERY_PERIOD), NextAction.CG_DECISION),
            (
                make_facts(S.RECOVERY_PERIOD, pending=Stage.CONCLUSIVE_GROUNDS),
                NextAction.PANEL_REVIEW,
            ),
            (make_facts(S.RG_NEGATIVE, open_reconsideration=True), NextAction.RECONSIDERATION),
            (make_facts(S.CG_NEGATIVE, open_reconsideration=True), NextAction.RECONSIDERATION),
            (make_facts(S.RG_NEGATIVE), None),
            (make_facts(S.CG_NEGATIVE), None),
            (make_facts(S.CG_POSITIVE), None),
            (make_facts(S.SUSPENDED, before_suspension=S.AWAITING_RG), None),
            (make_facts(S.WITHDRAWN), None),
        ],
    )
    def test_names_the_work_the_referral_waits_for(
        self, facts: Facts, action: NextAction | None
    ) -> None:
        assert next_action(facts) == action

    def test_uses_the_queues_words(self) -> None:
        assert next_action(make_facts(S.AWAITING_RG, pending=Stage.REASONABLE_GROUNDS)) == (
            "rg_review"
        )


class TestCommandNames:
    def test_a_positive_decision_takes_effect_and_a_negative_one_is_proposed(self) -> None:
        for (stage, outcome), command in DECISION_COMMANDS.items():
            status = S.AWAITING_RG if stage == Stage.REASONABLE_GROUNDS else S.RECOVERY_PERIOD
            facts = make_facts(status)
            moved = target_of(check(command, facts, DECIDER), facts) != status
            assert moved is (outcome == Outcome.POSITIVE)

    @pytest.mark.parametrize(
        ("stage", "agree", "command", "reviewer"),
        [
            (Stage.REASONABLE_GROUNDS, True, C.CONFIRM_RG_NEGATIVE, SENIOR),
            (Stage.REASONABLE_GROUNDS, False, C.REJECT_RG_NEGATIVE, SENIOR),
            (Stage.CONCLUSIVE_GROUNDS, True, C.PANEL_AGREE, PANELLIST),
            (Stage.CONCLUSIVE_GROUNDS, False, C.PANEL_DISAGREE, PANELLIST),
        ],
    )
    def test_a_review_goes_to_a_senior_for_rg_and_to_the_panel_for_cg(
        self, stage: Stage, agree: bool, command: Command, reviewer: Actor
    ) -> None:
        assert REVIEW_COMMANDS[(stage, agree)] == command
        assert check(command, ready(command, next(iter(SOURCES[command]))), reviewer)


class TestMermaid:
    def test_the_workflow_doc_carries_exactly_the_generated_diagram(self) -> None:
        blocks = re.findall(r"```mermaid\n(.*?)\n```", WORKFLOW_DOC.read_text(), re.DOTALL)
        assert blocks == [mermaid()], "paste mermaid()'s output into docs/workflow.md"

    def test_draws_resume_to_both_states_a_suspension_can_leave(self) -> None:
        assert "suspended --> awaiting_rg : resume" in mermaid()
        assert "suspended --> recovery_period : resume" in mermaid()

    def test_draws_every_status_and_ends_at_the_final_ones(self) -> None:
        diagram = mermaid()
        assert all(status in diagram for status in Status)
        ends = {line.split()[0] for line in diagram.splitlines() if line.endswith("--> [*]")}
        assert ends == {"cg_positive", "withdrawn"}

    def test_is_the_same_whatever_the_hash_seed(self) -> None:
        # Sets of strings iterate in a per-process order; the doc test must not flake on it.
        code = "from app.referrals.diagram import mermaid; print(mermaid())"
        runs = {
            subprocess.run(
                [sys.executable, "-c", code],
                capture_output=True,
                text=True,
                check=True,
                env={"PYTHONHASHSEED": seed},
                cwd=Path(__file__).parents[2],
            ).stdout
            for seed in ("1", "2")
        }
        assert runs == {mermaid() + "\n"}
