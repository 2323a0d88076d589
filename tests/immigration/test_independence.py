"""A change to immigration status never changes victim status (DESIGN §5), as a property.

Hypothesis draws a sequence of workflow commands, each chosen from what the referral's state
allows (decide or propose RG and CG, second review, panel review, reconsideration asked and
decided, withdraw, suspend and resume, assign, notes), and applies it to two referrals filed
with forms identical but for their immigration parts (drawn apart: none, or any status). The
second also receives random immigration PUTs between commands. After every step the two
referrals' victim-side state must be equal: each command's answer (status and ETag), the
referral's every column (status, version, deadlines, suspension, routing, assignment), its
decisions (stage, outcome, status, working days, due dates, met, reviews), reconsideration
requests, notes, and its victim-track events — all but ids, references and timestamps, which
differ between two referrals by nature.

Database-backed hypothesis: the function-scoped fixtures (client, cast) are shared by the
examples on purpose (the health check is suppressed for that) and every example files fresh
referrals, so no example sees another's.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.immigration.models import ImmigrationRecord, ImmigrationStatus
from tests.immigration.helpers import put_record, victim_side
from tests.referrals.builders import (
    CG_NEGATIVE,
    CG_POSITIVE,
    RG_NEGATIVE,
    RG_POSITIVE,
    Case,
    Cast,
    file_case,
    make_cast,
    referral_form,
    run,
)

STATUSES = [s.value for s in ImmigrationStatus]
FINAL = frozenset({"cg_positive", "withdrawn"})
DIFFERS_BY_NATURE = frozenset({"id", "referral_id", "reference", "decision_id"})


@dataclass(frozen=True)
class Command:
    """A workflow command as the test sends it: who, where (under the referral), what."""

    actor: str
    path: str
    body: dict[str, Any]


def review(actor: str, agree: bool) -> Command:
    return Command(actor, "decisions/{proposal}/review", {"agree": agree, "comments": "Done."})


def reconsider(actor: str, accept: bool) -> Command:
    body = {"accept": accept, "reasons": "Weighed."}
    return Command(actor, "reconsideration-requests/{request}/decision", body)


WITHDRAW = Command("responder", "withdraw", {"reason": "Moved away."})
NOTE = Command("responder", "notes", {"text": "Further information."})
COMMANDS: dict[str, Command] = {
    "rg_positive": Command("decision_maker", "decisions", RG_POSITIVE),
    "rg_negative": Command("senior", "decisions", RG_NEGATIVE),
    "rg_confirm": review("senior_two", True),
    "rg_reject": review("senior_two", False),
    "cg_positive": Command("decision_maker", "decisions", CG_POSITIVE),
    "cg_negative": Command("decision_maker", "decisions", CG_NEGATIVE),
    "panel_agree": review("panel", True),
    "panel_disagree": review("panel", False),
    "request": Command("responder", "reconsideration-requests", {"grounds": "New evidence."}),
    # The questioned decision was senior's (RG) or decision_maker's (CG): the other decides.
    "rg_accept": reconsider("decision_maker", True),
    "rg_decline": reconsider("decision_maker", False),
    "cg_accept": reconsider("senior", True),
    "cg_decline": reconsider("senior", False),
    "withdraw": WITHDRAW,
    "suspend": Command("decision_maker", "suspend", {"reason": "Missing."}),
    "resume": Command("decision_maker", "resume", {"reason": "Found."}),
    "assign": Command("decision_maker", "assign", {}),
    "note": NOTE,
}


def allowed(state: dict[str, Any]) -> list[str]:
    """The commands the referral's state allows (DESIGN §4); a note where nothing else is."""
    status = state["referral"]["status"]
    proposed = any(d["status"] == "proposed" for d in state["decisions"])
    asked = any(r["status"] == "open" for r in state["requests"])
    by_state: dict[tuple[str, bool], list[str]] = {
        ("awaiting_rg", False): ["rg_positive", "rg_negative", "suspend", "assign", "withdraw"],
        ("awaiting_rg", True): ["rg_confirm", "rg_reject", "withdraw"],
        ("recovery_period", False): ["cg_positive", "cg_negative", "suspend", "withdraw"],
        ("recovery_period", True): ["panel_agree", "panel_disagree", "withdraw"],
        ("rg_negative", False): ["request", "withdraw"],
        ("rg_negative", True): ["rg_accept", "rg_decline"],
        ("cg_negative", False): ["request"],
        ("cg_negative", True): ["cg_accept", "cg_decline"],
        ("suspended", False): ["resume", "withdraw"],
    }
    return by_state.get((status, proposed or asked), ["note"])


def comparable(value: Any) -> Any:
    """A state with what differs between two referrals by nature taken out."""
    if isinstance(value, dict):
        return {
            k: comparable(v)
            for k, v in value.items()
            if k not in DIFFERS_BY_NATURE and not isinstance(v, datetime)
        }
    if isinstance(value, list | tuple):
        return [comparable(v) for v in value]
    return value


async def state_of(db: AsyncSession, case: Case) -> dict[str, Any]:
    state = await victim_side(db, case.id)
    state["events"] = [action for _seq, action, _hash in state["events"]]
    state["stream"] = state["stream"][0] if state["stream"] else None
    return state


