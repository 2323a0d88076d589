"""The leak test's table of examples: for every route of the OpenAPI schema, how to call it
(path parameters, body, query, headers) around the canary referrals, and how those referrals
are arranged through the real commands. `tests/test_separation.py` calls each example as every
caller and judges the answers.

**Adding a route?** The leak test fails until `EXAMPLES` has an entry for it, keyed by
(METHOD, path exactly as in the schema): an `@example` function returning the calls for a
caller, such that at least one caller gets a 2xx. A route that changes state gets a target
referral of its own in `TARGETS`, so the order in which routes are called stays free.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit import checkpoints
from app.clock import real_now
from app.identity.roles import Role
from app.immigration.models import ImmigrationRecord
from app.letters.models import Letter
from app.notifications.models import Notification
from app.referrals.models import Referral
from tests.factories import PASSWORD, AppUser, make_user
from tests.immigration.helpers import RARE_STATUS, canary_form, canary_reference
from tests.referrals import builders
from tests.referrals.builders import (
    RG_POSITIVE,
    Case,
    Cast,
    file_case,
    make_cast,
    referral_form,
    service_date,
)

API = "/api/v1"

TARGETS: dict[str, str] = {
    "awaiting": "awaiting_rg",
    "rg_proposed": "rg_proposed",
    "cg_proposed": "cg_proposed",
    "reconsidering": "rg_reconsidering",
    "rg_negative": "rg_negative",
    "suspended": "suspended",
    "to_decide": "awaiting_rg",
    "to_withdraw": "awaiting_rg",
    "to_suspend": "awaiting_rg",
    "to_assign": "awaiting_rg",
    "to_age": "awaiting_rg",
    "to_reroute": "awaiting_rg",
}
"""The referrals filed with canaries, each brought to a state through the real commands; a
command's route gets a target of its own, so the order in which routes are called is free."""

RICH = ("awaiting", "cg_proposed", "reconsidering")
"""Targets with decisions, reviews, notes and reconsideration requests for the reads."""


@dataclass
class Call:
    """One request of a route: its path parameters, body, query and extra headers."""

    path: dict[str, str] = field(default_factory=dict)
    json: Any = None
    data: dict[str, str] | None = None
    params: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class World:
    """Everything the examples need: the people, the targets and the canary token."""

    db: AsyncSession
    cast: Cast
    token: str
    cases: dict[str, Case]
    canary_of: dict[str, int]
    spare_user: uuid.UUID
    today: date
    bare_referral: str
    counter: int = 1000

    def next_n(self) -> int:
        self.counter += 1
        return self.counter

    async def if_match(self, target: str) -> dict[str, str]:
        version = await self.db.scalar(
            select(Referral.version).where(Referral.id == uuid.UUID(self.cases[target].id))
        )
        return {"If-Match": f'"{version}"'}


Example = Callable[[World, str, AppUser | None], Awaitable[list[Call]]]
EXAMPLES: dict[tuple[str, str], Example] = {}


def example(method: str, path: str) -> Callable[[Example], Example]:
    def register(build: Example) -> Example:
        EXAMPLES[(method, path)] = build
        return build

    return register


def on(world: World, *targets: str, **extra: str) -> list[dict[str, str]]:
    return [{"referral_id": world.cases[t].id, **extra} for t in targets]


# --- Operations, identity ---------------------------------------------------------------


@example("GET", "/healthz")
@example("GET", "/readyz")
@example("GET", "/metrics")
@example("GET", f"{API}/me")
@example("GET", f"{API}/organisations")
@example("GET", f"{API}/referrals")
@example("GET", f"{API}/queue")
@example("GET", f"{API}/audit/verify")
@example("GET", f"{API}/audit/checkpoints/latest")
@example("GET", f"{API}/test-clock")
@example("GET", f"{API}/notifications")
async def plain(_world: World, _caller: str, _user: AppUser | None) -> list[Call]:
    return [Call()]


@example("GET", f"{API}/audit/events")
async def audit_events(_world: World, _caller: str, _user: AppUser | None) -> list[Call]:
    return [Call(params={"limit": 200})]  # every page is followed


@example("POST", f"{API}/test-clock")
async def clock(_world: World, _caller: str, _user: AppUser | None) -> list[Call]:
    return [Call(json={"advance_days": 0})]


@example("POST", f"{API}/auth/token")
async def log_in(_world: World, _caller: str, user: AppUser | None) -> list[Call]:
    # No user: a failed log-in, whose event must not hold the canary either.
    username = user.username if user else "nobody"
    return [Call(data={"username": username, "password": PASSWORD if user else "wrong-password"})]


@example("POST", f"{API}/organisations")
async def new_organisation(world: World, _caller: str, _user: AppUser | None) -> list[Call]:
    code = f"org-{world.next_n()}"
    return [Call(json={"code": code, "name": f"Charity {code}", "sector": "charity"})]


