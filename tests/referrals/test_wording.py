"""The workflow's refusals say in words what the person can do (issue 9, item 15): never a
command, role, stage or permission by its internal name, always a sentence.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import product

import pytest

from app.errors import AppError, Forbidden, SeparationOfDuties
from app.identity.permissions import Permission
from app.identity.roles import Role
from app.referrals import wording
from app.referrals.workflow import (
    Actor,
    Command,
    Facts,
    Relation,
    Stage,
    Status,
    check,
    target_of,
)

# Identifiers a person should never read; status values are the API's own words (API.md has
# every 409 name the current status), so they may appear.
INTERNAL = sorted(
    {v.value for v in (*Command, *Role, *Stage, *Relation) if "_" in v.value}
    | {p.value for p in Permission}
)
PEOPLE = ("filer", "proposer", "reviewer", "someone")


def _facts(status: Status, pending: Stage | None, open_request: bool) -> Facts:
    return Facts(
        status=status,
        submitted_by="filer",
        pending_proposal=pending,
        proposer_id="proposer" if pending else None,
        open_reconsideration=open_request,
        questioned_decider_id="proposer" if open_request else None,
        participants=frozenset({"proposer", "reviewer"}),
        status_before_suspension=None,
        status_before_negative=None,
    )


def _actors() -> Iterator[Actor]:
    for user_id, role, relation in product(PEOPLE, Role, Relation):
        yield Actor(user_id, frozenset({role}), frozenset({relation}))


def every_refusal() -> Iterator[AppError]:
    """Every refusal the workflow can give: each command, status, proposal, request, actor."""
    stages: list[Stage | None] = [None, *Stage]
    for command, status, pending, open_request in product(Command, Status, stages, (False, True)):
        facts = _facts(status, pending, open_request)
        for actor in _actors():
            try:
                target_of(check(command, facts, actor), facts)
            except AppError as refused:
                yield refused


def test_every_command_stage_and_relation_has_its_words() -> None:
    assert set(wording.COMMANDS) == {c.value for c in Command}
    assert set(wording.STAGES) == {s.value for s in Stage}
    assert set(wording.RELATIONS) == {r.value for r in Relation}
    assert set(wording.ROLES) == set(Role)


def test_no_refusal_names_a_command_role_stage_or_permission() -> None:
    details = {refused.detail for refused in every_refusal()}
    assert len(details) > 20  # the walk reaches every kind of refusal
    for detail in details:
        named = [name for name in INTERNAL if re.search(rf"\b{re.escape(name)}\b", detail)]
        assert not named, detail


def test_every_refusal_is_a_sentence() -> None:
    for detail in {refused.detail for refused in every_refusal()}:
        assert detail[0].isupper(), detail
        assert detail.endswith("."), detail


def test_a_role_refusal_says_who_may() -> None:
    panel_review = _facts(Status.RECOVERY_PERIOD, Stage.CONCLUSIVE_GROUNDS, False)
    senior = Actor("someone", frozenset({Role.SENIOR_DECISION_MAKER}), frozenset(Relation))
    with pytest.raises(Forbidden) as refused:
        check(Command.PANEL_AGREE, panel_review, senior)
    assert refused.value.detail == (
        "Only a panel member of the unit the referral is routed to can agree with a proposed "
        "negative conclusive-grounds decision."
    )


def test_a_refusal_names_a_decision_maker_once_for_seniors_too() -> None:
    facts = _facts(Status.AWAITING_RG, None, False)
    outsider = Actor("someone", frozenset({Role.FIRST_RESPONDER}), frozenset(Relation))
    with pytest.raises(Forbidden) as refused:
        check(Command.SUSPEND, facts, outsider)
    assert refused.value.detail == (
        "Only a decision maker of the unit the referral is routed to can suspend the referral."
    )


def test_a_proposer_is_told_who_reviews_instead() -> None:
    facts = _facts(Status.AWAITING_RG, Stage.REASONABLE_GROUNDS, False)
    proposer = Actor("proposer", frozenset({Role.SENIOR_DECISION_MAKER}), frozenset(Relation))
    with pytest.raises(SeparationOfDuties) as refused:
        check(Command.CONFIRM_RG_NEGATIVE, facts, proposer)
    assert refused.value.detail.startswith(
        "Only a senior decision maker who did not propose this decision can review it"
    )