def path_for(command: Command, state: dict[str, Any]) -> str:
    proposal = next((d["id"] for d in state["decisions"] if d["status"] == "proposed"), "")
    request = next((r["id"] for r in state["requests"] if r["status"] == "open"), "")
    return command.path.format(proposal=proposal, request=request)


async def apply(
    client: httpx.AsyncClient, cast: Cast, case: Case, state: dict[str, Any], name: str
) -> tuple[int, str | None]:
    command = COMMANDS[name]
    user = getattr(cast, command.actor)
    response = await run(client, user, case, path_for(command, state), command.body)
    return response.status_code, response.headers.get("ETag")


async def change_immigration(
    client: httpx.AsyncClient, db: AsyncSession, cast: Cast, case: Case, status: str
) -> None:
    version = await db.scalar(
        select(ImmigrationRecord.version).where(ImmigrationRecord.referral_id == uuid.UUID(case.id))
    )
    body = {"status": status, "home_office_reference": f"HO-{uuid.uuid4().hex[:8]}"}
    precondition = {"if_match": f'"{version}"'} if version else {"if_none_match": "*"}
    response = await put_record(client, cast.immigration, case.id, body, **precondition)
    assert response.status_code == 200, response.text


def form_with(immigration: str | None) -> dict[str, Any]:
    form = referral_form()
    if immigration is None:
        del form["immigration"]
    else:
        form["immigration"] = {"status": immigration, "home_office_reference": "HO-1"}
    return form


@pytest.fixture
async def cast(app: FastAPI, sessions: async_sessionmaker[AsyncSession]) -> Cast:
    """The people, shared by every example of a test (they are users, not state)."""
    return await make_cast(app, sessions)


immigration_parts = st.one_of(st.none(), st.sampled_from(STATUSES))


@dataclass
class Pair:
    """The two referrals: `a` never touched by the compartment, `b` changed in it."""

    a: Case
    b: Case


async def file_pair(
    client: httpx.AsyncClient, cast: Cast, plain: str | None, changed: str | None
) -> Pair:
    a = await file_case(client, cast.responder, form_with(plain))
    b = await file_case(client, cast.responder, form_with(changed))
    return Pair(a, b)


async def step_both(
    client: httpx.AsyncClient,
    db: AsyncSession,
    cast: Cast,
    pair: Pair,
    name: str,
    puts: list[str],
) -> int:
    """The command on both, then the PUTs on `b`; asserts the two are still alike. Returns the
    command's status code."""
    first = await apply(client, cast, pair.a, await state_of(db, pair.a), name)
    second = await apply(client, cast, pair.b, await state_of(db, pair.b), name)
    assert first == second, name
    for status in puts:
        await change_immigration(client, db, cast, pair.b, status)
    assert pair.a.version == pair.b.version
    assert comparable(await state_of(db, pair.a)) == comparable(await state_of(db, pair.b))
    return first[0]


WALKS: dict[str, list[str]] = {
    "rg_reconsidered_then_cg_declined": [
        "rg_negative", "rg_confirm", "request", "rg_accept", "rg_positive",
        "cg_negative", "panel_agree", "request", "cg_decline", "note",
    ],
    "panel_disagrees_then_suspended": [
        "rg_positive", "cg_negative", "panel_disagree", "suspend", "resume", "cg_positive",
    ],
    "rejected_proposal_then_withdrawn": [
        "assign", "suspend", "resume", "rg_negative", "rg_reject", "rg_positive", "note",
        "withdraw",
    ],
}  # fmt: skip
"""Long walks through every kind of command, run on every test run beside the random ones."""


class TestImmigrationNeverMovesTheWorkflow:
    @settings(
        max_examples=15,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(plain=immigration_parts, changed=immigration_parts, data=st.data())
    async def test_two_referrals_apart_only_in_immigration_stay_identical(
        self,
        client: httpx.AsyncClient,
        db: AsyncSession,
        cast: Cast,
        plain: str | None,
        changed: str | None,
        data: st.DataObject,
    ) -> None:
        pair = await file_pair(client, cast, plain, changed)
        for _ in range(data.draw(st.integers(min_value=2, max_value=10), label="steps")):
            state = await state_of(db, pair.a)
            if state["referral"]["status"] in FINAL:
                break
            name = data.draw(st.sampled_from([*allowed(state), "note"]), label="command")
            puts = data.draw(st.lists(st.sampled_from(STATUSES), max_size=2), label="puts")
            await step_both(client, db, cast, pair, name, puts)

    @pytest.mark.parametrize("walk", WALKS)
    async def test_a_long_walk_stays_identical_step_by_step(
        self, client: httpx.AsyncClient, db: AsyncSession, cast: Cast, walk: str
    ) -> None:
        pair = await file_pair(client, cast, None, "asylum_seeker")
        for index, name in enumerate(WALKS[walk]):
            state = await state_of(db, pair.a)
            assert name in allowed(state) or name == "note", (name, state["referral"]["status"])
            puts = [STATUSES[(index + k) % len(STATUSES)] for k in range(index % 3)]
            code = await step_both(client, db, cast, pair, name, puts)
            assert 200 <= code < 300, (walk, name, code)