@example("POST", f"{API}/users")
async def new_user(world: World, _caller: str, _user: AppUser | None) -> list[Call]:
    body = {
        "username": f"user-{world.next_n()}",
        "display_name": "New User",
        "password": PASSWORD,
        "organisation": "south-wales-police",
        "roles": ["first_responder"],
    }
    return [Call(json=body)]


@example("PATCH", f"{API}/me")
async def choose_language(_world: World, _caller: str, _user: AppUser | None) -> list[Call]:
    return [Call(json={"language": "cy"})]


@example("PATCH", f"{API}/users/{{user_id}}")
async def change_user(world: World, _caller: str, _user: AppUser | None) -> list[Call]:
    return [Call(path={"user_id": str(world.spare_user)}, json={"active": True})]


@example("PATCH", f"{API}/organisations/{{code}}")
async def set_mailbox(_world: World, _caller: str, _user: AppUser | None) -> list[Call]:
    return [Call(path={"code": "south-wales-police"}, json={"email": "team@example.org"})]


@example("POST", f"{API}/notifications/{{notification_id}}/retry")
async def retry_notification(world: World, _caller: str, _user: AppUser | None) -> list[Call]:
    """A notification of the canary referrals, failed here (no worker runs in this test)."""
    row = await world.db.scalar(select(Notification).where(Notification.status == "queued"))
    if row is None:
        return []
    row.status, row.last_error = "failed", "refused by the test"
    await world.db.commit()
    return [Call(path={"notification_id": str(row.id)})]


# --- Intake -------------------------------------------------------------------------------


@example("POST", f"{API}/referrals")
async def new_referral(world: World, _caller: str, _user: AppUser | None) -> list[Call]:
    n = world.next_n()
    key = {"Idempotency-Key": f"leak-{n}"}  # the stored replay must not hold the canary
    return [Call(json=canary_form(world.token, n), headers=key)]


@example("POST", f"{API}/duty-to-notify")
async def new_report(_world: World, _caller: str, _user: AppUser | None) -> list[Call]:
    form = referral_form()
    body = {
        "gender": "male",
        "nationality": "VN",
        "exploitation": {
            k: form["exploitation"][k] for k in ("types", "location", "local_authority")
        },
    }
    return [Call(json=body)]


# --- Referral reads -----------------------------------------------------------------------


@example("GET", f"{API}/referrals/{{referral_id}}")
@example("GET", f"{API}/referrals/{{referral_id}}/outcome")
@example("GET", f"{API}/referrals/{{referral_id}}/timeline")
@example("GET", f"{API}/referrals/{{referral_id}}/immigration")
async def rich_reads(world: World, _caller: str, _user: AppUser | None) -> list[Call]:
    return [Call(path=p) for p in on(world, *RICH)]


@example("GET", f"{API}/referrals/{{referral_id}}/letters/{{letter_id}}")
async def letters(world: World, _caller: str, _user: AppUser | None) -> list[Call]:
    """Every letter of the rich targets (a positive and a negative one), read as a PDF."""
    calls: list[Call] = []
    for target in RICH:
        referral_id = uuid.UUID(world.cases[target].id)
        found = await world.db.scalars(select(Letter.id).where(Letter.referral_id == referral_id))
        for letter_id in found.all():
            calls += [Call(path=p) for p in on(world, target, letter_id=str(letter_id))]
    return calls


# --- Commands: each on a target of its own --------------------------------------------------


async def command(world: World, target: str, body: dict[str, Any], **extra: str) -> list[Call]:
    [path] = on(world, target, **extra)
    return [Call(path=path, json=body, headers=await world.if_match(target))]


@example("POST", f"{API}/referrals/{{referral_id}}/decisions")
async def decide(world: World, _caller: str, _user: AppUser | None) -> list[Call]:
    return await command(world, "to_decide", RG_POSITIVE)


@example("POST", f"{API}/referrals/{{referral_id}}/decisions/{{decision_id}}/review")
async def review(world: World, _caller: str, _user: AppUser | None) -> list[Call]:
    body = {"agree": True, "comments": "Reviewed."}
    calls: list[Call] = []
    for target in ("rg_proposed", "cg_proposed"):  # senior_two reviews one, the panel the other
        decision_id = world.cases[target].decision_id or ""
        calls += await command(world, target, body, decision_id=decision_id)
    return calls


@example("POST", f"{API}/referrals/{{referral_id}}/reconsideration-requests")
async def request_reconsideration(world: World, _c: str, _u: AppUser | None) -> list[Call]:
    return await command(world, "rg_negative", {"grounds": "New evidence."})


@example(
    "POST", f"{API}/referrals/{{referral_id}}/reconsideration-requests/{{request_id}}/decision"
)
async def decide_reconsideration(world: World, _c: str, _u: AppUser | None) -> list[Call]:
    request_id = world.cases["reconsidering"].request_id or ""
    body = {"accept": False, "reasons": "The grounds change nothing."}
    return await command(world, "reconsidering", body, request_id=request_id)


@example("POST", f"{API}/referrals/{{referral_id}}/withdraw")
async def withdraw(world: World, _caller: str, _user: AppUser | None) -> list[Call]:
    return await command(world, "to_withdraw", {"reason": "Moved away."})


