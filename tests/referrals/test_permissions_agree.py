"""The role gate (`ROLE_PERMISSIONS`, 403 before visibility) and the transition table agree,
both ways: every role the table lets run a command passes the route's gate, and no role passes
a gate for which the table has no row (issue 10, item 4). Pure: no database."""

from __future__ import annotations

import pytest

from app.identity.permissions import ROLE_PERMISSIONS, Permission
from app.identity.roles import Role, effective_roles
from app.referrals.workflow import Command, roles_for

C = Command
# The gate each workflow route puts before its command (app.referrals.workflow_router).
GATES: dict[Permission, frozenset[Command]] = {
    Permission.DECIDE: frozenset(
        {C.DECIDE_RG_POSITIVE, C.PROPOSE_RG_NEGATIVE, C.DECIDE_CG_POSITIVE, C.PROPOSE_CG_NEGATIVE}
    ),
    Permission.REVIEW: frozenset(
        {C.CONFIRM_RG_NEGATIVE, C.REJECT_RG_NEGATIVE, C.PANEL_AGREE, C.PANEL_DISAGREE}
    ),
    Permission.REQUEST_RECONSIDERATION: frozenset({C.REQUEST_RECONSIDERATION}),
    Permission.DECIDE_RECONSIDERATION: frozenset(
        {C.ACCEPT_RECONSIDERATION, C.DECLINE_RECONSIDERATION}
    ),
    Permission.WITHDRAW: frozenset({C.WITHDRAW}),
    Permission.SUSPEND: frozenset({C.SUSPEND, C.RESUME}),
    Permission.ASSIGN: frozenset({C.ASSIGN}),
    Permission.RECORD_AGE: frozenset({C.RECORD_AGE}),
    Permission.REROUTE: frozenset({C.REROUTE}),
    Permission.ADD_NOTE: frozenset({C.ADD_NOTE}),
}


def holders(roles: frozenset[Role]) -> frozenset[Role]:
    """Every role whose holder acts with one of `roles` (a senior acts as a decision maker)."""
    return frozenset(role for role in Role if effective_roles({role}) & roles)


def test_every_command_of_the_table_has_one_gate() -> None:
    gated = [command for commands in GATES.values() for command in commands]
    assert sorted(gated) == sorted(Command)


@pytest.mark.parametrize("permission", list(GATES))
def test_the_gate_lets_in_exactly_the_roles_the_table_names(permission: Permission) -> None:
    table = frozenset().union(*(roles_for(command) for command in GATES[permission]))
    assert holders(ROLE_PERMISSIONS[permission]) == holders(table)
