"""The role x state x command matrix, written by hand from API.md and DESIGN §4 (NOT derived
from `workflow.TRANSITIONS`), checked against the service over HTTP.

For each state a fresh referral is driven there through the real commands; then every member of
the cast whose role may do a command tries it. The table lists, per state and command, what each
of them gets: `OK` (it succeeds), `NO` (409 invalid-state), `SOD` (403 separation-of-duties),
`ROLE` (403 forbidden by the workflow's role for this stage, such as a panel member reviewing an
RG proposal) or `GONE` (404: the decision or request in the path does not exist). `OUTSIDERS`
hold the role but cannot see the referral: 404 in every state. Everyone else gets 403 forbidden
before the referral is even looked at (API.md's order), so `TestRoleGate` proves it once, against
a referral that does not exist and one that does, rather than in every state.

Everything runs on one referral per state. Refusals must leave no audit event; each success is
answered and audited as the table says and then undone with a savepoint of the test's, so the
next member meets the same state.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from tests.referrals.builders import (
    CG_POSITIVE,
    RG_POSITIVE,
    STATES,
    Case,
    Cast,
    case_events,
    drive,
    make_cast_quickly,
    run,
)

OK, NO, SOD, ROLE, GONE = "ok", "invalid-state", "separation-of-duties", "forbidden", "not-found"
R, D, SR, S2, P = "responder", "decision_maker", "senior", "senior_two", "panel"

# fmt: off
MATRIX: dict[str, dict[str, dict[str, str]]] = {
    "awaiting_rg": {
        "decide":                 {D: OK, SR: OK},
        "review":                 {SR: GONE, S2: GONE, P: GONE},
        "request_reconsideration": {R: NO},
        "decide_reconsideration": {D: GONE, SR: GONE, S2: GONE},
        "withdraw":               {R: OK, D: OK, SR: OK},
        "suspend":                {D: OK, SR: OK},
        "resume":                 {D: NO, SR: NO},
        "assign":                 {D: OK, SR: OK},
        "record_age":             {D: OK, SR: OK},
        "reroute":                {SR: OK},
        "add_note":               {R: OK, D: OK, SR: OK},
    },
    # `senior` proposed a negative RG decision.
    "rg_proposed": {
        "decide":                 {D: NO, SR: NO},
        "review":                 {SR: SOD, S2: OK, P: ROLE},
        "request_reconsideration": {R: NO},
        "decide_reconsideration": {D: GONE, SR: GONE, S2: GONE},
        "withdraw":               {R: OK, D: OK, SR: OK},
        "suspend":                {D: NO, SR: NO},
        "resume":                 {D: NO, SR: NO},
        "assign":                 {D: OK, SR: OK},
        "record_age":             {D: OK, SR: OK},
        "reroute":                {SR: OK},
        "add_note":               {R: OK, D: OK, SR: OK},
    },
    # `senior_two` confirmed `senior`'s proposal.
    "rg_negative": {
        "decide":                 {D: NO, SR: NO},
        "review":                 {SR: NO, S2: NO, P: ROLE},
        "request_reconsideration": {R: OK},
        "decide_reconsideration": {D: GONE, SR: GONE, S2: GONE},
        "withdraw":               {R: OK, D: OK, SR: OK},
        "suspend":                {D: NO, SR: NO},
        "resume":                 {D: NO, SR: NO},
        "assign":                 {D: OK, SR: OK},
        "record_age":             {D: NO, SR: NO},
        "reroute":                {SR: NO},
        "add_note":               {R: OK, D: OK, SR: OK},
    },
    # The referrer asked to reconsider `senior`'s decision.
    "rg_reconsidering": {
        "decide":                 {D: NO, SR: NO},
        "review":                 {SR: NO, S2: NO, P: ROLE},
        "request_reconsideration": {R: NO},
        "decide_reconsideration": {D: OK, SR: SOD, S2: OK},
        "withdraw":               {R: OK, D: OK, SR: OK},
        "suspend":                {D: NO, SR: NO},
        "resume":                 {D: NO, SR: NO},
        "assign":                 {D: OK, SR: OK},
        "record_age":             {D: NO, SR: NO},
        "reroute":                {SR: NO},
        "add_note":               {R: OK, D: OK, SR: OK},
    },
    # `decision_maker` decided RG positive.
    "recovery_period": {
        "decide":                 {D: OK, SR: OK},
        "review":                 {SR: NO, S2: NO, P: ROLE},
        "request_reconsideration": {R: NO},
        "decide_reconsideration": {D: GONE, SR: GONE, S2: GONE},
        "withdraw":               {R: OK, D: OK, SR: OK},
        "suspend":                {D: OK, SR: OK},
        "resume":                 {D: NO, SR: NO},
        "assign":                 {D: OK, SR: OK},
        "record_age":             {D: OK, SR: OK},
        "reroute":                {SR: OK},
        "add_note":               {R: OK, D: OK, SR: OK},
    },
    # `decision_maker` proposed a negative CG decision.
    "cg_proposed": {
        "decide":                 {D: NO, SR: NO},
        "review":                 {SR: ROLE, S2: ROLE, P: OK},
        "request_reconsideration": {R: NO},
        "decide_reconsideration": {D: GONE, SR: GONE, S2: GONE},
        "withdraw":               {R: OK, D: OK, SR: OK},
        "suspend":                {D: NO, SR: NO},
        "resume":                 {D: NO, SR: NO},
        "assign":                 {D: OK, SR: OK},
        "record_age":             {D: OK, SR: OK},
        "reroute":                {SR: OK},
        "add_note":               {R: OK, D: OK, SR: OK},
    },
    "cg_positive": {
        "decide":                 {D: NO, SR: NO},
        "review":                 {SR: ROLE, S2: ROLE, P: NO},
        "request_reconsideration": {R: NO},
        "decide_reconsideration": {D: GONE, SR: GONE, S2: GONE},
        "withdraw":               {R: NO, D: NO, SR: NO},
        "suspend":                {D: NO, SR: NO},
        "resume":                 {D: NO, SR: NO},
        "assign":                 {D: NO, SR: NO},
        "record_age":             {D: NO, SR: NO},
        "reroute":                {SR: NO},
        "add_note":               {R: OK, D: OK, SR: OK},
    },
    # `panel` agreed with `decision_maker`'s proposal.
    "cg_negative": {
        "decide":                 {D: NO, SR: NO},
        "review":                 {SR: ROLE, S2: ROLE, P: NO},
        "request_reconsideration": {R: OK},
        "decide_reconsideration": {D: GONE, SR: GONE, S2: GONE},
        "withdraw":               {R: NO, D: NO, SR: NO},
        "suspend":                {D: NO, SR: NO},
        "resume":                 {D: NO, SR: NO},
        "assign":                 {D: OK, SR: OK},
        "record_age":             {D: NO, SR: NO},
        "reroute":                {SR: NO},
        "add_note":               {R: OK, D: OK, SR: OK},
    },
    # The referrer asked to reconsider `decision_maker`'s decision.
    "cg_reconsidering": {
        "decide":                 {D: NO, SR: NO},
        "review":                 {SR: ROLE, S2: ROLE, P: NO},
        "request_reconsideration": {R: NO},
        "decide_reconsideration": {D: SOD, SR: OK, S2: OK},
        "withdraw":               {R: NO, D: NO, SR: NO},
        "suspend":                {D: NO, SR: NO},
        "resume":                 {D: NO, SR: NO},
        "assign":                 {D: OK, SR: OK},
        "record_age":             {D: NO, SR: NO},
        "reroute":                {SR: NO},
        "add_note":               {R: OK, D: OK, SR: OK},
    },
    # Suspended from awaiting_rg.
    "suspended": {
        "decide":                 {D: NO, SR: NO},
        "review":                 {SR: GONE, S2: GONE, P: GONE},
        "request_reconsideration": {R: NO},
        "decide_reconsideration": {D: GONE, SR: GONE, S2: GONE},
        "withdraw":               {R: OK, D: OK, SR: OK},
        "suspend":                {D: NO, SR: NO},
        "resume":                 {D: OK, SR: OK},
        "assign":                 {D: OK, SR: OK},
        "record_age":             {D: OK, SR: OK},
        "reroute":                {SR: OK},
        "add_note":               {R: OK, D: OK, SR: OK},
    },
    # Withdrawn from awaiting_rg by the referrer.
    "withdrawn": {
        "decide":                 {D: NO, SR: NO},
        "review":                 {SR: GONE, S2: GONE, P: GONE},
        "request_reconsideration": {R: NO},
        "decide_reconsideration": {D: GONE, SR: GONE, S2: GONE},
        "withdraw":               {R: NO, D: NO, SR: NO},
        "suspend":                {D: NO, SR: NO},
        "resume":                 {D: NO, SR: NO},
        "assign":                 {D: NO, SR: NO},
        "record_age":             {D: NO, SR: NO},
        "reroute":                {SR: NO},
        "add_note":               {R: NO, D: NO, SR: NO},
    },
}
# fmt: on

# Whose role could do the command but who cannot see the referral: 404 (API.md).
OUTSIDERS: dict[str, frozenset[str]] = {
    "decide": frozenset({"other_unit_maker"}),
    "review": frozenset(),
    "request_reconsideration": frozenset({"other_responder"}),
    "decide_reconsideration": frozenset({"other_unit_maker"}),
    "withdraw": frozenset({"other_responder", "other_unit_maker"}),
    "suspend": frozenset({"other_unit_maker"}),
    "resume": frozenset({"other_unit_maker"}),
    "assign": frozenset({"other_unit_maker"}),
    "record_age": frozenset({"other_unit_maker"}),
    "reroute": frozenset(),
    "add_note": frozenset({"other_responder", "other_unit_maker"}),
}
# `senior_two` is a second senior decision maker: they try only the commands where being a
# senior other than `senior` matters (a review, a reconsideration); elsewhere they would only
# repeat `senior`.
SPARE = frozenset({S2})
MEMBERS = (
    R,
    D,
    SR,
    S2,
    P,
    "auditor",
    "immigration",
    "admin",
    "other_responder",
    "other_unit_maker",
)
CREATED = {"decide", "request_reconsideration", "add_note"}  # 201 rather than 200
UNKNOWN = str(uuid.UUID(int=0))


def request_for(command: str, state: str, case: Case, cast: Cast) -> tuple[str, dict[str, Any]]:
    """The path (after /referrals/{id}/) and body with which a member tries `command`."""
    in_recovery = state in {
        "recovery_period",
        "cg_proposed",
        "cg_positive",
        "cg_negative",
        "cg_reconsidering",
    }
    reason = {"reason": "Because."}
    return {
        "decide": ("decisions", CG_POSITIVE if in_recovery else RG_POSITIVE),
        "review": (
            f"decisions/{case.decision_id or UNKNOWN}/review",
            {"agree": True, "comments": "Reviewed."},
        ),
        "request_reconsideration": ("reconsideration-requests", {"grounds": "New evidence."}),
        "decide_reconsideration": (
            f"reconsideration-requests/{case.request_id or UNKNOWN}/decision",
            {"accept": False, "reasons": "Nothing new."},
        ),
        "withdraw": ("withdraw", reason),
        "suspend": ("suspend", reason),
        "resume": ("resume", reason),
        "assign": ("assign", {}),
        "record_age": ("age", {"estimated_age": 30, "reason": "Assessed."}),
        "reroute": ("reroute", {"to": cast.child_panel, "reason": "Better placed."}),
        "add_note": ("notes", {"text": "More information."}),
    }[command]


def permitted(command: str) -> frozenset[str]:
    """The members whose role may do `command` (API.md's "who" column): the rest get 403."""
    return frozenset(MATRIX["awaiting_rg"][command]) | OUTSIDERS[command]


def expected(state: str, command: str, member: str) -> str:
    cell = MATRIX[state][command]
    if member in cell:
        return cell[member]
    return GONE if member in OUTSIDERS[command] else ROLE


async def attempt(
    client: httpx.AsyncClient, cast: Cast, case: Case, state: str, command: str, member: str
) -> httpx.Response:
    path, body = request_for(command, state, case, cast)
    return await run(
        client, getattr(cast, member), case, path, body, if_match=command != "add_note"
    )


def verdict(response: httpx.Response) -> str:
    if response.is_success:
        return OK
    return str(response.json()["type"]).removeprefix("/problems/")


@pytest.fixture
async def cast(app: FastAPI, sessions: async_sessionmaker[AsyncSession]) -> Cast:
    return await make_cast_quickly(app, sessions)


class TestTheTable:
    def test_names_every_state_and_command_once(self) -> None:
        assert set(MATRIX) == set(STATES)
        for row in MATRIX.values():
            assert set(row) == set(OUTSIDERS)

    def test_lists_the_same_members_for_a_command_in_every_state(self) -> None:
        for command in OUTSIDERS:
            assert len({frozenset(MATRIX[s][command]) for s in STATES}) == 1, command


@pytest.mark.parametrize("state", STATES)
class TestMatrix:
    async def test_every_member_gets_what_the_table_says(
        self,
        client: httpx.AsyncClient,
        connection: AsyncConnection,
        db: AsyncSession,
        cast: Cast,
        state: str,
    ) -> None:
        case = await drive(client, cast, state)
        before = len(await case_events(db, case))
        wrong: list[str] = []
        for command in MATRIX[state]:
            for member in sorted(permitted(command)):
                want = expected(state, command, member)
                if want == OK:
                    got = await succeeds(client, connection, db, cast, case, state, command, member)
                else:
                    got = verdict(await attempt(client, cast, case, state, command, member))
                if got != want:
                    wrong.append(f"{command} by {member}: {got}, table says {want}")
        assert not wrong, "\n".join(wrong)
        assert len(await case_events(db, case)) == before, "a refusal wrote an event"


async def succeeds(
    client: httpx.AsyncClient,
    connection: AsyncConnection,
    db: AsyncSession,
    cast: Cast,
    case: Case,
    state: str,
    command: str,
    member: str,
) -> str:
    """Run a command the table says succeeds, check its answer and its one event, then undo it.

    The request commits for real (its own savepoint); a savepoint of the test's around it puts
    the referral back in `state` afterwards, as if freshly driven there, for the next member.
    """
    kept = dataclasses.replace(case)
    undo = await connection.begin_nested()
    try:
        count = len(await case_events(db, case))
        response = await attempt(client, cast, case, state, command, member)
        if response.is_success:
            assert response.status_code == (201 if command in CREATED else 200)
            assert len(await case_events(db, case)) == count + 1, f"{command} by {member}"
        return verdict(response)
    finally:
        await undo.rollback()
        case.version, case.decision_id, case.request_id = (
            kept.version, kept.decision_id, kept.request_id,
        )  # fmt: skip


class TestRoleGate:
    async def test_refuses_a_role_that_may_never_do_it_before_looking_for_the_referral(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        nowhere = Case(id=UNKNOWN, reference="", version=1)
        existing = await drive(client, cast, "awaiting_rg")
        wrong = []
        for case in (nowhere, existing):
            for command in MATRIX["awaiting_rg"]:
                for member in sorted(set(MEMBERS) - permitted(command) - SPARE):
                    response = await attempt(client, cast, case, "awaiting_rg", command, member)
                    if verdict(response) != ROLE:
                        wrong.append(f"{command} by {member}: {response.status_code}")
        assert not wrong, "\n".join(wrong)