@example("POST", f"{API}/referrals/{{referral_id}}/suspend")
async def suspend(world: World, _caller: str, _user: AppUser | None) -> list[Call]:
    return await command(world, "to_suspend", {"reason": "Missing."})


@example("POST", f"{API}/referrals/{{referral_id}}/resume")
async def resume(world: World, _caller: str, _user: AppUser | None) -> list[Call]:
    return await command(world, "suspended", {"reason": "Found."})


@example("POST", f"{API}/referrals/{{referral_id}}/assign")
async def assign(world: World, _caller: str, _user: AppUser | None) -> list[Call]:
    return await command(world, "to_assign", {})


@example("POST", f"{API}/referrals/{{referral_id}}/age")
async def record_age(world: World, _caller: str, _user: AppUser | None) -> list[Call]:
    return await command(world, "to_age", {"estimated_age": 30, "reason": "Assessed."})


@example("POST", f"{API}/referrals/{{referral_id}}/reroute")
async def reroute(world: World, _caller: str, _user: AppUser | None) -> list[Call]:
    return await command(world, "to_reroute", {"to": world.cast.child_panel, "reason": "Moved."})


@example("POST", f"{API}/referrals/{{referral_id}}/notes")
async def note(world: World, _caller: str, _user: AppUser | None) -> list[Call]:
    return [Call(path=p, json={"text": "Further information."}) for p in on(world, *RICH)]


# --- The compartment ------------------------------------------------------------------------


@example("PUT", f"{API}/referrals/{{referral_id}}/immigration")
async def put_immigration(world: World, _caller: str, _user: AppUser | None) -> list[Call]:
    target = world.cases["awaiting"].id
    version = await world.db.scalar(
        select(ImmigrationRecord.version).where(ImmigrationRecord.referral_id == uuid.UUID(target))
    )
    change = {"status": RARE_STATUS, "home_office_reference": lookup_reference(world)}
    create = {"status": RARE_STATUS, "home_office_reference": canary_reference(world.token, 1)}
    return [
        Call(path={"referral_id": target}, json=change, headers={"If-Match": f'"{version}"'}),
        Call(
            path={"referral_id": world.bare_referral}, json=create, headers={"If-None-Match": "*"}
        ),
    ]


def lookup_reference(world: World) -> str:
    return canary_reference(world.token, world.canary_of["awaiting"])


@example("GET", f"{API}/immigration/lookup")
async def lookup(world: World, _caller: str, _user: AppUser | None) -> list[Call]:
    return [Call(params={"home_office_reference": lookup_reference(world)})]


# --- Statistics (API.md "Statistics"; entries ready for when the routes exist) --------------


@example("GET", f"{API}/statistics/referrals")
@example("GET", f"{API}/statistics/decisions")
@example("GET", f"{API}/statistics/disparities")
async def statistics(world: World, _caller: str, _user: AppUser | None) -> list[Call]:
    period = {"from": str(world.today - timedelta(days=365)), "to": str(world.today)}
    return [Call(params={**period, "by": by}) for by in ("sector", "immigration_status")]


@example("GET", f"{API}/statistics/report")
async def statistics_report(world: World, _caller: str, _user: AppUser | None) -> list[Call]:
    return [Call(params={"from": str(world.today - timedelta(days=365)), "to": str(world.today)})]


# --- Arranging --------------------------------------------------------------------------------


async def drive_with_canary(
    client: httpx.AsyncClient, cast: Cast, state: str, form: dict[str, Any]
) -> Case:
    """`builders.drive`, but filing the canary form: the same steps through the real commands."""
    case = await file_case(client, cast.responder, form)
    for name in builders._STEPS[state]:
        await builders._STEP_ACTIONS[name](client, cast, case)
    return case


async def arrange(
    app: FastAPI,
    sessions: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
    db: AsyncSession,
) -> World:
    cast = await make_cast(app, sessions)
    token = uuid.uuid4().hex
    cases: dict[str, Case] = {}
    canary_of: dict[str, int] = {}
    for n, (name, state) in enumerate(TARGETS.items(), start=10):
        cases[name] = await drive_with_canary(client, cast, state, canary_form(token, n))
        canary_of[name] = n
    for name in RICH:  # content for the reads: notes from both sides
        await builders.step(client, cast.responder, cases[name], "notes", {"text": "More."})
    await builders.step(
        client, cast.decision_maker, cases["cg_proposed"], "notes", {"text": "Seen."}
    )
    bare = referral_form()
    del bare["immigration"]
    bare_case = await file_case(client, cast.responder, bare)
    async with sessions() as session:
        spare = await make_user(app, session, Role.FIRST_RESPONDER, organisation="gwent-police")
    await checkpoints.make_checkpoint(sessions, app.state.settings, now=real_now())
    today = await service_date(client, cast.responder)
    return World(db, cast, token, cases, canary_of, spare.id, today, bare_case.id)
